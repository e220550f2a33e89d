// The alerts the signed-in user can see, kept current by the live stream: unresolved ones in full
// (bounded by MAX_ALERTS), plus the ones resolved while the page is open. One store for the board,
// the map and the crew list, so all three change together.
import { all, api } from './api.ts'
import { follow, type LiveEvent } from './live.ts'
import { store } from './store.ts'
import type { Alert } from './types.ts'

const MAX_ALERTS = 10_000
export const alerts = store<ReadonlyMap<number, Alert>>(new Map())
/** Raised while the page is open and critical: the board's cue. */
export const newCritical = store<Alert | null>(null)

let abort: AbortController | undefined

function upsert(list: Alert[]): void {
  const next = new Map(alerts.get())
  for (const a of list) next.set(a.id, a)
  alerts.set(next)
}

/** Marks each live event's arrival, so the console bench can tell delivery from rendering; one mark is kept. */
const EVENT_MARK = 'hb:live-event'

function onEvent(e: LiveEvent): void {
  performance.clearMarks(EVENT_MARK)
  performance.mark(EVENT_MARK)
  upsert([e.alert])
  if (e.type === 'raised' && e.alert.severity === 'critical') newCritical.set(e.alert)
}

/** Loads the unresolved alerts and follows the stream (the stream first, so nothing falls between). */
export async function startAlerts(live: boolean): Promise<void> {
  stopAlerts()
  abort = new AbortController()
  if (live) void follow(onEvent, abort.signal, () => void load().catch(() => undefined))
  await load()
}

async function load(): Promise<void> {
  const list = await all<Alert>('/api/v1/alerts?state=open,acknowledged,in_progress', MAX_ALERTS)
  // Anything the stream delivered meanwhile is newer than the list: keep it.
  const seen = alerts.get()
  upsert(list.filter((a) => !seen.has(a.id)))
}

export function stopAlerts(): void {
  abort?.abort()
  alerts.set(new Map())
}

/** Acts on an alert and applies the answer at once (the stream brings the same change again). */
export async function act(id: number, action: 'ack' | 'claim' | 'en-route' | 'arrive' | 'start' | 'resolve' | 'comment', note?: string, opts: { public?: boolean } = {}): Promise<Alert> {
  const a = await api<Alert>(`/api/v1/alerts/${id}/${action}`, { body: { ...(note ? { note } : {}), ...(opts.public ? { public: true } : {}) } })
  upsert([a])
  return a
}

/** The office shows an alert to its community's residents, or stops. */
export async function publish(id: number, shown: boolean): Promise<Alert> {
  const a = await api<Alert>(`/api/v1/alerts/${id}/publish`, { body: { public: shown } })
  upsert([a])
  return a
}

export async function bulkAck(ids: number[]): Promise<void> {
  await api('/api/v1/alerts/ack', { body: { ids } })
  upsert(await Promise.all(ids.map((id) => api<Alert>(`/api/v1/alerts/${id}`))))
}

export const unresolved = (a: Alert): boolean => a.state !== 'resolved'
