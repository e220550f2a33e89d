// Forecast: fit a least-squares line to the readings in the window; if it reaches `value` within
// `horizon` from now, raise (a warning, with the predicted crossing time and the slope) so crews act
// before the threshold rule fires. It clears only once no crossing is predicted within
// horizon × CLEAR_FACTOR, or the trend turns away: a prediction hovering at the horizon's edge would
// otherwise flap. A reading already past `value` keeps it raised with `predictedAt` = when the line
// crossed; the separate threshold rule raises the critical alert for the crossing itself.
import type { ForecastParams } from '../definitions.ts'
import type { ReasonDetail } from '../../shared/reason-text.ts'
import { FitWindow } from './fit-window.ts'
import { BaseEvaluator, type Outcome, type Sample } from './shared.ts'
import { predictCrossing, type Line } from '../../shared/trend.ts'

/** Hysteresis on the horizon: clear when the predicted crossing is beyond horizon × this. */
export const CLEAR_FACTOR = 1.2
const HOUR_MS = 3_600_000

interface Verdict {
  raise: boolean
  clear: boolean
  predictedAt: number | undefined
  crossed: boolean
}

export class ForecastEvaluator extends BaseEvaluator {
  readonly type = 'forecast'
  private readonly window = new FitWindow()
  /** The current fit and the newest reading; undefined until the window holds minSamples. */
  private fit: { line: Line; last: Sample } | undefined

  constructor(
    ruleId: string,
    deviceId: string,
    private readonly p: ForecastParams,
  ) {
    super(ruleId, deviceId)
  }

  onSample(s: Sample): Outcome[] {
    if (s.metric !== this.p.metric) return []
    this.clock = Math.max(this.clock, s.ts)
    this.window.push(s)
    const last = this.window.last ?? s
    // The window ends at the newest reading, not at now: when readings stop the fit stands.
    this.window.dropThrough(last.ts - this.p.window)
    const line = this.window.size >= this.p.minSamples ? this.window.line() : undefined
    this.fit = line === undefined ? undefined : { line, last }
    return this.judge(this.clock, true)
  }

  /** Time alone can only bring a predicted crossing inside the horizon. */
  onTick(now: number): Outcome[] {
    this.clock = Math.max(this.clock, now)
    return this.judge(this.clock, false)
  }

  nextDeadline(): number | undefined {
    const v = this.verdict(this.clock)
    if (v === undefined) return undefined
    // At odds after a restore: settle on the next tick.
    if (this.raised ? v.clear : v.raise) return this.clock
    return !this.raised && v.predictedAt !== undefined ? v.predictedAt - this.p.horizon : undefined
  }

  private verdict(now: number): Verdict | undefined {
    if (this.fit === undefined) return undefined
    const { line, last } = this.fit
    const { crossed, predictedAt } = predictCrossing(line, last, this.p.op, this.p.value)
    if (crossed) return { raise: true, clear: false, predictedAt, crossed }
    if (predictedAt === undefined) return { raise: false, clear: true, predictedAt, crossed }
    const lead = predictedAt - now
    return { raise: lead <= this.p.horizon, clear: lead > this.p.horizon * CLEAR_FACTOR, predictedAt, crossed }
  }

  private judge(now: number, onReading: boolean): Outcome[] {
    const v = this.verdict(now)
    if (v === undefined || this.fit === undefined) return []
    const value = this.fit.last.value
    const detail = { slopePerHour: this.fit.line.slope * HOUR_MS, ...(v.predictedAt === undefined ? {} : { predictedAt: v.predictedAt }) }
    if (!this.raised && v.raise) return [this.raise(now, value, this.describe(v, now, value, detail.slopePerHour), detail)]
    if (this.raised && v.clear) return [this.clear(now, value, this.describe(v, now, value, detail.slopePerHour), detail)]
    return this.raised && onReading ? [this.update(now, value, detail)] : []
  }

  private describe(v: Verdict, now: number, observed: number, slopePerHour: number): ReasonDetail {
    const about = { metric: this.p.metric, op: this.p.op, limit: this.p.value, slopePerHour, windowMs: this.p.window }
    if (v.crossed) return { key: 'forecast.crossed', ...about, observed }
    if (v.predictedAt === undefined) return { key: 'forecast.none', ...about }
    const when = { crossing: new Date(v.predictedAt).toISOString(), leadMs: v.predictedAt - now }
    return v.raise ? { key: 'forecast.predicted', ...about, ...when } : { key: 'forecast.receded', ...about, ...when, horizonMs: this.p.horizon }
  }
}
