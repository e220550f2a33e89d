// Rate of change: the least-squares slope of the readings in the window, stated per `per` (e.g. cm
// per 10 min), beyond `rise` or below −`fall` raises; back within clears. A fitted slope rather than
// last-minus-first, so one noisy reading at either end of the window does not decide it.
//
// Judged at each reading, over the window ending at the newest reading: when readings stop, the
// verdict stands (silence is the nodata rule's business) instead of drifting as the window empties.
import type { RateParams } from '../definitions.ts'
import type { ReasonDetail } from '../../shared/reason-text.ts'
import { FitWindow } from './fit-window.ts'
import { BaseEvaluator, type Outcome, type Sample } from './shared.ts'

export class RateEvaluator extends BaseEvaluator {
  readonly type = 'rate'
  private readonly window = new FitWindow()
  /** The rate at the last verdict, per `per`; undefined until the window holds enough. */
  private rate: number | undefined

  constructor(
    ruleId: string,
    deviceId: string,
    private readonly p: RateParams,
  ) {
    super(ruleId, deviceId)
  }

  onSample(s: Sample): Outcome[] {
    if (s.metric !== this.p.metric) return []
    this.clock = Math.max(this.clock, s.ts)
    this.window.push(s)
    this.window.dropThrough((this.window.last?.ts ?? s.ts) - this.p.window)
    this.rate = this.measure()
    return this.judge(this.clock, true)
  }

  onTick(now: number): Outcome[] {
    this.clock = Math.max(this.clock, now)
    return this.judge(this.clock, false)
  }

  nextDeadline(): number | undefined {
    // Only a restore can leave the raised flag at odds with the last verdict.
    return this.rate !== undefined && this.breached(this.rate) !== this.raised ? this.clock : undefined
  }

  /**
   * The fitted rate, when the readings span at least half the window: two readings a second apart
   * would turn sensor noise into a huge rate.
   */
  private measure(): number | undefined {
    const { first, last } = this.window
    if (first === undefined || last === undefined || last.ts - first.ts < this.p.window / 2) return undefined
    const line = this.window.line()
    return line === undefined ? undefined : line.slope * this.p.per
  }

  private breached(rate: number): boolean {
    return (this.p.rise !== undefined && rate > this.p.rise) || (this.p.fall !== undefined && rate < -this.p.fall)
  }

  private judge(at: number, onReading: boolean): Outcome[] {
    const rate = this.rate
    if (rate === undefined) return []
    const breach = this.breached(rate)
    if (breach && !this.raised) return [this.raise(at, rate, this.describe('rate.raise', rate))]
    if (!breach && this.raised) return [this.clear(at, rate, this.describe('rate.clear', rate))]
    return breach && onReading ? [this.update(at, rate)] : []
  }

  private describe(key: 'rate.raise' | 'rate.clear', rate: number): ReasonDetail {
    const { metric, per, rise, fall, window } = this.p
    return { key, metric, rate, perMs: per, rise: rise ?? null, fall: fall ?? null, windowMs: window }
  }
}
