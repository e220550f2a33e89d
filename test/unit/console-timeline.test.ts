// An alert's history as the console lays it out: deliveries among the events at the time they were
// queued, quiet repeats of a condition in runs, an update that says something on its own, and
// the four steps timed from the raise by their first event.
import { describe, expect, it } from 'vitest'
import { milestones, timeline } from '../../console/src/lib/timeline.ts'
import type { AlertEvent, Delivery } from '../../console/src/lib/types.ts'

const T0 = Date.parse('2026-12-07T12:00:00Z')
const iso = (s: number) => new Date(T0 + s * 1000).toISOString()
let id = 0
const ev = (type: string, s: number, note: string | null = null): AlertEvent => ({ id: ++id, at: iso(s), type, actor: 'rules-engine', note, data: type === 'updated' ? { value: s } : null })
const page = (n: number, s: number): Delivery => ({
  id: n,
  eventId: 1,
  eventType: 'raised',
  step: 0,
  channel: { id: 'sms', kind: 'sms_http', name: 'Office SMS' },
  user: 'Zhang Wei',
  to: '138****1234',
  status: 'delivered',
  heldUntil: null,
  attempts: 1,
  createdAt: iso(s),
  deliveredAt: iso(s + 1),
  nextAttemptAt: iso(s),
  summary: '',
  log: [],
})
/** Each row as one word: the event type, `updates×n` or `delivery#id`. */
const shape = (rows: ReturnType<typeof timeline>) => rows.map((r) => (r.kind === 'event' ? r.event.type : r.kind === 'updates' ? `updates×${r.count}@${r.latest.at}` : `delivery#${r.delivery.id}`))

describe('alert history timeline', () => {
  it('runs quiet updates into one row with the latest, and places each delivery at its time', () => {
    const events = [ev('raised', 0), ev('updated', 60), ev('updated', 120), ev('updated', 180), ev('acknowledged', 250), ev('updated', 300)]
    const rows = timeline(events, [page(2, 130), page(1, 2)], iso(0))
    // The delivery queued between two updates splits the run: the record stays in time order.
    expect(shape(rows)).toEqual(['raised', 'delivery#1', `updates×2@${iso(120)}`, 'delivery#2', 'updated', 'acknowledged', 'updated'])
  })

  it('keeps an update with a note (active again, flapping) on its own row', () => {
    const events = [ev('raised', 0), ev('updated', 60), ev('updated', 120, 'condition active again'), ev('updated', 180), ev('updated', 240)]
    expect(shape(timeline(events, [], iso(0)))).toEqual(['raised', 'updated', 'updated', `updates×2@${iso(240)}`])
  })

  it('puts deliveries after the last event when they were queued later', () => {
    const events = [ev('raised', 0), ev('updated', 60), ev('updated', 120)]
    expect(shape(timeline(events, [page(3, 500)], iso(0)))).toEqual(['raised', `updates×2@${iso(120)}`, 'delivery#3'])
  })

  it('times each step from the raise by its first event, and only those taken', () => {
    const events = [ev('raised', 0), ev('acknowledged', 252), ev('en_route', 300), ev('en_route', 900), ev('resolved', 1800)]
    expect(milestones(events, iso(0)).map((m) => [m.type, m.label, m.ms])).toEqual([
      ['acknowledged', 'history.respond', 252_000],
      ['en_route', 'history.depart', 300_000],
      ['resolved', 'history.handle', 1_800_000],
    ])
    const timed = timeline(events, [], iso(0)).flatMap((r) => (r.kind === 'event' && r.sinceRaiseMs !== null ? [[r.event.type, r.sinceRaiseMs]] : []))
    expect(timed).toEqual([
      ['acknowledged', 252_000],
      ['en_route', 300_000],
      ['resolved', 1_800_000],
    ])
  })
})
