// "Receive push notifications" on the crew app (issue 21; console/src/lib/push.ts): offered when
// this browser can take Web Push and a Web Push channel pages this person; says when it is on, and
// when the browser's permission is blocked (only the browser's settings can lift that).
import { useEffect, useState } from 'preact/hooks'
import { t, lang } from '../i18n/index.ts'
import { pushSupported, storedSubscription, subscribe, unsubscribe, vapidKey, type PushState } from '../lib/push.ts'
import { useStore } from '../lib/store.ts'
import type { Me } from '../lib/types.ts'

export function PushOptIn({ user }: { user: Me }) {
  const language = useStore(lang)
  const [state, setState] = useState<PushState | null>(null)
  const [key, setKey] = useState<string | undefined>(undefined)
  const [contact, setContact] = useState<Awaited<ReturnType<typeof storedSubscription>>>(undefined)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    if (!pushSupported()) return setState('unsupported')
    void (async () => {
      const k = await vapidKey(user.companyId)
      setKey(k)
      if (k === undefined) return setState('no-channel')
      if (Notification.permission === 'denied') return setState('denied')
      const stored = await storedSubscription(user.id)
      setContact(stored)
      setState(stored ? 'on' : 'off')
    })().catch(() => setState('unsupported'))
  }, [user.id, user.companyId])
  if (state === null || state === 'unsupported' || state === 'no-channel') return null
  const run = (work: () => Promise<void>) => {
    setBusy(true)
    setError('')
    work()
      .catch((err: unknown) => setError(t('push.failed', { message: err instanceof Error ? err.message : String(err) })))
      .finally(() => setBusy(false))
  }
  const on = () =>
    run(async () => {
      if (key === undefined) return
      const next = await subscribe(user.id, key, language)
      setContact(await storedSubscription(user.id))
      setState(next)
    })
  const off = () =>
    run(async () => {
      if (contact) await unsubscribe(user.id, contact)
      setContact(undefined)
      setState('off')
    })
  return (
    <div class="push-opt-in" id="push-opt-in" data-state={state}>
      {state === 'off' && (
        <>
          <p>{t('push.offer')}</p>
          <button type="button" class="primary big" id="push-on" disabled={busy} onClick={on}>
            {t('push.enable')}
          </button>
        </>
      )}
      {state === 'on' && (
        <p>
          <span role="status">{t('push.on')}</span>{' '}
          <button type="button" class="link" id="push-off" disabled={busy} onClick={off}>
            {t('push.disable')}
          </button>
        </p>
      )}
      {state === 'denied' && <p role="status">{t('push.denied')}</p>}
      {error && <p class="error">{error}</p>}
    </div>
  )
}
