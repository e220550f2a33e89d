import { describe, expect, it } from 'vitest'
import { DEVICE_KINDS, METRICS } from '../../core/contract.ts'
import { FaultNotApplicableError } from '../../simulators/faults.ts'
import { createModel, elevatorTraffic } from '../../simulators/models/index.ts'
import { DAY, HOUR, MIDNIGHT, MINUTE, expectInCatalogue, fitsCatalogue } from './catalogue.ts'

/** Steps `model` every `stepMs` from `from` for `durationMs`, returning each reading with its time. */
function run<V>(model: { step(now: number): V }, from: number, durationMs: number, stepMs = MINUTE): { t: number; v: V }[] {
  const out: { t: number; v: V }[] = []
  for (let t = from; t <= from + durationMs; t += stepMs) out.push({ t, v: model.step(t) })
  return out
}

function num(x: number | boolean): number {
  if (typeof x !== 'number') throw new Error(`expected a number, got ${String(x)}`)
  return x
}

describe('device models', () => {
  it('keep every normal reading inside the catalogue over a simulated day', () => {
    for (const kind of DEVICE_KINDS) {
      for (let seed = 1; seed <= 5; seed++) {
        const model: { step(now: number): Record<string, number | boolean> } = createModel(kind, seed)
        // Collected rather than asserted one by one: a day of readings is ~10,000 values.
        const wrong = run(model, MIDNIGHT, DAY).filter(({ v }) => !fitsCatalogue(kind, v) || Object.keys(v).length !== Object.keys(METRICS[kind]).length)
        expect(wrong, `${kind} seed ${seed}`).toEqual([])
        expectInCatalogue(kind, model.step(MIDNIGHT + DAY + MINUTE))
      }
    }
  })

  it('are deterministic for a seed and differ between seeds', () => {
    const a = run(createModel('elevator', 'el-1'), MIDNIGHT, HOUR)
    const b = run(createModel('elevator', 'el-1'), MIDNIGHT, HOUR)
    const c = run(createModel('elevator', 'el-2'), MIDNIGHT, HOUR)
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
  })

  it('treat a clock stepping backwards as no time passing', () => {
    const tank = createModel('fire_tank', 3)
    tank.inject('tank_leak')
    const first = num(tank.step(MIDNIGHT + HOUR).water_level_m)
    const back = num(tank.step(MIDNIGHT).water_level_m)
    expect(back).toBe(first)
  })

  it('refuse a fault that does not apply to their kind', () => {
    expect(() => createModel('manhole', 1).inject('tank_leak')).toThrow(FaultNotApplicableError)
    expect(() => createModel('gateway', 1).inject('entrapment')).toThrow(/does not apply to a gateway/)
  })
})

describe('fire tank', () => {
  it('loses level linearly at the configured leak rate', () => {
    for (const rate of [0.05, 0.02]) {
      const tank = createModel('fire_tank', 7, { leakRateMPerMin: rate })
      tank.step(MIDNIGHT)
      tank.inject('tank_leak')
      const levels = run(tank, MIDNIGHT + MINUTE, 30 * MINUTE).map(({ v }) => num(v.water_level_m))
      for (let i = 1; i < levels.length; i++) {
        expect((levels[i - 1] ?? NaN) - (levels[i] ?? NaN)).toBeCloseTo(rate, 3)
      }
    }
  })

  it('stops at an empty tank and recovers through the pump once the leak is cleared', () => {
    const tank = createModel('fire_tank', 7, { leakRateMPerMin: 0.5 })
    tank.step(MIDNIGHT)
    tank.inject('tank_leak')
    const empty = tank.step(MIDNIGHT + 20 * MINUTE)
    expect(empty.water_level_m).toBe(0)
    tank.clear('tank_leak')
    const after = run(tank, MIDNIGHT + 21 * MINUTE, HOUR).map(({ v }) => num(v.water_level_m))
    expect(after.at(-1)).toBeGreaterThan(1.5) // 0.03 m/min pump, minus the draw, for an hour
  })

  it('is drawn down by use and refilled by its pump, staying near its normal band', () => {
    const levels = run(createModel('fire_tank', 11), MIDNIGHT, 3 * DAY).map(({ v }) => num(v.water_level_m))
    const diffs = levels.slice(1).map((l, i) => l - (levels[i] ?? l))
    expect(diffs.some((d) => d < 0)).toBe(true) // use
    expect(diffs.some((d) => d > 0.01)).toBe(true) // pump: 0.03 m/min less the draw
    const min = Math.min(...levels)
    const max = Math.max(...levels)
    // The pump starts at 70 % of the tank height and stops at 95 %: the band cannot be wider.
    expect(min).toBeGreaterThan(max * (0.7 / 0.95) - 0.05)
  })

  it('has water temperature following the day and outlet pressure following the level', () => {
    const tank = createModel('fire_tank', 5)
    const at3 = num(tank.step(MIDNIGHT + 3 * HOUR).water_temp_c)
    const at15 = num(tank.step(MIDNIGHT + 15 * HOUR).water_temp_c)
    expect(at15 - at3).toBeGreaterThan(3) // 2.5 °C amplitude: a 5 °C swing from 03:00 to 15:00

    const before = tank.step(MIDNIGHT + 16 * HOUR)
    tank.inject('tank_leak') // 0.05 m/min by default: 1 m in 20 min, ≈ 9.8 kPa of head
    const after = tank.step(MIDNIGHT + 16 * HOUR + 20 * MINUTE)
    const dropKpa = num(before.outlet_pressure_kpa) - num(after.outlet_pressure_kpa)
    const dropM = num(before.water_level_m) - num(after.water_level_m)
    expect(dropM).toBeCloseTo(1, 3)
    expect(dropKpa).toBeGreaterThan(9.81 - 6)
    expect(dropKpa).toBeLessThan(9.81 + 6)
  })
})

describe('manhole', () => {
  it('raises water while raining, at the configured rate, and drains afterwards', () => {
    const mh = createModel('manhole', 2, { rainRiseCmPerMin: 5 })
    const dry = num(mh.step(MIDNIGHT).water_level_cm)
    mh.inject('rain')
    const wet = num(mh.step(MIDNIGHT + 10 * MINUTE).water_level_cm)
    expect(wet - dry).toBeCloseTo(50, 0)
    mh.clear('rain')
    const drained = run(mh, MIDNIGHT + 11 * MINUTE, 3 * HOUR).map(({ v }) => num(v.water_level_cm))
    expect(drained.at(-1)).toBeLessThan(dry + 5)
    expect(drained.every((w, i) => i === 0 || w <= (drained[i - 1] ?? Infinity) + 0.1)).toBe(true)
  })

  it('sees natural downpours come and go', () => {
    const levels = run(createModel('manhole', 4), MIDNIGHT, 10 * DAY).map(({ v }) => num(v.water_level_cm))
    const base = levels[0] ?? 0
    const peak = Math.max(...levels)
    expect(peak).toBeGreaterThan(base + 10)
    expect(levels.at(-1)).toBeLessThan(peak)
  })

  it('reports a displaced cover as open and tilted beyond 30°', () => {
    const mh = createModel('manhole', 9)
    const seated = mh.step(MIDNIGHT)
    expect(seated.cover_open).toBe(false)
    expect(seated.cover_tilt_deg).toBeLessThan(5)
    mh.inject('cover_displaced')
    for (const { v } of run(mh, MIDNIGHT + MINUTE, 10 * MINUTE)) {
      expect(v.cover_open).toBe(true)
      expect(v.cover_tilt_deg).toBeGreaterThan(30)
      expectInCatalogue('manhole', v)
    }
    mh.clear('cover_displaced')
    expect(mh.step(MIDNIGHT + HOUR).cover_open).toBe(false)
  })

  it('drains its battery slowly', () => {
    const readings = run(createModel('manhole', 6), MIDNIGHT, DAY, HOUR).map(({ v }) => num(v.battery_pct))
    const used = (readings[0] ?? 0) - (readings.at(-1) ?? 0)
    expect(used).toBeGreaterThan(0.1)
    expect(used).toBeLessThan(1)
  })
})

describe('elevator', () => {
  /** Share of minutes the car runs, and mean load, around a local hour over 20 days. */
  function usage(hour: number): { running: number; loadKg: number } {
    const el = createModel('elevator', 'el-peak')
    let running = 0
    let load = 0
    let n = 0
    for (let day = 0; day < 20; day++) {
      for (const { v } of run(el, MIDNIGHT + day * DAY + (hour - 0.5) * HOUR, HOUR)) {
        running += v.running ? 1 : 0
        load += num(v.car_load_kg)
        n++
      }
    }
    return { running: running / n, loadKg: load / n }
  }

  it('is busiest in the morning peak and quiet at night', () => {
    const night = usage(3)
    const morning = usage(8)
    const evening = usage(18.5)
    expect(morning.running).toBeGreaterThan(0.7)
    expect(night.running).toBeLessThan(0.25)
    expect(evening.running).toBeGreaterThan(night.running + 0.3)
    expect(morning.loadKg).toBeGreaterThan(night.loadKg * 5)
    const hours = Array.from({ length: 24 * 4 }, (_, i) => i / 4)
    const busiest = hours.reduce((a, b) => (elevatorTraffic(b) > elevatorTraffic(a) ? b : a))
    expect(busiest).toBeGreaterThanOrEqual(7)
    expect(busiest).toBeLessThanOrEqual(9)
  })

  it('moves only with speed and reports door faults now and then', () => {
    const readings = run(createModel('elevator', 12), MIDNIGHT, 3 * DAY).map(({ v }) => v)
    for (const v of readings) {
      if (!v.running) expect(v.speed_mps).toBe(0)
      else expect(v.speed_mps).toBeGreaterThan(0)
    }
    const faults = readings.reduce((n, v) => n + num(v.door_faults), 0)
    expect(faults).toBeGreaterThan(0)
    expect(faults).toBeLessThan(60)
  })

  it('reports an entrapment as trapped, stopped, with someone in the car', () => {
    const el = createModel('elevator', 13)
    el.step(MIDNIGHT + 8 * HOUR)
    el.inject('entrapment')
    for (const { v } of run(el, MIDNIGHT + 8 * HOUR + MINUTE, 10 * MINUTE)) {
      expect(v).toMatchObject({ trapped: true, running: false, speed_mps: 0 })
      expect(v.car_load_kg).toBeGreaterThan(0)
      expectInCatalogue('elevator', v)
    }
    el.clear('entrapment')
    expect(el.step(MIDNIGHT + 9 * HOUR).trapped).toBe(false)
  })
})
