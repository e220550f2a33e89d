// An alert's history as a record: its events and its notification deliveries in one timeline, each
// delivery placed at the time it was queued; a run of quiet condition updates (the service writes
// one a minute while a condition stays active, alerts/service.ts) as one row; and the four times
// the office measures a company by, from the raise to the first event of each step.
import type { Key } from '../i18n/en.ts'
import type { AlertEvent, Delivery } from './types.ts'

/** The steps timed from the raise; a step taken twice (an en route after a re-dispatch) counts its first. */
export const MILESTONES: readonly { type: string; label: Key }[] = [
  { type: 'acknowledged', label: 'history.respond' },
  { type: 'en_route', label: 'history.depart' },
  { type: 'arrived', label: 'history.onSite' },
  { type: 'resolved', label: 'history.handle' },
]

export type Row =
  | { kind: 'event'; event: AlertEvent; sinceRaiseMs: number | null }
  | { kind: 'updates'; latest: AlertEvent; count: number }
  | { kind: 'delivery'; delivery: Delivery }

const ms = (iso: string) => new Date(iso).getTime()

/** Each step's first event, with the time since the raise; steps not yet taken are left out. */
export function milestones(events: readonly AlertEvent[], raisedAt: string): { type: string; label: Key; ms: number; eventId: number }[] {
  return MILESTONES.flatMap((m) => {
    const first = events.find((e) => e.type === m.type)
    return first ? [{ ...m, ms: ms(first.at) - ms(raisedAt), eventId: first.id }] : []
  })
}

/** An update that says nothing new: a repeat, not a condition active again or flapping (those carry a note). */
const quiet = (e: AlertEvent) => e.type === 'updated' && !e.note

/** Events in their order, each delivery before the first event later than it, quiet updates in runs. */
export function timeline(events: readonly AlertEvent[], deliveries: readonly Delivery[], raisedAt: string): Row[] {
  const timed = new Map(milestones(events, raisedAt).map((m) => [m.eventId, m.ms]))
  const queued = [...deliveries].sort((a, b) => ms(a.createdAt) - ms(b.createdAt) || a.id - b.id)
  const rows: Row[] = []
  let next = 0
  let run: AlertEvent[] = []
  const endRun = () => {
    const latest = run.at(-1)
    if (latest) rows.push(run.length === 1 ? { kind: 'event', event: latest, sinceRaiseMs: null } : { kind: 'updates', latest, count: run.length })
    run = []
  }
  const deliveriesBefore = (at: number) => {
    for (let d = queued[next]; d && ms(d.createdAt) < at; d = queued[++next]) {
      endRun()
      rows.push({ kind: 'delivery', delivery: d })
    }
  }
  for (const e of events) {
    deliveriesBefore(ms(e.at))
    if (quiet(e)) {
      run.push(e)
      continue
    }
    endRun()
    rows.push({ kind: 'event', event: e, sinceRaiseMs: timed.get(e.id) ?? null })
  }
  deliveriesBefore(Infinity)
  endRun()
  return rows
}
