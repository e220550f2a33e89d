// Rebuilding after a restart: replay the stored readings, restore the API's view of the alert,
// tick once at "now", and carry on. Nothing may be lost and nothing raised twice.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'
import type { RuleDefinition } from '../../rules/definitions.ts'
import { createEvaluator, type Evaluator, type Outcome } from '../../rules/evaluators/index.ts'
import { Harness, MINUTE, SECOND, T0, useFakeClock } from './harness.ts'

function catalogued(id: string): RuleDefinition {
  const found = DEFAULT_RULES.find((r) => r.id === id)
  if (found === undefined) throw new Error(`no rule ${id}`)
  return found
}

/** The engine's restart sequence; returns the evaluator and what the first tick emitted. */
function restart(def: RuleDefinition, readings: [offsetMs: number, metric: string, value: number][], alertActive: boolean): { ev: Evaluator; first: Outcome[] } {
  const ev = createEvaluator(def, 'dev-1', { expectedIntervalMs: 30 * SECOND })
  // Replayed outcomes describe the past, which the API already knows: discarded.
  for (const [offset, metric, value] of readings) ev.onSample({ metric, ts: T0 + offset, value })
  ev.restoreActive(alertActive)
  return { ev, first: ev.onTick(T0) }
}

describe('restart', () => {
  beforeEach(useFakeClock)
  afterEach(() => vi.useRealTimers())

  const reserve = catalogued('fire-tank-below-reserve') // water_level_m < 1.5 for 60 s

  it('resumes a "for 60 s" that was 40 s in: raises 20 s after the restart, once', () => {
    const { ev, first } = restart(reserve, [[-40 * SECOND, 'water_level_m', 1.4], [-10 * SECOND, 'water_level_m', 1.4]], false)
    expect(first).toEqual([])
    const h = new Harness(ev)
    vi.advanceTimersByTime(19 * SECOND)
    expect(h.outcomes).toEqual([])
    vi.advanceTimersByTime(1 * SECOND)
    h.series('water_level_m', [1.4, 1.4], 30 * SECOND)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 20 * SECOND }])
  })

  it('does not raise again an alert that the API has open and whose condition persists', () => {
    const history: [number, string, number][] = Array.from({ length: 10 }, (_, i) => [-(10 - i) * 30 * SECOND, 'water_level_m', 1.3])
    const { ev, first } = restart(reserve, history, true)
    expect(first).toEqual([])
    const h = new Harness(ev).series('water_level_m', [1.3, 1.3, 1.3], 30 * SECOND)
    vi.advanceTimersByTime(10 * MINUTE)
    expect(h.outcomes.map((o) => o.type)).toEqual(['update', 'update', 'update'])
  })

  it('clears an open alert whose condition cleared while the engine was down', () => {
    const { ev, first } = restart(reserve, [[-5 * MINUTE, 'water_level_m', 1.3], [-2 * MINUTE, 'water_level_m', 1.7]], true)
    expect(first).toMatchObject([{ type: 'clear', at: T0 - 2 * MINUTE, value: 1.7 }])
    expect(ev.active).toBe(false)
    expect(ev.onTick(T0 + MINUTE)).toEqual([])
  })

  it('raises, once, an alert whose duration completed while the engine was down', () => {
    const { ev, first } = restart(reserve, [[-3 * MINUTE, 'water_level_m', 1.3], [-30 * SECOND, 'water_level_m', 1.3]], false)
    expect(first).toMatchObject([{ type: 'raise', at: T0 - 2 * MINUTE, value: 1.3 }])
    expect(ev.onTick(T0 + SECOND)).toEqual([])
    expect(ev.onSample({ metric: 'water_level_m', ts: T0 + 30 * SECOND, value: 1.3 }).map((o) => o.type)).toEqual(['update'])
  })

  it('resumes a silence: raises offline 3 intervals after the last stored reading', () => {
    const { ev, first } = restart(catalogued('fire-tank-offline'), [[-80 * SECOND, 'battery_pct', 70]], false)
    expect(first).toEqual([])
    const h = new Harness(ev)
    vi.advanceTimersByTime(MINUTE)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 10 * SECOND }])
  })

  it('clears an open offline alert when stored readings show the device came back', () => {
    const { first } = restart(catalogued('fire-tank-offline'), [[-20 * SECOND, 'battery_pct', 70]], true)
    expect(first).toMatchObject([{ type: 'clear', at: T0 }])
  })

  it('rebuilds a count window: the open door-fault alert clears when its oldest fault slides out', () => {
    const faults: [number, string, number][] = [[-9 * MINUTE, 'door_faults', 1], [-8 * MINUTE, 'door_faults', 1], [-MINUTE, 'door_faults', 1]]
    const { ev, first } = restart(catalogued('elevator-door-faults'), faults, true)
    expect(first).toEqual([])
    const h = new Harness(ev)
    vi.advanceTimersByTime(5 * MINUTE)
    expect(h.transitions()).toEqual([{ type: 'clear', at: MINUTE }])
  })

  it('keeps an open forecast open and updating, without a second raise', () => {
    const levels: [number, string, number][] = Array.from({ length: 20 }, (_, i) => [-(20 - i) * 30 * SECOND, 'water_level_m', 3 - 0.025 * i])
    const { ev, first } = restart(catalogued('fire-tank-reserve-forecast'), levels, true)
    expect(first).toEqual([])
    const h = new Harness(ev).series('water_level_m', [2.5, 2.475], 30 * SECOND)
    expect(h.outcomes.map((o) => o.type)).toEqual(['update', 'update'])
  })
})
