import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Harness, MINUTE, SECOND, T0, rule, useFakeClock } from './harness.ts'

// The catalogue's "well water rising fast": more than 40 cm per 10 min, fitted over 5 min.
const rising = rule({ type: 'rate', scope: { kind: 'manhole' }, params: { metric: 'water_level_cm', window: '5m', per: '10m', rise: 40 } })
const linear = (from: number, perStep: number, n: number) => Array.from({ length: n }, (_, i) => from + perStep * i)

describe('rate rule', () => {
  beforeEach(useFakeClock)
  afterEach(() => vi.useRealTimers())

  it('raises once the readings span half the window and rise faster than the limit', () => {
    // 5 cm/min (the simulator's injected rain) = 50 cm per 10 min.
    const h = Harness.for(rising).series('water_level_cm', linear(10, 2.5, 8), 30 * SECOND)
    const [raise, ...rest] = h.outcomes
    expect(raise).toMatchObject({ type: 'raise', at: T0 + 150 * SECOND, reason: 'water_level_cm rising 50 per 10m (rise limit 40, over 5m)' })
    expect(raise?.value).toBeCloseTo(50, 9)
    expect(rest.map((o) => o.type)).toEqual(['update', 'update'])
  })

  it('stays quiet for a rise within the limit (the heaviest natural shower, 3 cm/min)', () => {
    const h = Harness.for(rising).series('water_level_cm', linear(10, 1.5, 40), 30 * SECOND)
    expect(h.outcomes).toEqual([])
  })

  it('clears when the level stops rising, once', () => {
    const h = Harness.for(rising)
    h.series('water_level_cm', linear(10, 2.5, 20), 30 * SECOND)
    h.series('water_level_cm', Array<number>(20).fill(57.5), 30 * SECOND)
    const t = h.transitions()
    expect(t.map((x) => x.type)).toEqual(['raise', 'clear'])
    // The flat part starts at 10 min; the fitted rate is below 40 within a few readings of it.
    expect(t[1]?.at).toBeGreaterThan(10 * MINUTE)
    expect(t[1]?.at).toBeLessThanOrEqual(12 * MINUTE)
  })

  it('raises on a fall beyond `fall` (a leaking tank losing 0.05 m/min)', () => {
    const falling = rule({ type: 'rate', scope: { kind: 'fire_tank' }, params: { metric: 'water_level_m', window: '10m', per: '1h', fall: 1 } })
    const h = Harness.for(falling).series('water_level_m', linear(4, -0.025, 12), 30 * SECOND)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 5 * MINUTE }])
    expect(h.outcomes[0]?.value).toBeCloseTo(-3, 9)
    expect(h.outcomes[0]).toMatchObject({ reason: 'water_level_m falling 3 per 1h (fall limit 1, over 10m)' })
  })

  it('is not decided by one noisy reading at the end of the window', () => {
    // Last minus first would be 20 cm in 4.5 min (44 per 10 min); the fitted slope is ~20.
    const h = Harness.for(rising).series('water_level_cm', [...Array<number>(9).fill(10), 30], 30 * SECOND)
    expect(h.outcomes).toEqual([])
  })

  it('gives no verdict on readings spanning less than half the window', () => {
    const h = Harness.for(rising).series('water_level_cm', [10, 60, 110], SECOND)
    expect(h.outcomes).toEqual([])
  })

  it('settles on the next tick when restored at odds with its verdict', () => {
    const h = Harness.for(rising).series('water_level_cm', linear(10, 0.5, 10), 30 * SECOND)
    expect(h.ev.nextDeadline()).toBeUndefined()
    h.ev.restoreActive(true)
    expect(h.ev.nextDeadline()).toBe(T0 + 270 * SECOND)
    expect(h.ev.onTick(Date.now())).toMatchObject([{ type: 'clear', at: Date.now() }])
  })
})
