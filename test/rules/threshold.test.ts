import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Harness, MINUTE, SECOND, T0, rule, useFakeClock } from './harness.ts'

const tilt = (params: Record<string, unknown> = {}) =>
  rule({ type: 'threshold', scope: { kind: 'manhole' }, params: { metric: 'cover_tilt_deg', op: '>', value: 30, for: '60s', clear: { value: 25 }, ...params } })

describe('threshold rule', () => {
  beforeEach(useFakeClock)
  afterEach(() => vi.useRealTimers())

  it('raises exactly when the condition has held for the whole duration', () => {
    const h = Harness.for(tilt()).series('cover_tilt_deg', [35, 36, 37, 38], 30 * SECOND)
    expect(h.outcomes).toEqual([
      // The scheduler's tick at 60 s comes before that second's reading: the held value raised.
      { type: 'raise', at: T0 + 60 * SECOND, value: 36, reason: 'cover_tilt_deg 36 > 30 for 1m', reasonDetail: { key: 'threshold.raise', metric: 'cover_tilt_deg', observed: 36, op: '>', limit: 30, forMs: MINUTE } },
      { type: 'update', at: T0 + 60 * SECOND, value: 37 },
      { type: 'update', at: T0 + 90 * SECOND, value: 38 },
    ])
  })

  it('raises from the scheduler tick when no reading arrives at the deadline', () => {
    const h = Harness.for(tilt()).sample('cover_tilt_deg', 40)
    vi.advanceTimersByTime(59_999)
    expect(h.outcomes).toEqual([])
    vi.advanceTimersByTime(1)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 60 * SECOND }])
  })

  it('restarts the duration after a dip, even one that stays above the clear level', () => {
    // 27 is below the threshold but not past the clear level: the condition did not hold.
    const h = Harness.for(tilt()).series('cover_tilt_deg', [35, 27, 35, 35, 35, 35], 30 * SECOND)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 120 * SECOND }])
  })

  it('does not flap on values oscillating around the threshold (hysteresis): one raise, one clear', () => {
    const wobble = [31, 29, 30.5, 28, 32, 26, 31, 29, 30.1, 25.5, 33]
    const h = Harness.for(tilt({ for: 0 })).series('cover_tilt_deg', [...wobble, 24], 10 * SECOND)
    expect(h.transitions()).toEqual([
      { type: 'raise', at: 0 },
      { type: 'clear', at: 110 * SECOND },
    ])
    expect(h.outcomes.filter((o) => o.type === 'update')).toHaveLength(wobble.length - 1)
    expect(h.outcomes.at(-1)).toMatchObject({ type: 'clear', value: 24, reason: 'back to cover_tilt_deg < 25' })

    // The same readings without a separate clear level flap on every crossing.
    const bare = Harness.for(tilt({ for: 0, clear: undefined })).series('cover_tilt_deg', wobble, 10 * SECOND)
    expect(bare.transitions().filter((t) => t.type === 'raise').length).toBeGreaterThan(3)
  })

  it('clears only after the value stayed past the clear level for clear.for', () => {
    const h = Harness.for(tilt({ for: 0, clear: { value: 25, for: '1m' } }))
    h.series('cover_tilt_deg', [35, 20, 28, 20, 20, 20], 30 * SECOND)
    vi.advanceTimersByTime(MINUTE)
    // 28 sits in the hysteresis band: it breaks the clear duration without raising again.
    expect(h.transitions()).toEqual([
      { type: 'raise', at: 0 },
      { type: 'clear', at: 150 * SECOND },
    ])
  })

  it("treats '<' symmetrically (a tank level below its reserve)", () => {
    const low = rule({ type: 'threshold', scope: { kind: 'fire_tank' }, params: { metric: 'water_level_m', op: '<', value: 1.5, for: '60s', clear: { value: 1.6 } } })
    const h = Harness.for(low).series('water_level_m', [1.49, 1.52, 1.55, 1.4, 1.4, 1.4, 1.58, 1.61], 30 * SECOND)
    expect(h.transitions()).toEqual([
      { type: 'raise', at: 150 * SECOND },
      { type: 'clear', at: 210 * SECOND },
    ])
  })

  it('raises a boolean at once and clears when it goes back to 0', () => {
    const trapped = rule({ type: 'threshold', scope: { kind: 'elevator' }, params: { metric: 'trapped', op: '>=', value: 1 } })
    const h = Harness.for(trapped).series('trapped', [0, 1, 1, 0], 30 * SECOND)
    expect(h.outcomes).toEqual([
      { type: 'raise', at: T0 + 30 * SECOND, value: 1, reason: 'trapped 1 >= 1', reasonDetail: { key: 'threshold.raise', metric: 'trapped', observed: 1, op: '>=', limit: 1, forMs: 0 } },
      { type: 'update', at: T0 + 60 * SECOND, value: 1 },
      { type: 'clear', at: T0 + 90 * SECOND, value: 0, reason: 'back to trapped < 1', reasonDetail: { key: 'threshold.clear', conditions: [{ metric: 'trapped', op: '<', limit: 1 }], forMs: 0 } },
    ])
  })

  it('raises on any of its `or` conditions and clears only when all are past their clear levels', () => {
    const cover = tilt({ for: 0, clear: { value: 10 }, or: [{ metric: 'cover_open', op: '>=', value: 1 }] })
    const h = Harness.for(cover)
    h.sample('cover_tilt_deg', 2).sample('cover_open', 1)
    vi.advanceTimersByTime(30 * SECOND)
    h.sample('cover_tilt_deg', 3).sample('cover_open', 0)
    expect(h.outcomes).toEqual([
      { type: 'raise', at: T0, value: 1, reason: 'cover_open 1 >= 1', reasonDetail: { key: 'threshold.raise', metric: 'cover_open', observed: 1, op: '>=', limit: 1, forMs: 0 } },
      { type: 'update', at: T0 + 30 * SECOND, value: 1 },
      { type: 'clear', at: T0 + 30 * SECOND, value: 3, reason: 'back to cover_tilt_deg < 10 and cover_open < 1', reasonDetail: { key: 'threshold.clear', conditions: [{ metric: 'cover_tilt_deg', op: '<', limit: 10 }, { metric: 'cover_open', op: '<', limit: 1 }], forMs: 0 } },
    ])
  })

  it('ignores other metrics and readings older than the newest one', () => {
    const h = Harness.for(tilt({ for: 0 }))
    h.sample('gas_lel_pct', 99)
    vi.advanceTimersByTime(MINUTE)
    h.sample('cover_tilt_deg', 10)
    const late = h.ev.onSample({ metric: 'cover_tilt_deg', ts: T0, value: 80 })
    expect(late).toEqual([])
    expect(h.outcomes).toEqual([])
  })

  it("applies a device's override", () => {
    const withOverride = rule({
      type: 'threshold',
      scope: { kind: 'manhole' },
      params: { metric: 'cover_tilt_deg', op: '>', value: 30 },
      overrides: { 'mh-9': { value: 50, clear: { value: 45 } } },
    })
    const normal = Harness.for(withOverride, { deviceId: 'mh-1' }).sample('cover_tilt_deg', 40)
    const tuned = Harness.for(withOverride, { deviceId: 'mh-9' }).sample('cover_tilt_deg', 40)
    expect(normal.transitions()).toEqual([{ type: 'raise', at: 0 }])
    expect(tuned.outcomes).toEqual([])
  })
})
