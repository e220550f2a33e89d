// The alerts the signed-in user can see, kept current by the live stream: unresolved ones in full
// (bounded by MAX_ALERTS), plus the ones resolved while the page is open. One store for the board,
// the map and the crew list, so all three change together.
import { api } from './api.ts'
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

/** Events of one read of the stream, applied together: a bulk action's thousands cost one new map, not one each. */
let pending: Alert[] = []

function onEvent(e: LiveEvent): void {
  performance.clearMarks(EVENT_MARK)
  performance.mark(EVENT_MARK)
  if (pending.length === 0) queueMicrotask(flush)
  pending.push(e.alert)
  // A later member of a group (alerts/grouping.ts) pages nobody, and does not sound the board's cue either.
  const later = e.alert.groupId != null && e.alert.groupId !== e.alert.id
  if (e.type === 'raised' && e.alert.severity === 'critical' && !later) newCritical.set(e.alert)
}

function flush(): void {
  const list = pending
  pending = []
  upsert(list)
}

/** Loads the unresolved alerts and follows the stream (the stream first, so nothing falls between). */
export async function startAlerts(live: boolean): Promise<void> {
  stopAlerts()
  abort = new AbortController()
  if (live) void follow(onEvent, abort.signal, () => void load().catch(() => undefined))
  await load()
}

/**
 * The first page small, so the board draws its first rows after one short response (a crew's 4G
 * phone), then the rest in pages of 1,000; each page joins the store as it arrives.
 */
const FIRST_PAGE = 200
const PAGE = 1000

async function load(): Promise<void> {
  await readUnresolved((items) => {
    // Anything the stream delivered meanwhile is newer than the list: keep it.
    const seen = alerts.get()
    upsert(items.filter((a) => !seen.has(a.id)))
  })
}

async function readUnresolved(onPage: (items: Alert[]) => void): Promise<void> {
  let cursor: number | null = null
  let loaded = 0
  do {
    const limit = loaded === 0 ? FIRST_PAGE : PAGE
    const page: { items: Alert[]; nextCursor: number | null } = await api(`/api/v1/alerts?state=open,acknowledged,in_progress&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`)
    onPage(page.items)
    loaded += page.items.length
    cursor = page.nextCursor
  } while (cursor !== null && loaded < MAX_ALERTS)
}

/**
 * The unresolved alerts read afresh, replacing the store: after a bulk action the stream may have
 * cut this page off as a slow client (thousands of events at once, api/routes/alert-stream.ts)
 * and resumed with the newest events only, leaving older rows as they were.
 */
export async function reloadAlerts(): Promise<void> {
  const next = new Map<number, Alert>()
  await readUnresolved((items) => {
    for (const a of items) next.set(a.id, a)
  })
  alerts.set(next)
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

/** The most ids one POST /api/v1/alerts/ack takes: a larger selection is sent in parts, all of it. */
const ACK_IDS_MAX = 500

/** Acknowledges the selected alerts, however many; the stream brings their new state. Answers how many were acknowledged. */
export async function bulkAck(ids: number[]): Promise<number> {
  let done = 0
  for (let i = 0; i < ids.length; i += ACK_IDS_MAX) {
    const r = await api<{ acknowledged: number[] }>('/api/v1/alerts/ack', { body: { ids: ids.slice(i, i + ACK_IDS_MAX) } })
    done += r.acknowledged.length
  }
  return done
}

export type BulkAction = 'ack' | 'resolve'
export interface BulkCount {
  matched: number
  through: number | null
  max: number
  capped: boolean
}
export interface BulkOutcome {
  matched: number
  done: number
  skipped: number
  capped: boolean
}

/** How many alerts the action by this filter (GET /api/v1/alerts's query) would act on. */
export const bulkCount = (action: BulkAction, q: URLSearchParams): Promise<BulkCount> => api(`/api/v1/alerts/bulk/count?action=${action}&${q.toString()}`)

/** The action on every alert matching the filter, up to the counted `through`. */
export function bulkByFilter(action: BulkAction, q: URLSearchParams, through: number): Promise<BulkOutcome> {
  const query = new URLSearchParams(q)
  query.set('through', String(through))
  return api(`/api/v1/alerts/bulk/${action}?${query.toString()}`, { body: {} })
}

export const unresolved = (a: Alert): boolean => a.state !== 'resolved'
