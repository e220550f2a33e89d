// Late samples are placed, not dropped (issue 17): a reading that arrives after a newer one of the
// same device is evaluated at its own time within the bound, what it reveals is reported once, what
// was reported stands, and what is older than the bound is counted, not evaluated.
import { describe, expect, it } from 'vitest'
import { createEvaluator, type Outcome } from '../../rules/evaluators/index.ts'
import { InOrderEvaluator } from '../../rules/evaluators/in-order.ts'
import { SECOND, rule } from './harness.ts'

const BOUND = 120 * SECOND
const tilt = (params: Record<string, unknown> = {}) =>
  rule({ type: 'threshold', scope: { kind: 'manhole' }, params: { metric: 'cover_tilt_deg', op: '>', value: 30, clear: { value: 10 }, ...params } })

function wrapped(def = tilt()) {
  const counts = { placed: 0, beyond: 0 }
  const ev = new InOrderEvaluator(createEvaluator(def, 'mh-1', { expectedIntervalMs: 60_000 }), BOUND, {
    placed: () => counts.placed++,
    beyondBound: () => counts.beyond++,
  }, ['cover_tilt_deg', 'cover_open'])
  const out: Outcome[] = []
  const at = (ts: number, value: number) => {
    out.push(...ev.onSample({ metric: 'cover_tilt_deg', ts, value }))
    return out
  }
  const transitions = () => out.filter((o) => o.type !== 'update').map((o) => ({ type: o.type, at: o.at }))
  return { ev, at, tick: (now: number) => out.push(...ev.onTick(now)), transitions, counts }
}

describe('late samples in device time', () => {
  it('a late reading inside a quiet spell reveals a transient fault: raised and cleared at their own times', () => {
    const w = wrapped()
    w.at(0, 2)
    w.at(20 * SECOND, 2)
    w.at(10 * SECOND, 45)
    expect(w.transitions()).toEqual([
      { type: 'raise', at: 10 * SECOND },
      { type: 'clear', at: 20 * SECOND },
    ])
    expect(w.counts.placed).toBe(1)
    expect(w.ev.active).toBe(false)
  })

  it('in order, it behaves exactly like the evaluator alone', () => {
    const plain = createEvaluator(tilt(), 'mh-1', { expectedIntervalMs: 60_000 })
    const w = wrapped()
    const values = [2, 45, 44, 3, 50, 2, 2]
    const alone: Outcome[] = []
    values.forEach((v, i) => {
      alone.push(...plain.onSample({ metric: 'cover_tilt_deg', ts: i * 5 * SECOND, value: v }))
      w.at(i * 5 * SECOND, v)
    })
    expect(w.transitions()).toEqual(alone.filter((o) => o.type !== 'update').map((o) => ({ type: o.type, at: o.at })))
    expect(w.counts.placed).toBe(0)
  })

  it('a late reading that changes nothing reports nothing again', () => {
    const w = wrapped()
    w.at(0, 2)
    w.at(10 * SECOND, 45)
    w.at(20 * SECOND, 2)
    w.at(5 * SECOND, 3)
    expect(w.transitions()).toEqual([
      { type: 'raise', at: 10 * SECOND },
      { type: 'clear', at: 20 * SECOND },
    ])
  })

  it('completes a `for` that the late reading fills in, at the time it completed', () => {
    const w = wrapped(tilt({ for: '10s' }))
    w.at(0, 45)
    // The reading at 8 s arrives last: 45 from 0 s on, held through 10 s, then safe at 12 s.
    w.at(12 * SECOND, 2)
    expect(w.transitions()).toEqual([{ type: 'raise', at: 10 * SECOND }, { type: 'clear', at: 12 * SECOND }])
    w.at(8 * SECOND, 46)
    expect(w.transitions()).toEqual([{ type: 'raise', at: 10 * SECOND }, { type: 'clear', at: 12 * SECOND }])
  })

  it('keeps what the API was told when a late reading would undo a raise', () => {
    const w = wrapped(tilt({ for: '10s' }))
    w.at(0, 45)
    w.tick(11 * SECOND)
    expect(w.transitions()).toEqual([{ type: 'raise', at: 10 * SECOND }])
    // A dip at 5 s means the duration never completed; the raise was reported and stands.
    w.at(5 * SECOND, 2)
    expect(w.transitions()).toEqual([{ type: 'raise', at: 10 * SECOND }])
    expect(w.ev.active).toBe(true)
    // It clears at the next evaluation, dated no earlier than the raise it ends.
    w.at(20 * SECOND, 2)
    expect(w.transitions()).toEqual([{ type: 'raise', at: 10 * SECOND }, { type: 'clear', at: 10 * SECOND }])
    expect(w.ev.active).toBe(false)
  })

  it('leaves out a reading older than the bound, and counts it', () => {
    const w = wrapped()
    w.at(0, 2)
    w.at(BOUND + 10 * SECOND, 2)
    w.at(5 * SECOND, 45)
    expect(w.transitions()).toEqual([])
    expect(w.counts.beyond).toBe(1)
  })

  it('a late reading between a raise and a later transition does not send a transition before the one reported', () => {
    const w = wrapped()
    w.at(0, 45)
    w.at(30 * SECOND, 2)
    w.at(60 * SECOND, 45)
    expect(w.transitions()).toEqual([{ type: 'raise', at: 0 }, { type: 'clear', at: 30 * SECOND }, { type: 'raise', at: 60 * SECOND }])
    // A safe reading at 10 s would have cleared earlier, but the API has moved past it.
    w.at(10 * SECOND, 2)
    expect(w.transitions()).toEqual([{ type: 'raise', at: 0 }, { type: 'clear', at: 30 * SECOND }, { type: 'raise', at: 60 * SECOND }])
    expect(w.ev.active).toBe(true)
  })

  it('a chatty device (more readings within the bound than the wrapper keeps) still has a late reading placed among its newest', () => {
    const w = wrapped()
    // 2,000 readings 50 ms apart: 100 s, inside the bound, four times the inputs kept.
    for (let i = 0; i < 2000; i++) w.at(i * 50, 2)
    w.at(99_000 + 25, 45)
    expect(w.transitions()).toEqual([
      { type: 'raise', at: 99_025 },
      { type: 'clear', at: 99_050 },
    ])
    expect(w.counts).toEqual({ placed: 1, beyond: 0 })
    // One from before the kept inputs is counted, not evaluated.
    w.at(10_000 + 25, 45)
    expect(w.counts).toEqual({ placed: 1, beyond: 1 })
    expect(w.transitions()).toHaveLength(2)
  })
})
