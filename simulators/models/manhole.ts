// A smart manhole cover: tilt and open sensors, a water level probe in the well, a gas sensor,
// a battery and an NB-IoT-style radio.
import { METRICS } from '../../core/contract.ts'
import type { Rng } from '../rng.ts'
import { DeviceModel, clamp, decay, round, type ResolvedModelOptions, type Values } from './base.ts'

const M = METRICS.manhole

/** Natural downpours: about one every two days, each 20–90 min. */
const RAIN_PER_MIN = 1 / (2 * 24 * 60)

export class ManholeModel extends DeviceModel<'manhole'> {
  readonly kind = 'manhole' as const
  private readonly depthCm: number
  private readonly baseWaterCm: number
  private readonly baseGas: number
  private readonly baseRssi: number
  private water: number
  private gasBump = 0
  private battery: number
  /** Remaining minutes and intensity (cm/min) of a natural downpour. */
  private shower = { minutesLeft: 0, cmPerMin: 0 }

  constructor(rng: Rng, opts: ResolvedModelOptions) {
    super(rng, opts)
    this.depthCm = rng.uniform(150, 400)
    this.baseWaterCm = rng.uniform(3, 20)
    this.baseGas = rng.uniform(0.5, 3)
    this.baseRssi = rng.uniform(-105, -75)
    this.water = this.baseWaterCm
    this.battery = rng.uniform(60, 100)
  }

  protected advance(_nowMs: number, dtMin: number): Values<'manhole'> {
    const rng = this.rng
    this.stepWater(dtMin)

    // Gas: a low background with the odd small bump (sewer gas pocket) that airs out.
    this.gasBump *= decay(dtMin, 10)
    if (rng.happens(1 / (6 * 60), dtMin)) this.gasBump += rng.uniform(3, 12)
    const gas = clamp(this.baseGas + this.gasBump + rng.normal(0, 0.2), M.gas_lel_pct.min, 40)

    // Primary cell draining about a quarter of a percent a day.
    this.battery = clamp(this.battery - dtMin * (0.25 / 1440), M.battery_pct.min, M.battery_pct.max)

    const displaced = this.has('cover_displaced')
    const tilt = displaced ? rng.uniform(32, 70) : clamp(Math.abs(rng.normal(0.5, 0.3)), 0, 5)
    return {
      cover_tilt_deg: round(tilt, 1),
      cover_open: displaced,
      water_level_cm: round(this.water, 1),
      gas_lel_pct: round(gas, 1),
      battery_pct: round(this.battery, 1),
      rssi_dbm: Math.round(clamp(this.baseRssi + rng.normal(0, 2), M.rssi_dbm.min, M.rssi_dbm.max)),
    }
  }

  private stepWater(dtMin: number): void {
    const rng = this.rng
    if (this.shower.minutesLeft <= 0 && rng.happens(RAIN_PER_MIN, dtMin)) {
      this.shower = { minutesLeft: rng.uniform(20, 90), cmPerMin: rng.uniform(0.5, 3) }
    }
    let inflow = 0
    if (this.has('rain')) {
      // Injected rain is linear and deterministic so a threshold or forecast test can predict it.
      inflow = this.opts.rainRiseCmPerMin * dtMin
    } else if (this.shower.minutesLeft > 0) {
      const minutes = Math.min(dtMin, this.shower.minutesLeft)
      inflow = this.shower.cmPerMin * minutes
      this.shower.minutesLeft -= minutes
    }
    if (inflow > 0) {
      this.water += inflow
    } else {
      // Drains back towards the dry-weather level, halving the excess every half hour.
      this.water = this.baseWaterCm + (this.water - this.baseWaterCm) * decay(dtMin, 30)
    }
    // The well cannot hold more than its depth: above that it overflows into the street.
    this.water = clamp(this.water, M.water_level_cm.min, this.depthCm)
  }
}
