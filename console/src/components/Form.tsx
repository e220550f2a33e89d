// Form pieces shared by the registry, rules, maintenance and users screens: a labelled field with
// its API message under it, the form's general message, and a secret shown once.
import type { ComponentChildren, JSX } from 'preact'
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.ts'
import type { Problems } from '../lib/forms.ts'

interface FieldProps {
  id: string
  label: string
  error?: string | undefined
  hint?: string
  /** Receives the attributes that tie the input to its label, hint and message. */
  children: (a: { id: string; 'aria-invalid'?: true; 'aria-describedby'?: string }) => JSX.Element
}

export function Field({ id, label, error, hint, children }: FieldProps) {
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ')
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children({ id, ...(error ? { 'aria-invalid': true as const } : {}), ...(described ? { 'aria-describedby': described } : {}) })}
      {hint && (
        <small id={`${id}-hint`} class="muted">
          {hint}
        </small>
      )}
      {error && (
        <p id={`${id}-error`} class="field-error" data-field-error={id}>
          {error}
        </p>
      )}
    </div>
  )
}

/** The problems no field shows, above the buttons. */
export function General({ problems }: { problems: Problems }) {
  return (
    <p class="error form-error" role="alert">
      {problems.general}
    </p>
  )
}

export function Buttons({ busy, submit, onCancel }: { busy: boolean; submit: string; onCancel?: () => void }) {
  return (
    <div class="buttons">
      <button type="submit" class="primary" disabled={busy}>
        {submit}
      </button>
      {onCancel && (
        <button type="button" onClick={onCancel}>
          {t('form.cancel')}
        </button>
      )}
    </div>
  )
}

/** A panel with a heading: the create and edit forms. */
export function Panel({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card panel" id={id} aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  )
}

/**
 * A secret the API returns once (device password, user token): shown with a copy button and a
 * warning until the user says it is saved; it is never stored by the console.
 */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value)
      setCopied(true)
    } catch {
      // No clipboard permission (plain http): select it so Ctrl+C / long-press copies it.
      const input = document.getElementById('secret-value') as HTMLInputElement | null
      input?.select()
    }
  }
  return (
    <div class="secret card" role="alert" id="secret">
      <p class="warn">
        <strong>{t('secret.once')}</strong> {t('secret.warning')}
      </p>
      <label for="secret-value">{label}</label>
      <div class="secret-row">
        <input id="secret-value" readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" id="secret-copy" onClick={() => void copy()}>
          {copied ? t('secret.copied') : t('secret.copy')}
        </button>
      </div>
      <button type="button" class="primary" id="secret-done" onClick={onDone}>
        {t('secret.done')}
      </button>
    </div>
  )
}

/** A two-step button for what cannot be undone: the first press asks, the second acts. */
export function Confirm({ label, confirm, onConfirm, class: cls }: { label: string; confirm: string; onConfirm: () => void; class?: string }) {
  const [asking, setAsking] = useState(false)
  return asking ? (
    <button type="button" class={`danger ${cls ?? ''}`} onClick={() => (setAsking(false), onConfirm())} onBlur={() => setAsking(false)}>
      {confirm}
    </button>
  ) : (
    <button type="button" class={cls} onClick={() => setAsking(true)}>
      {label}
    </button>
  )
}
