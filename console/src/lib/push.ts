// Web Push opt-in for the crew app (issue 21): the browser subscribes with the VAPID public key of
// the Web Push channel that pages this person (their company's, else the housing office's), and
// the subscription is stored as their `webpush` contact point; the service worker (public/sw.js)
// shows what arrives. Nothing is asked before the person presses the button (browsers block
// permission prompts that come unasked).
import { api, ApiError } from './api.ts'

interface Channel {
  kind: string
  enabled: boolean
  companyId: string | null
  settings: Record<string, unknown>
}

interface Contact {
  id: number
  kind: string
  address: string
}

export type PushState = 'unsupported' | 'no-channel' | 'denied' | 'off' | 'on'

/** Whether this browser can receive Web Push at all (an installed PWA on iOS ≥ 16.4, Android, desktop). */
export function pushSupported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window
}

/** The VAPID public key of the enabled Web Push channel for this person's alerts: the company's first. */
export async function vapidKey(companyId: string | null): Promise<string | undefined> {
  const owners = companyId === null ? [null] : [companyId, null]
  for (const owner of owners) {
    const q = owner === null ? '' : `?companyId=${encodeURIComponent(owner)}`
    const { items } = await api<{ items: Channel[] }>(`/api/v1/notify/channels${q}`)
    const key = items.find((c) => c.kind === 'webpush' && c.enabled && typeof c.settings.vapidPublicKey === 'string')?.settings.vapidPublicKey
    if (typeof key === 'string') return key
  }
  return undefined
}

/** base64url → bytes, as PushManager.subscribe takes the key. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '='))
  const out = new Uint8Array(new ArrayBuffer(text.length))
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i)
  return out
}

const contactsPath = (userId: string) => `/api/v1/users/${encodeURIComponent(userId)}/contact-points`

/** This browser's subscription, when it is one of the person's contact points. */
export async function storedSubscription(userId: string): Promise<Contact | undefined> {
  const reg = await navigator.serviceWorker.ready
  const sub = await reg.pushManager.getSubscription()
  if (!sub) return undefined
  const { items } = await api<{ items: Contact[] }>(contactsPath(userId))
  return items.find((c) => c.kind === 'webpush' && c.address.includes(sub.endpoint))
}

/** Asks for permission, subscribes and stores the subscription as a contact point (most preferred). */
export async function subscribe(userId: string, key: string, locale: 'en' | 'zh-CN'): Promise<'on' | 'denied'> {
  if ((await Notification.requestPermission()) !== 'granted') return 'denied'
  const reg = await navigator.serviceWorker.ready
  const sub = (await reg.pushManager.getSubscription()) ?? (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }))
  await api(contactsPath(userId), { method: 'POST', body: { kind: 'webpush', address: JSON.stringify(sub.toJSON()), locale, position: 0 } }).catch((err: unknown) => {
    // Stored already (subscribed before on this phone): nothing to add.
    if (!(err instanceof ApiError && err.code === 'conflict')) throw err
  })
  return 'on'
}

/** Removes the contact point and ends the browser's subscription. */
export async function unsubscribe(userId: string, contact: Contact): Promise<void> {
  await api(`${contactsPath(userId)}/${contact.id}`, { method: 'DELETE' })
  const reg = await navigator.serviceWorker.ready
  await (await reg.pushManager.getSubscription())?.unsubscribe()
}
