// What every device model shares: its own seeded randomness, the set of active faults, and
// turning absolute step times into elapsed minutes so behaviour does not depend on how often
// the model is stepped.
import type { DeviceKind, MetricName } from '../../core/contract.ts'
import { FaultNotApplicableError, faultAppliesTo, type Fault } from '../faults.ts'
import type { Rng } from '../rng.ts'

/** One reading of every catalogue metric of kind `K` (the compiler checks none is missing). */
export type Values<K extends DeviceKind = DeviceKind> = { [M in MetricName<K>]: number | boolean }

export interface ModelOptions {
  /** Local time zone for day cycles, minutes east of UTC (the reference district is Shanghai, UTC+8). */
  utcOffsetMin?: number
  /** How fast a leaking fire tank loses level. */
  leakRateMPerMin?: number
  /** How fast well water rises while the `rain` fault is on. */
  rainRiseCmPerMin?: number
}

export type ResolvedModelOptions = Required<ModelOptions>

export const DEFAULT_MODEL_OPTIONS: ResolvedModelOptions = {
  utcOffsetMin: 8 * 60,
  leakRateMPerMin: 0.05,
  rainRiseCmPerMin: 5,
}

export abstract class DeviceModel<K extends DeviceKind = DeviceKind> {
  abstract readonly kind: K
  private readonly active = new Set<Fault>()
  private lastMs: number | undefined

  constructor(
    protected readonly rng: Rng,
    protected readonly opts: ResolvedModelOptions,
  ) {}

  /** Advances the model to `nowMs` and returns what its sensors read then. */
  step(nowMs: number): Values<K> {
    // A clock that steps back (NTP, a test) must not run physics backwards: treat it as no time.
    const dtMin = this.lastMs === undefined ? 0 : Math.max(0, nowMs - this.lastMs) / 60_000
    this.lastMs = this.lastMs === undefined ? nowMs : Math.max(this.lastMs, nowMs)
    return this.advance(nowMs, dtMin)
  }

  /** The physics: move state on by `dtMin` minutes and read the sensors. */
  protected abstract advance(nowMs: number, dtMin: number): Values<K>

  /** Switches a fault on; throws if it makes no sense for this kind of device. */
  inject(fault: Fault): void {
    if (!faultAppliesTo(fault, this.kind)) throw new FaultNotApplicableError(fault, this.kind)
    this.active.add(fault)
  }

  clear(fault: Fault): void {
    this.active.delete(fault)
  }

  has(fault: Fault): boolean {
    return this.active.has(fault)
  }

  get faults(): ReadonlySet<Fault> {
    return this.active
  }

  /** Hour of the local day in [0, 24), fractional. */
  protected localHour(nowMs: number): number {
    const hours = (nowMs / 3_600_000 + this.opts.utcOffsetMin / 60) % 24
    return hours < 0 ? hours + 24 : hours
  }
}

export function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, x))
}

/** Rounds to `digits` decimals, as a sensor's resolution would. */
export function round(x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** exp(-(x-mu)²/2sd²): a smooth bump used for daily peaks. */
export function bump(x: number, mu: number, sd: number): number {
  return Math.exp(-0.5 * ((x - mu) / sd) ** 2)
}

/** Multiplier that halves a quantity every `halfLifeMin`, over `dtMin`. */
export function decay(dtMin: number, halfLifeMin: number): number {
  return 0.5 ** (dtMin / halfLifeMin)
}
