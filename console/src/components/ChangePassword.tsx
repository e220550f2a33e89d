// Changing one's own password: owed after an admin's one-time password (nothing else works until
// it is done), or asked for from the header. The rules are the API's (core/passwords.ts); the
// form repeats them in the page's language and shows the API's refusal under the field it concerns.
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.ts'
import { ApiError } from '../lib/api.ts'
import { changePassword, signOut } from '../lib/session.ts'
import { Field } from './Form.tsx'
import { LangSwitch } from './LangSwitch.tsx'

export function ChangePassword({ forced }: { forced: boolean }) {
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [repeat, setRepeat] = useState('')
  const [errors, setErrors] = useState<{ current?: string; next?: string; repeat?: string; general?: string }>({})
  const [done, setDone] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setDone(false)
    if (next !== repeat) return setErrors({ repeat: t('password.mismatch') })
    setErrors({})
    try {
      await changePassword(current, next)
      setCurrent('')
      setNext('')
      setRepeat('')
      setDone(true)
    } catch (err) {
      if (err instanceof ApiError && err.code === 'wrong_password') setErrors({ current: t('password.wrongCurrent') })
      else if (err instanceof ApiError && err.code === 'weak_password') setErrors({ next: t('password.weak') })
      else if (err instanceof ApiError && err.code === 'password_unchanged') setErrors({ next: t('password.same') })
      else if (err instanceof ApiError && err.status === 429) setErrors({ general: t('signin.throttled') })
      else setErrors({ general: t('common.error', { message: String(err) }) })
    }
  }
  const form = (
    <form id="password-change" class="card" onSubmit={(e) => void submit(e)}>
      <div class="signin-head">
        {forced ? <h1>{t('password.title')}</h1> : <h2>{t('password.title')}</h2>}
        {forced && <LangSwitch />}
      </div>
      {forced && <p class="notice">{t('password.forced')}</p>}
      <Field id="current-password" label={t('password.current')} error={errors.current}>
        {(a) => <input {...a} class="big" type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />}
      </Field>
      <Field id="new-password" label={t('password.next')} error={errors.next} hint={t('password.rules')}>
        {(a) => <input {...a} class="big" type="password" autocomplete="new-password" required value={next} onInput={(e) => setNext(e.currentTarget.value)} />}
      </Field>
      <Field id="repeat-password" label={t('password.repeat')} error={errors.repeat}>
        {(a) => <input {...a} class="big" type="password" autocomplete="new-password" required value={repeat} onInput={(e) => setRepeat(e.currentTarget.value)} />}
      </Field>
      <p class="error" role="alert">
        {errors.general ?? ''}
      </p>
      {done && (
        <p class="notice" role="status">
          {t('password.done')}
        </p>
      )}
      <div class="row-buttons">
        <button type="submit" class="primary big">
          {t('password.submit')}
        </button>
        {forced && (
          <button type="button" class="ghost" onClick={signOut}>
            {t('signout')}
          </button>
        )}
      </div>
    </form>
  )
  return forced ? <main class="signin">{form}</main> : form
}
