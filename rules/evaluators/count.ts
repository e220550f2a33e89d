// Count in a sliding window: "door_faults summed over the last 10 min ≥ 3", or "readings meeting
// op/value within the window ≥ count". A reading at `ts` is inside the window until `ts + window`,
// so the alert clears at the exact moment the reading that kept the total high slides out.
import type { CountParams } from '../definitions.ts'
import type { ReasonDetail } from '../../shared/reason-text.ts'
import { BaseEvaluator, SampleWindow, holds, type Outcome, type Sample } from './shared.ts'

export class CountEvaluator extends BaseEvaluator {
  readonly type = 'count'
  /** Only the readings that count (meet op/value, when set). */
  private readonly window = new SampleWindow()
  /** Occurrences, or the sum of the values, in the window; kept as the window changes. */
  private total = 0

  constructor(
    ruleId: string,
    deviceId: string,
    private readonly p: CountParams,
  ) {
    super(ruleId, deviceId)
  }

  onSample(s: Sample): Outcome[] {
    if (s.metric !== this.p.metric) return []
    const out = this.advance(s.ts)
    const counts = this.p.op === undefined || this.p.value === undefined || holds(this.p.op, s.value, this.p.value)
    // A late reading still counts while it is inside the window as of now.
    if (counts && s.ts + this.p.window > this.clock) {
      const dropped = this.window.push(s)
      this.total += this.weight(s) - (dropped === undefined ? 0 : this.weight(dropped))
    }
    const at = this.clock
    if (!this.raised && this.total >= this.p.count) out.push(this.raise(at, this.total, this.describe('count.raise')))
    else if (this.raised) out.push(this.update(at, this.total))
    return out
  }

  onTick(now: number): Outcome[] {
    return this.advance(now)
  }

  nextDeadline(): number | undefined {
    if (!this.raised) return undefined
    // Restored as raised with too little in the window: clear on the next tick.
    if (this.total < this.p.count) return this.clock
    const first = this.window.first
    return first === undefined ? undefined : first.ts + this.p.window
  }

  /** Slides the window to `now`; clears at the moment the total drops below the count. */
  private advance(now: number): Outcome[] {
    this.clock = Math.max(this.clock, now)
    const out: Outcome[] = []
    let first = this.window.first
    while (first !== undefined && first.ts + this.p.window <= this.clock) {
      this.window.shift()
      this.total -= this.weight(first)
      // Float sums drift: an empty window is exactly zero.
      if (this.window.size === 0) this.total = 0
      if (this.raised && this.total < this.p.count) out.push(this.clear(first.ts + this.p.window, this.total, this.describe('count.clear')))
      first = this.window.first
    }
    if (this.raised && this.total < this.p.count) out.push(this.clear(this.clock, this.total, this.describe('count.clear')))
    return out
  }

  private weight(s: Sample): number {
    return this.p.mode === 'sum' ? s.value : 1
  }

  private describe(key: 'count.raise' | 'count.clear'): ReasonDetail {
    const { metric, mode, op, value, window, count } = this.p
    const filter = op === undefined || value === undefined ? null : { op, value }
    return { key, metric, mode, filter, total: this.total, windowMs: window, limit: count }
  }
}
