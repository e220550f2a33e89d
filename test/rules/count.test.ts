import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Harness, MINUTE, SECOND, T0, rule, useFakeClock } from './harness.ts'

const doorFaults = rule({ type: 'count', scope: { kind: 'elevator' }, params: { metric: 'door_faults', mode: 'sum', count: 3, window: '10m' } })

describe('count rule', () => {
  beforeEach(useFakeClock)
  afterEach(() => vi.useRealTimers())

  it('raises when the sum in the window reaches the count and clears the moment a fault slides out', () => {
    const h = Harness.for(doorFaults)
    h.sample('door_faults', 1) // 0 min
    vi.advanceTimersByTime(4 * MINUTE)
    h.sample('door_faults', 0).sample('door_faults', 1) // 4 min
    vi.advanceTimersByTime(4 * MINUTE)
    h.sample('door_faults', 1) // 8 min: 3 in the window
    vi.advanceTimersByTime(10 * MINUTE)
    expect(h.outcomes).toEqual([
      { type: 'raise', at: T0 + 8 * MINUTE, value: 3, reason: 'sum of door_faults: 3 within 10m (limit 3)', reasonDetail: { key: 'count.raise', metric: 'door_faults', mode: 'sum', filter: null, total: 3, windowMs: 10 * MINUTE, limit: 3 } },
      // The fault from 0 min leaves the window at 10 min.
      { type: 'clear', at: T0 + 10 * MINUTE, value: 2, reason: 'sum of door_faults: 2 within 10m, below 3', reasonDetail: { key: 'count.clear', metric: 'door_faults', mode: 'sum', filter: null, total: 2, windowMs: 10 * MINUTE, limit: 3 } },
    ])
  })

  it('slides: a later fault raises again with the two still inside the window', () => {
    const h = Harness.for(doorFaults)
    let minute = 0
    for (const next of [0, 4, 8, 11]) {
      vi.advanceTimersByTime((next - minute) * MINUTE)
      minute = next
      h.sample('door_faults', 1)
    }
    vi.advanceTimersByTime(20 * MINUTE)
    expect(h.transitions()).toEqual([
      { type: 'raise', at: 8 * MINUTE },
      { type: 'clear', at: 10 * MINUTE },
      { type: 'raise', at: 11 * MINUTE },
      { type: 'clear', at: 14 * MINUTE },
    ])
  })

  it('sums the reported counts of one message (a batch of 3 raises at once)', () => {
    const h = Harness.for(doorFaults).sample('door_faults', 3)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 0 }])
  })

  it('sends an update for each reading while raised, carrying the window total', () => {
    const h = Harness.for(doorFaults).series('door_faults', [2, 1, 0, 2], 30 * SECOND)
    expect(h.outcomes.map((o) => [o.type, o.value])).toEqual([
      ['raise', 3],
      ['update', 3],
      ['update', 5],
    ])
  })

  it('counts occurrences of readings meeting op/value', () => {
    const shaky = rule({
      type: 'count',
      scope: { kind: 'elevator' },
      params: { metric: 'vibration_mg', mode: 'occurrences', op: '>', value: 1000, count: 3, window: '5m' },
    })
    // Over 1000 at 0, 1 and 3 min: three within 5 min until the one at 0 min expires at 5 min.
    const h = Harness.for(shaky).series('vibration_mg', [1200, 1100, 20, 1500], MINUTE)
    vi.advanceTimersByTime(10 * MINUTE)
    expect(h.transitions()).toEqual([
      { type: 'raise', at: 3 * MINUTE },
      { type: 'clear', at: 5 * MINUTE },
    ])
  })

  it('does not count readings that have left the window', () => {
    const shaky = rule({
      type: 'count',
      scope: { kind: 'elevator' },
      params: { metric: 'vibration_mg', mode: 'occurrences', op: '>', value: 1000, count: 3, window: '5m' },
    })
    // Over 1000 at 0, 2 and 5 min: the one at 0 min leaves the window at 5 min, so never 3 at once.
    const h = Harness.for(shaky).series('vibration_mg', [1200, 20, 1100, 30, 25, 1500, 40], MINUTE)
    vi.advanceTimersByTime(10 * MINUTE)
    expect(h.outcomes).toEqual([])
  })

  it('keeps a bounded window however fast readings come', () => {
    const ones = rule({ type: 'count', scope: { kind: 'elevator' }, params: { metric: 'door_faults', mode: 'sum', count: 20_000, window: '1h' } })
    const h = Harness.for(ones)
    for (let i = 0; i < 15_000; i++) h.ev.onSample({ metric: 'door_faults', ts: T0 + i, value: 1 })
    // 15,000 readings of 1 in the hour, but the window holds the newest 10,000 only.
    expect(h.ev.onSample({ metric: 'door_faults', ts: T0 + 15_000, value: 9_999 })).toEqual([])
    expect(h.ev.onSample({ metric: 'door_faults', ts: T0 + 15_001, value: 3 })).toMatchObject([{ type: 'raise', value: 20_000 }])
  })

  it('clears on the next tick when restored as raised with too little in the window', () => {
    const h = Harness.for(doorFaults).sample('door_faults', 1)
    h.ev.restoreActive(true)
    expect(h.ev.nextDeadline()).toBe(T0)
    expect(h.ev.onTick(T0 + SECOND)).toMatchObject([{ type: 'clear', at: T0 + SECOND, value: 1 }])
  })
})
