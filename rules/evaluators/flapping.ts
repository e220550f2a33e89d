// Flapping: a (rule, device) whose condition keeps raising and clearing would, on an auto-resolving
// rule, open a new alert each cycle: an alarm storm. This wrapper counts the raise/clear
// transitions of the evaluator it wraps within `window`. Up to `maxTransitions` pass through; the
// one beyond makes the alert stay one alert, marked flapping: a clear is swallowed and an `update`
// with `flapping: true` goes out instead (a raise still goes out, marked, since the alert had
// cleared). While flapping, transitions are swallowed and updates marked. After a whole `window`
// without a transition it ends: with the pending clear if the condition is clear, else with an
// update carrying `flapping: false`.
import type { DeviceStatus } from '../../core/contract.ts'
import { because } from '../../shared/reason-text.ts'
import type { Evaluator, Outcome, Sample } from './shared.ts'

export interface FlappingOptions {
  maxTransitions: number
  window: number
}

export function withFlapping(inner: Evaluator, opts: FlappingOptions): Evaluator {
  return new FlappingEvaluator(inner, opts)
}

class FlappingEvaluator implements Evaluator {
  /** Times of the recent transitions: at most maxTransitions + 1, all inside the window. */
  private transitions: number[] = []
  private flapping = false
  /** What the API was told; differs from the inner state while flapping. */
  private shownActive: boolean
  /** The wrapped evaluator's state as of the outcome being filtered (it may emit two at once). */
  private innerActive: boolean
  private lastValue: number | null = null

  constructor(
    private readonly inner: Evaluator,
    private readonly opts: FlappingOptions,
  ) {
    this.shownActive = inner.active
    this.innerActive = inner.active
  }

  get ruleId(): string {
    return this.inner.ruleId
  }

  get deviceId(): string {
    return this.inner.deviceId
  }

  get type(): Evaluator['type'] {
    return this.inner.type
  }

  get active(): boolean {
    return this.shownActive
  }

  onSample(sample: Sample): Outcome[] {
    return this.filter(this.inner.onSample(sample), sample.ts)
  }

  onTick(now: number): Outcome[] {
    return this.filter(this.inner.onTick(now), now)
  }

  onStatus(status: DeviceStatus, at: number): Outcome[] {
    return this.filter(this.inner.onStatus(status, at), at)
  }

  /** After a restart the spell is forgotten; the API still shows the alert marked flapping. */
  restoreActive(active: boolean): void {
    this.inner.restoreActive(active)
    this.shownActive = active
    this.innerActive = active
    this.flapping = false
    this.transitions = []
  }

  nextDeadline(): number | undefined {
    const inner = this.inner.nextDeadline()
    const quiet = this.quietAt()
    if (quiet === undefined) return inner
    return inner === undefined ? quiet : Math.min(inner, quiet)
  }

  private quietAt(): number | undefined {
    const last = this.transitions[this.transitions.length - 1]
    return this.flapping && last !== undefined ? last + this.opts.window : undefined
  }

  /** Passes the inner outcomes through the flapping gate, in time order, then checks quiet at `now`. */
  private filter(outcomes: Outcome[], now: number): Outcome[] {
    const out: Outcome[] = []
    for (const o of outcomes) {
      out.push(...this.endIfQuiet(o.at))
      this.lastValue = o.value
      if (o.type === 'update') {
        out.push(this.flapping ? { ...o, flapping: true } : o)
        continue
      }
      this.innerActive = o.type === 'raise'
      this.transitions.push(o.at)
      this.transitions = this.transitions.filter((t) => t > o.at - this.opts.window).slice(-(this.opts.maxTransitions + 1))
      if (this.flapping) continue
      if (this.transitions.length <= this.opts.maxTransitions) {
        this.shownActive = o.type === 'raise'
        out.push(o)
        continue
      }
      this.flapping = true
      if (o.type === 'raise') {
        this.shownActive = true
        out.push({ ...o, flapping: true })
      } else {
        out.push({ type: 'update', at: o.at, value: o.value, flapping: true })
      }
    }
    out.push(...this.endIfQuiet(now))
    return out
  }

  private endIfQuiet(now: number): Outcome[] {
    const quiet = this.quietAt()
    if (quiet === undefined || quiet > now) return []
    this.flapping = false
    this.transitions = []
    if (this.innerActive) return [{ type: 'update', at: quiet, value: this.lastValue, flapping: false }]
    this.shownActive = false
    return [{ type: 'clear', at: quiet, value: this.lastValue, ...because({ key: 'flapping.stopped', windowMs: this.opts.window }), flapping: false }]
  }
}
