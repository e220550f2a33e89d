// Sign-in with the token an administrator issued (`housing-brain user add …` or the users API).
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.ts'
import { ApiError } from '../lib/api.ts'
import { signIn } from '../lib/session.ts'
import { LangSwitch } from './LangSwitch.tsx'

export function SignIn() {
  const [value, setValue] = useState('')
  const [error, setError] = useState<string | null>(null)
  const submit = async (e: Event) => {
    e.preventDefault()
    setError(null)
    try {
      await signIn(value.trim())
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? t('signin.failed') : t('common.error', { message: String(err) }))
    }
  }
  return (
    <main class="signin">
      <form id="login-form" class="card" onSubmit={(e) => void submit(e)}>
        <div class="signin-head">
          <h1>{t('app.name')}</h1>
          <LangSwitch />
        </div>
        <p class="muted">{t('app.tagline')}</p>
        <label for="token">{t('signin.token')}</label>
        <input id="token" type="password" autocomplete="current-password" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <p class="muted small">{t('signin.help')}</p>
        <p id="login-error" class="error" role="alert">
          {error ?? ''}
        </p>
        <button type="submit" class="primary big">
          {t('signin.submit')}
        </button>
      </form>
    </main>
  )
}
