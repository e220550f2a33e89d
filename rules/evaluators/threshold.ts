// Threshold with a duration and a separate clear level (hysteresis).
//
// A reading holds until the next one (sample and hold), so "for 60 s" means: every reading for 60 s
// met the condition. Two facts are tracked whether or not the alert is raised, so that restoring the
// API's state after a replay (restoreActive) leads straight to the right transition:
// - `holdSince`: since when the raise condition has held without a break (a dip resets it);
// - `safeSince`: since when every condition has been strictly past its clear level.
// Between the two levels neither holds, so a value hovering at the threshold cannot flap.
import type { Op, ThresholdParams } from '../definitions.ts'
import type { ReasonDetail } from '../../shared/reason-text.ts'
import { BaseEvaluator, holds, isSafe, type Outcome, type Sample } from './shared.ts'

interface Condition {
  metric: string
  op: Op
  value: number
  clearValue: number
  last: number | undefined
}

export class ThresholdEvaluator extends BaseEvaluator {
  readonly type = 'threshold'
  private readonly conditions: Condition[]
  private readonly forMs: number
  private readonly clearForMs: number
  private holdSince: number | undefined
  private safeSince: number | undefined

  constructor(ruleId: string, deviceId: string, p: ThresholdParams) {
    super(ruleId, deviceId)
    const main = { metric: p.metric, op: p.op, value: p.value, clearValue: p.clear?.value ?? p.value, last: undefined }
    const more = (p.or ?? []).map((c) => ({ metric: c.metric, op: c.op, value: c.value, clearValue: c.clear?.value ?? c.value, last: undefined }))
    this.conditions = [main, ...more]
    this.forMs = p.for
    this.clearForMs = p.clear?.for ?? 0
  }

  onSample(s: Sample): Outcome[] {
    const mine = this.conditions.filter((c) => c.metric === s.metric)
    // A late reading does not replace a newer current value.
    if (mine.length === 0 || s.ts < this.clock) return []
    const out = this.advance(s.ts)
    for (const c of mine) c.last = s.value
    this.observe(s.ts)
    out.push(...this.advance(s.ts))
    if (this.raised && !out.some((o) => o.type === 'raise' && o.at === s.ts)) out.push(this.update(s.ts, this.value()))
    return out
  }

  onTick(now: number): Outcome[] {
    return this.advance(now)
  }

  nextDeadline(): number | undefined {
    if (!this.raised && this.holdSince !== undefined) return this.holdSince + this.forMs
    if (this.raised && this.safeSince !== undefined) return this.safeSince + this.clearForMs
    return undefined
  }

  /** Re-derives the two "since" marks from the current values at time `ts`. */
  private observe(ts: number): void {
    const holding = this.conditions.some((c) => c.last !== undefined && holds(c.op, c.last, c.value))
    // A metric that never reported counts as safe: the device may not have that sensor.
    const safe = this.conditions.every((c) => c.last === undefined || isSafe(c.op, c.last, c.clearValue))
    this.holdSince = holding ? (this.holdSince ?? ts) : undefined
    this.safeSince = safe ? (this.safeSince ?? ts) : undefined
  }

  /** Completes the duration that ended by `now`, if any (holding and safe exclude each other). */
  private advance(now: number): Outcome[] {
    this.clock = Math.max(this.clock, now)
    const due = this.nextDeadline()
    if (due === undefined || due > now) return []
    if (!this.raised) return [this.raise(due, this.value(), this.describe())]
    return [this.clear(due, this.value(), this.describeClear())]
  }

  /** The value to report: the first condition that holds, else the main metric's. */
  private value(): number | null {
    const c = this.conditions.find((x) => x.last !== undefined && holds(x.op, x.last, x.value)) ?? this.conditions[0]
    return c?.last ?? null
  }

  private describe(): ReasonDetail {
    const c = this.conditions.find((x) => x.last !== undefined && holds(x.op, x.last, x.value))
    if (c?.last === undefined) return { key: 'threshold.held', forMs: this.forMs }
    return { key: 'threshold.raise', metric: c.metric, observed: c.last, op: c.op, limit: c.value, forMs: this.forMs }
  }

  private describeClear(): ReasonDetail {
    const conditions = this.conditions.map((c) => ({ metric: c.metric, op: c.op === '>' || c.op === '>=' ? ('<' as const) : ('>' as const), limit: c.clearValue }))
    return { key: 'threshold.clear', conditions, forMs: this.clearForMs }
  }
}
