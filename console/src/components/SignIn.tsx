// Sign-in: WeCom (企业微信) or DingTalk (钉钉) first where the server offers them — the crew's phones
// have one — then a
// user name and password (a session cookie) — then, with one-time codes on, the code of the
// authenticator app — or, as the secondary way, the token an administrator issued
// (`housing-brain users add …` or the users API), for whoever has one.
import { useEffect, useState } from 'preact/hooks'
import { t, tMaybe } from '../i18n/index.ts'
import { ApiError } from '../lib/api.ts'
import { redirected, signIn, signInProviders, signInWithCode, signInWithPassword } from '../lib/session.ts'
import { LangSwitch } from './LangSwitch.tsx'

/** What a refused sign-in says: the API's 401 and 429 in the page's language, anything else as it came. */
function refusal(err: unknown, unauthorized: string): string {
  if (err instanceof ApiError && err.status === 401) return err.code === 'user_disabled' ? t('signin.disabled') : unauthorized
  if (err instanceof ApiError && err.status === 429) return t('signin.throttled')
  return t('common.error', { message: String(err) })
}

/** Why WeCom or DingTalk sent the browser back unsigned-in (the API's code), in the page's language. */
function ssoRefusal(code: string): string {
  return tMaybe(`signin.sso.${code}`) ?? t('signin.sso.other', { code })
}

export function SignIn() {
  const [providers, setProviders] = useState({ wecom: false, dingtalk: false })
  const [ssoError] = useState(redirected.error)
  useEffect(() => {
    void signInProviders().then(setProviders)
  }, [])
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const [value, setValue] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [tokenError, setTokenError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  /** Set once the password was right and a one-time code is owed. */
  const [ticket, setTicket] = useState<string | null>(null)
  const [code, setCode] = useState('')
  const submitPassword = async (e: Event) => {
    e.preventDefault()
    setError(null)
    setBusy(true)
    try {
      const answer = await signInWithPassword(name.trim(), password)
      if ('ticket' in answer) {
        setTicket(answer.ticket)
        setPassword('')
        setBusy(false)
      }
    } catch (err) {
      setError(refusal(err, t('signin.wrong')))
      setBusy(false)
    }
  }
  const submitCode = async (e: Event) => {
    e.preventDefault()
    setError(null)
    setBusy(true)
    try {
      await signInWithCode(ticket ?? '', code)
    } catch (err) {
      setBusy(false)
      setCode('')
      // The ticket is gone (5 minutes, too many wrong codes): the password is asked again.
      if (err instanceof ApiError && err.code === 'totp_ticket_invalid') {
        setTicket(null)
        setError(t('totp.ticketExpired'))
      } else setError(refusal(err, t('totp.wrongCode')))
    }
  }
  if (ticket !== null) {
    return (
      <main class="signin">
        <div class="signin-stack">
        <form id="code-form" class="card" onSubmit={(e) => void submitCode(e)}>
          <div class="signin-head">
            <h1>{t('totp.signinTitle')}</h1>
            <LangSwitch />
          </div>
          <p class="muted">{t('totp.signinHelp')}</p>
          <label for="totp-code">{t('totp.code')}</label>
          <input
            id="totp-code"
            class="big"
            autocomplete="one-time-code"
            autocapitalize="none"
            spellcheck={false}
            maxLength={20}
            required
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
          <p id="code-error" class="error" role="alert">
            {error ?? ''}
          </p>
          <div class="row-buttons">
            <button type="submit" class="primary big" disabled={busy}>
              {t('totp.signinSubmit')}
            </button>
            <button type="button" class="ghost" onClick={() => {
                setTicket(null)
                setError(null)
              }}>
              {t('totp.back')}
            </button>
          </div>
        </form>
        </div>
      </main>
    )
  }
  const submitToken = async (e: Event) => {
    e.preventDefault()
    setTokenError(null)
    try {
      await signIn(value.trim())
    } catch (err) {
      setTokenError(refusal(err, t('signin.failed')))
    }
  }
  return (
    <main class="signin">
      <div class="signin-stack">
        <form id="password-form" class="card" onSubmit={(e) => void submitPassword(e)}>
          <div class="signin-head">
            <h1>{t('app.name')}</h1>
            <LangSwitch />
          </div>
          <p class="muted">{t('app.tagline')}</p>
          {/* A navigation, not a fetch: the API redirects to the provider (in its app, or a QR code on a desktop). */}
          {providers.wecom && (
            <a id="wecom-signin" class="button wecom big" href="/api/v1/session/wecom">
              {t('signin.wecom')}
            </a>
          )}
          {providers.dingtalk && (
            <a id="dingtalk-signin" class="button dingtalk big" href="/api/v1/session/dingtalk">
              {t('signin.dingtalk')}
            </a>
          )}
          {ssoError !== null && (
            <p id="sso-error" class="error" role="alert">
              {ssoRefusal(ssoError)}
            </p>
          )}
          {(providers.wecom || providers.dingtalk) && <p class="muted small or">{t('signin.or')}</p>}
          <label for="name">{t('signin.name')}</label>
          <input id="name" class="big" autocomplete="username" autocapitalize="none" spellcheck={false} required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <label for="password">{t('signin.password')}</label>
          <input id="password" class="big" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          <p id="password-error" class="error" role="alert">
            {error ?? ''}
          </p>
          <button type="submit" class="primary big" disabled={busy}>
            {t('signin.submit')}
          </button>
        </form>
        <form id="login-form" class="card secondary" onSubmit={(e) => void submitToken(e)}>
          <h2>{t('signin.useToken')}</h2>
          <label for="token">{t('signin.token')}</label>
          <input id="token" type="password" autocomplete="off" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
          <p class="muted small">{t('signin.help')}</p>
          <p id="login-error" class="error" role="alert">
            {tokenError ?? ''}
          </p>
          <button type="submit">{t('signin.tokenSubmit')}</button>
        </form>
      </div>
    </main>
  )
}
