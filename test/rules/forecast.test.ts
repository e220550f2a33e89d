import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Outcome } from '../../rules/evaluators/index.ts'
import { Rng } from '../../simulators/rng.ts'
import { HOUR, Harness, MINUTE, SECOND, T0, rule, useFakeClock } from './harness.ts'

// The catalogue's "predicted below the fire reserve": < 1.5 m within 2 h, fitted over 10 min.
const reserve = rule({
  type: 'forecast',
  severity: 'warning',
  scope: { kind: 'fire_tank' },
  params: { metric: 'water_level_m', op: '<', value: 1.5, window: '10m', horizon: '2h', minSamples: 5 },
})
const STEP = 30 * SECOND

/** Level every 30 s from `from`, falling `perMin` m/min, for `minutes`, plus optional noise. */
function leak(from: number, perMin: number, minutes: number, noise: () => number = () => 0): number[] {
  return Array.from({ length: (minutes * MINUTE) / STEP }, (_, i) => from - perMin * ((i * STEP) / MINUTE) + noise())
}

/** |predicted − true| as a share of the lead the prediction gave (true crossing − when it was made). */
function error(o: Outcome, truth: number): number {
  return Math.abs((o.predictedAt ?? NaN) - truth) / (truth - o.at)
}

describe('forecast rule', () => {
  beforeEach(useFakeClock)
  afterEach(() => vi.useRealTimers())

  it('on an exactly linear fall predicts the crossing within 10 % (here: exactly), and raises once', () => {
    const truth = T0 + 30 * MINUTE // 3.0 m falling 0.05 m/min (the simulator's tank_leak) reaches 1.5 m at 30 min
    const h = Harness.for(reserve).series('water_level_m', leak(3, 0.05, 40), STEP)
    const [raise] = h.outcomes
    expect(raise).toMatchObject({ type: 'raise', at: T0 + 2 * MINUTE, value: 2.9 })
    expect(error(raise as Outcome, truth)).toBeLessThan(0.1)
    expect(Math.abs((raise?.predictedAt ?? NaN) - truth)).toBeLessThan(SECOND)
    expect(raise?.slopePerHour).toBeCloseTo(-3, 6)
    expect(raise?.type === 'raise' ? raise.reason : '').toBe(
      'water_level_m < 1.5 predicted at 2025-01-06T00:30:00.000Z, in 28 min; trend -3 per hour over 10m',
    )
    // Past the crossing it stays raised, predictedAt being when the line crossed.
    expect(h.transitions()).toEqual([{ type: 'raise', at: 2 * MINUTE }])
    expect(Math.abs((h.outcomes.at(-1)?.predictedAt ?? NaN) - truth)).toBeLessThan(SECOND)
  })

  it('on a noisy linear fall predicts within 10 % once its window is full', () => {
    const rng = new Rng(42)
    const truth = T0 + 50 * MINUTE // 4.0 m at 0.05 m/min
    const h = Harness.for(reserve).series('water_level_m', leak(4, 0.05, 45, () => rng.normal(0, 0.01)), STEP)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 2 * MINUTE }])
    const judged = h.outcomes.filter((o) => o.at >= T0 + 10 * MINUTE && truth - o.at >= 10 * MINUTE)
    expect(judged.length).toBeGreaterThan(50)
    for (const o of judged) expect(error(o, truth)).toBeLessThan(0.1)
  })

  it('raises from the scheduler tick when time alone brings the crossing inside the horizon', () => {
    // 3.3 m falling 0.01 m/min crosses 1.5 m at 180 min: inside the 2 h horizon from 60 min on.
    const h = Harness.for(reserve).series('water_level_m', leak(3.3, 0.01, 5), STEP)
    expect(h.outcomes).toEqual([])
    expect(h.ev.nextDeadline()).toBeCloseTo(T0 + HOUR, -3)
    vi.advanceTimersByTime(2 * HOUR)
    expect(h.transitions()).toEqual([{ type: 'raise', at: HOUR }])
    expect(Math.abs((h.outcomes[0]?.predictedAt ?? NaN) - (T0 + 3 * HOUR))).toBeLessThan(SECOND)
  })

  it('does not clear while the predicted crossing is within 1.2 × the horizon, clears beyond it', () => {
    const h = Harness.for(reserve)
    // Crossing ~110 min ahead (raise), then slowing to ~133 min (inside the band), then ~152 min.
    h.series('water_level_m', leak(2.7, 0.01, 10), STEP)
    h.series('water_level_m', leak(2.6, 0.0075, 14), STEP)
    const inBand = h.outcomes.filter((o) => o.type === 'update' && (o.predictedAt ?? 0) - o.at > 2 * HOUR)
    expect(inBand.length).toBeGreaterThan(5)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 2 * MINUTE }])
    h.series('water_level_m', leak(2.495, 0.006, 14), STEP)
    const t = h.transitions()
    expect(t.map((x) => x.type)).toEqual(['raise', 'clear'])
    expect(t[1]?.at).toBeGreaterThan(24 * MINUTE)
  })

  it('clears when the trend turns away (the refill pump starts)', () => {
    const h = Harness.for(reserve)
    h.series('water_level_m', leak(2, 0.05, 5), STEP)
    h.series('water_level_m', leak(1.75, -0.03, 10), STEP)
    const t = h.transitions()
    expect(t.map((x) => x.type)).toEqual(['raise', 'clear'])
    // The fit over the turn flattens first, so the prediction moves past 1.2 × the horizon before it reverses.
    expect(h.outcomes.find((o) => o.type === 'clear')).toMatchObject({ reason: expect.stringMatching(/no longer predicted within 2h/) as unknown })
    expect(h.outcomes.at(-1)?.type).toBe('clear')
  })

  it('raises for a value already past the threshold, predictedAt being the crossing', () => {
    const hot = rule({
      type: 'forecast',
      scope: { kind: 'elevator' },
      params: { metric: 'machine_room_temp_c', op: '>', value: 40, window: '10m', horizon: '1h' },
    })
    // 40.5 °C and rising 0.1 °C per 30 s: the line crossed 40 °C 5 readings (2.5 min) before the first.
    const h = Harness.for(hot).series('machine_room_temp_c', [40.5, 40.6, 40.7, 40.8, 40.9], STEP)
    expect(h.outcomes).toMatchObject([{ type: 'raise', at: T0 + 2 * MINUTE, reason: expect.stringMatching(/already/) as unknown }])
    expect(Math.abs((h.outcomes[0]?.predictedAt ?? NaN) - (T0 - 150 * SECOND))).toBeLessThan(SECOND)
  })

  it('waits for minSamples readings before judging', () => {
    const h = Harness.for(reserve).series('water_level_m', [1.6, 1.58, 1.56, 1.54], STEP)
    expect(h.outcomes).toEqual([])
    expect(h.ev.nextDeadline()).toBeUndefined()
  })
})
