import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Harness, MINUTE, SECOND, T0, rule, useFakeClock } from './harness.ts'

/** trapped toggling every 5 s for `minutes`, then settling on `last`. */
function toggling(h: Harness, minutes: number, last: 0 | 1): void {
  const n = (minutes * MINUTE) / (5 * SECOND)
  h.series('trapped', Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0)), 5 * SECOND)
  h.sample('trapped', last)
}

const trapped = (flapping?: { maxTransitions: number; window: string }) =>
  rule({ type: 'threshold', scope: { kind: 'elevator' }, params: { metric: 'trapped', op: '>=', value: 1 }, ...(flapping ? { flapping } : {}) })

describe('flapping', () => {
  beforeEach(useFakeClock)
  afterEach(() => vi.useRealTimers())

  it('without it, a toggling signal is a storm of raises and clears', () => {
    const h = Harness.for(trapped())
    toggling(h, 10, 0)
    expect(h.transitions().length).toBe(120)
  })

  it('turns a signal toggling every 5 s into one raise and one flapping update, then the pending clear once quiet', () => {
    const h = Harness.for(trapped({ maxTransitions: 1, window: '2m' }))
    toggling(h, 10, 0)
    // The last toggle is the clear at 9 min 55 s: 2 quiet minutes later the spell ends.
    vi.advanceTimersByTime(5 * MINUTE)
    expect(h.outcomes).toEqual([
      { type: 'raise', at: T0, value: 1, reason: 'trapped 1 >= 1', reasonDetail: { key: 'threshold.raise', metric: 'trapped', observed: 1, op: '>=', limit: 1, forMs: 0 } },
      { type: 'update', at: T0 + 5 * SECOND, value: 0, flapping: true },
      { type: 'clear', at: T0 + 11 * MINUTE + 55 * SECOND, value: 0, reason: 'stopped flapping: condition clear for 2m', reasonDetail: { key: 'flapping.stopped', windowMs: 2 * MINUTE }, flapping: false },
    ])
    expect(h.ev.active).toBe(false)
  })

  it('lets maxTransitions through before holding the alert open', () => {
    const h = Harness.for(trapped({ maxTransitions: 3, window: '2m' }))
    toggling(h, 1, 1)
    expect(h.outcomes.map((o) => [o.type, (o.at - T0) / SECOND, o.flapping])).toEqual([
      ['raise', 0, undefined],
      ['clear', 5, undefined],
      ['raise', 10, undefined],
      ['update', 15, true],
    ])
    expect(h.ev.active).toBe(true)
  })

  it('ends a spell with `flapping: false` on the still-open alert when the condition settles active', () => {
    const h = Harness.for(trapped({ maxTransitions: 1, window: '2m' }))
    toggling(h, 1, 1)
    // Settled on 1 at 60 s (a swallowed raise); quiet until 3 min. Readings while flapping are marked.
    h.series('trapped', [1, 1], MINUTE)
    vi.advanceTimersByTime(MINUTE)
    expect(h.outcomes.slice(2)).toEqual([
      { type: 'update', at: T0 + 60 * SECOND, value: 1, flapping: true },
      { type: 'update', at: T0 + 120 * SECOND, value: 1, flapping: true },
      { type: 'update', at: T0 + 180 * SECOND, value: 1, flapping: false },
    ])
    expect(h.ev.active).toBe(true)
  })

  it('passes occasional transitions through untouched', () => {
    const h = Harness.for(trapped({ maxTransitions: 2, window: '2m' }))
    for (let i = 0; i < 6; i++) {
      h.sample('trapped', 1)
      vi.advanceTimersByTime(MINUTE)
      h.sample('trapped', 0)
      vi.advanceTimersByTime(2 * MINUTE)
    }
    expect(h.transitions().length).toBe(12)
    expect(h.outcomes.every((o) => o.flapping === undefined)).toBe(true)
  })
})
