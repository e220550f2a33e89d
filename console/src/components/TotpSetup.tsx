// Two-step sign-in (one-time codes, RFC 6238) from the account panel, or owed before anything else
// where TOTP_REQUIRED is on: a QR code of the otpauth:// URI for an authenticator app to scan, the
// key to type in instead (the link opens the app on the phone itself), a first code to turn it on,
// the ten recovery codes shown this once, and turning it off with the password.
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.ts'
import { api, ApiError } from '../lib/api.ts'
import { refreshMe, signOut } from '../lib/session.ts'
import type { Me } from '../lib/types.ts'
import { Field } from './Form.tsx'
import { LangSwitch } from './LangSwitch.tsx'

/** The key as people copy it: groups of four. */
const grouped = (secret: string) => secret.replace(/(.{4})(?=.)/g, '$1 ')

type Step = { at: 'idle' } | { at: 'scan'; secret: string; uri: string; qr: string } | { at: 'codes'; codes: string[] }

export function TotpSetup({ user, forced }: { user: Me; forced: boolean }) {
  const [step, setStep] = useState<Step>({ at: 'idle' })
  const [code, setCode] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const failed = (err: unknown) => {
    if (err instanceof ApiError && err.code === 'totp_code_wrong') setError(t('totp.wrongConfirm'))
    else if (err instanceof ApiError && err.code === 'totp_not_started') {
      setStep({ at: 'idle' })
      setError(t('totp.expiredSetup'))
    }
    else if (err instanceof ApiError && err.code === 'wrong_password') setError(t('password.wrongCurrent'))
    else if (err instanceof ApiError && err.code === 'totp_required') setError(t('totp.offRequired'))
    else if (err instanceof ApiError && err.status === 429) setError(t('signin.throttled'))
    else setError(t('common.error', { message: String(err) }))
  }
  const run = async (work: () => Promise<void>) => {
    setError(null)
    setBusy(true)
    try {
      await work()
    } catch (err) {
      failed(err)
    } finally {
      setBusy(false)
    }
  }
  const start = () =>
    run(async () => {
      const { secret, uri } = await api<{ secret: string; uri: string }>('/api/v1/me/totp', { method: 'POST' })
      // Loaded when needed (it is not in the first load); a data: URL, which the CSP's img-src
      // allows; medium error correction scans off a screen well.
      const { default: QRCode } = await import('qrcode')
      const qr = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 220 })
      setCode('')
      setStep({ at: 'scan', secret, uri, qr })
    })
  const confirm = (e: Event) => {
    e.preventDefault()
    void run(async () => {
      const { recoveryCodes } = await api<{ recoveryCodes: string[] }>('/api/v1/me/totp/confirm', { body: { code } })
      setStep({ at: 'codes', codes: recoveryCodes })
    })
  }
  const turnOff = (e: Event) => {
    e.preventDefault()
    void run(async () => {
      await api('/api/v1/me/totp', { method: 'DELETE', body: { password } })
      setPassword('')
      await refreshMe()
    })
  }
  const alert = (
    <p class="error" role="alert" id="totp-error">
      {error ?? ''}
    </p>
  )

  let body
  if (step.at === 'codes') {
    body = (
      <div class="secret totp-recovery" id="totp-recovery">
        <h3>{t('totp.recoveryTitle')}</h3>
        <p class="warn">{t('totp.recoveryHelp')}</p>
        <ol class="recovery-codes">
          {step.codes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ol>
        <button type="button" class="primary big" id="totp-done" onClick={() => void run(refreshMe).then(() => setStep({ at: 'idle' }))}>
          {t('totp.recoveryDone')}
        </button>
      </div>
    )
  } else if (step.at === 'scan') {
    body = (
      <form id="totp-confirm" onSubmit={confirm}>
        <p>{t('totp.step1')}</p>
        <img id="totp-qr" class="totp-qr" src={step.qr} width={220} height={220} alt={t('totp.qr')} />
        <p class="muted small">{t('totp.secret')}</p>
        <p class="totp-secret">
          <code id="totp-secret">{grouped(step.secret)}</code>
        </p>
        <p class="muted small">
          {t('totp.link')}: <a href={step.uri} id="totp-uri" class="totp-uri">{step.uri}</a>
        </p>
        <p>{t('totp.step2')}</p>
        <Field id="totp-new-code" label={t('totp.code')}>
          {(a) => (
            <input {...a} class="big" inputMode="numeric" autocomplete="one-time-code" maxLength={6} required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
          )}
        </Field>
        {alert}
        <div class="row-buttons">
          <button type="submit" class="primary big" disabled={busy}>
            {t('totp.confirm')}
          </button>
          <button type="button" class="ghost" onClick={() => setStep({ at: 'idle' })}>
            {t('totp.cancel')}
          </button>
        </div>
      </form>
    )
  } else if (user.totp?.enabled) {
    body = (
      <form id="totp-off" onSubmit={turnOff}>
        <p class="notice" id="totp-on">
          {t('totp.on')}
        </p>
        <Field id="totp-off-password" label={t('totp.offPassword')}>
          {(a) => <input {...a} type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />}
        </Field>
        {alert}
        <button type="submit" disabled={busy}>
          {t('totp.off')}
        </button>
      </form>
    )
  } else {
    body = (
      <>
        <p class="muted">{t('totp.intro')}</p>
        {alert}
        <div class="row-buttons">
          <button type="button" class="primary big" id="totp-start" disabled={busy} onClick={() => void start()}>
            {t('totp.start')}
          </button>
          {forced && (
            <button type="button" class="ghost" onClick={signOut}>
              {t('signout')}
            </button>
          )}
        </div>
      </>
    )
  }

  const card = (
    <section class="card" id="totp-panel" aria-labelledby="totp-title">
      <div class="signin-head">
        {forced ? <h1 id="totp-title">{t('totp.title')}</h1> : <h2 id="totp-title">{t('totp.title')}</h2>}
        {forced && <LangSwitch />}
      </div>
      {forced && step.at === 'idle' && <p class="notice">{t('totp.forced')}</p>}
      {body}
    </section>
  )
  return forced ? <main class="signin">{card}</main> : card
}
