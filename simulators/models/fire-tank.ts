// A fire-fighting water tank on a roof or in a pump room: level gauge, water thermometer,
// pressure transmitter on the outlet main, battery-backed telemetry unit.
import { METRICS } from '../../core/contract.ts'
import type { Rng } from '../rng.ts'
import { DeviceModel, bump, clamp, round, type ResolvedModelOptions, type Values } from './base.ts'

const M = METRICS.fire_tank

/** kPa per metre of water column (ρ·g). */
const KPA_PER_M = 9.81

export class FireTankModel extends DeviceModel<'fire_tank'> {
  readonly kind = 'fire_tank' as const
  private readonly heightM: number
  /** Below this the float switch starts the refill pump; it stops at `fullM`. */
  private readonly refillM: number
  private readonly fullM: number
  /** Height of the water surface above the pressure transmitter, minus the water depth. */
  private readonly headM: number
  private readonly baseTempC: number
  private level: number
  private pumping = false
  private battery: number

  constructor(rng: Rng, opts: ResolvedModelOptions) {
    super(rng, opts)
    this.heightM = rng.uniform(3, 6)
    this.refillM = this.heightM * 0.7
    this.fullM = this.heightM * 0.95
    this.headM = rng.uniform(5, 40)
    this.baseTempC = rng.uniform(12, 20)
    this.level = rng.uniform(this.refillM, this.fullM)
    this.battery = rng.uniform(60, 100)
  }

  protected advance(nowMs: number, dtMin: number): Values<'fire_tank'> {
    const rng = this.rng
    const hour = this.localHour(nowMs)

    if (this.has('tank_leak')) {
      // Modelled as a clean linear loss (the pump cannot keep up or is isolated), so the trend
      // a forecast rule fits is exactly the configured rate.
      this.pumping = false
      this.level -= this.opts.leakRateMPerMin * dtMin
    } else {
      // Draw-down by use (cleaning, tests, the odd tap-off): more by day than at night.
      const drawMPerMin = 0.0015 + 0.002 * bump(hour, 10, 3) + 0.002 * bump(hour, 19, 2)
      if (this.level < this.refillM) this.pumping = true
      if (this.level >= this.fullM) this.pumping = false
      this.level += (this.pumping ? 0.03 - drawMPerMin : -drawMPerMin) * dtMin
    }
    this.level = clamp(this.level, M.water_level_m.min, this.heightM)

    // Water lags the air: a small daily swing peaking mid-afternoon.
    const temp = this.baseTempC + 2.5 * Math.sin((2 * Math.PI * (hour - 9)) / 24) + rng.normal(0, 0.1)
    const pressure = KPA_PER_M * (this.level + this.headM) + rng.normal(0, 1.5)
    this.battery = clamp(this.battery - dtMin * (0.2 / 1440), M.battery_pct.min, M.battery_pct.max)

    return {
      water_level_m: round(this.level, 3),
      water_temp_c: round(clamp(temp, M.water_temp_c.min, M.water_temp_c.max), 1),
      outlet_pressure_kpa: round(clamp(pressure, M.outlet_pressure_kpa.min, M.outlet_pressure_kpa.max), 1),
      battery_pct: round(this.battery, 1),
    }
  }
}
