// Form pieces shared by the registry, rules, maintenance and users screens: a labelled field with
// its API message under it, the form's general message, and a secret shown once.
import type { ComponentChildren, JSX } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
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
  const ref = useRef<HTMLElement>(null)
  // Opened from a row far down a list (or on a phone), the form would otherwise be off screen.
  useEffect(() => ref.current?.scrollIntoView({ block: 'nearest' }), [])
  return (
    <section class="card panel" id={id} aria-label={title} ref={ref}>
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
  const box = useRef<HTMLDivElement>(null)
  // A rotation is pressed in a row far down the list: bring the secret to the user.
  useEffect(() => box.current?.scrollIntoView({ block: 'nearest' }), [value])
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value)
      setCopied(true)
    } catch {
      // No clipboard permission (plain http): select it so Ctrl+C / long-press copies it.
      const input = document.getElementById('secret-value') as HTMLTextAreaElement | null
      input?.select()
    }
  }
  return (
    <div class="secret card" role="alert" id="secret" ref={box}>
      <p class="warn">
        <strong>{t('secret.once')}</strong> {t('secret.warning')}
      </p>
      <label for="secret-value">{label}</label>
      <div class="secret-row">
        <textarea id="secret-value" readOnly rows={2} value={value} onFocus={(e) => e.currentTarget.select()} />
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

type Aria = { id: string; 'aria-invalid'?: true; 'aria-describedby'?: string }

/** A select of `[value, text]` pairs with a first empty choice; `onPick` gets the chosen value. */
export function Choice({ a, value, onPick, empty, options, required, disabled }: { a: Aria; value: string; onPick: (v: string) => void; empty?: string; options: readonly (readonly [string, string])[]; required?: boolean; disabled?: boolean }) {
  return (
    <select {...a} required={required} disabled={disabled} value={value} onChange={(e) => onPick(e.currentTarget.value)}>
      {empty !== undefined && <option value="">{empty}</option>}
      {options.map(([v, text]) => (
        <option key={v} value={v}>
          {text}
        </option>
      ))}
    </select>
  )
}

/** A list table (cards on a phone) whose last column holds each row's buttons. */
export function ListTable({ id, heads, children }: { id: string; heads: string[]; children: ComponentChildren }) {
  return (
    <table class="alerts" id={id}>
      <thead>
        <tr>
          {heads.map((h) => (
            <th key={h}>{h}</th>
          ))}
          <th>
            <span class="sr-only">{t('form.actions')}</span>
          </th>
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  )
}

/** The row's "Edit" button, named after the row for a screen reader. */
export const EditButton = ({ name, onClick }: { name: string; onClick: () => void }) => (
  <button type="button" onClick={onClick} aria-label={t('form.editOf', { name })}>
    {t('form.edit')}
  </button>
)

/** The screen's "New …" button above its list. */
export const NewButton = ({ id, label, onClick, children }: { id: string; label: string; onClick: () => void; children?: ComponentChildren }) => (
  <div class="bar">
    <button type="button" class="primary" id={id} onClick={onClick}>
      {label}
    </button>
    {children}
  </div>
)

/** A failed action's message (empty: nothing shown). */
export const ErrorLine = ({ text }: { text: string }) => (
  <p class="error" role="alert">
    {text}
  </p>
)

interface TextFieldProps<F extends Record<string, string>> {
  /** The form's name: ids are `${form}-${name}`. */
  form: string
  name: keyof F & string
  label: string
  f: F
  setF: (next: F) => void
  problems: Problems
  readOnly?: boolean
  required?: boolean
  inputMode?: 'decimal' | 'numeric'
  maxLength?: number
  hint?: string
}

/** A text input bound to one field of a form's state, with the API's message for that field. */
export function TextField<F extends Record<string, string>>({ form, name, label, f, setF, problems, hint, ...extra }: TextFieldProps<F>) {
  return (
    <Field id={`${form}-${name}`} label={label} error={problems.fields[name]} hint={hint}>
      {(a) => <input {...a} {...extra} value={f[name]} onInput={(e) => setF({ ...f, [name]: e.currentTarget.value })} />}
    </Field>
  )
}

interface FormPanelProps {
  title: string
  id: string
  problems: Problems
  busy: boolean
  submit: string
  onSubmit: (e: Event) => void
  onCancel?: () => void
  /** Shown between the heading and the fields. */
  note?: string
  head?: ComponentChildren
  children: ComponentChildren
}

/** A create or edit form in its panel: the fields, the general problems, save and cancel. */
export function FormPanel({ title, id, problems, busy, submit, onSubmit, onCancel, note, head, children }: FormPanelProps) {
  return (
    <Panel title={title} id={id}>
      {note && <p class="muted small">{note}</p>}
      {head}
      <form class="grid-form" onSubmit={onSubmit} noValidate>
        {children}
        <General problems={problems} />
        <Buttons busy={busy} submit={submit} onCancel={onCancel} />
      </form>
    </Panel>
  )
}

/** The id (fixed once registered) and the name every registry row has. */
export function IdAndName<F extends Record<string, string> & { id: string; name: string }>({ bound, editing }: { bound: Omit<TextFieldProps<F>, 'name' | 'label'>; editing: boolean }) {
  return (
    <>
      <TextField {...bound} name="id" label={t('form.id')} readOnly={editing} required />
      <TextField {...bound} name="name" label={t('form.name')} required />
    </>
  )
}
