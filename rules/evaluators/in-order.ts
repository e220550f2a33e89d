// Late samples are placed, not dropped (issue 17). Readings of one device can reach the engine out
// of device-time order: two AMQP workers commit a device's messages in either order, a gateway
// splits a buffered batch over messages. An evaluator alone ignores a sample older than its clock.
// This wrapper keeps the evaluator's state as of `bound` ago (the base) and the inputs since; a
// sample that arrives late but within the bound is inserted in its place, the inputs are run again
// from a copy of the base, and what that run finds that was never reported — a raise, or a raise
// and its clear that the late reading reveals — is returned to be reported, with its own time.
//
// What the API was told stands: a transition already reported is not taken back by a late sample
// (the alert exists, people may be on their way), and a newly found transition before one already
// reported is not sent (the API's alert already moved past it). A sample older than the bound is
// not evaluated; `onBeyondBound` counts it (metric and log by the engine).
import type { DeviceStatus } from '../../core/contract.ts'
import { cloneState } from './clone.ts'
import { TimeQueue, type Evaluator, type Outcome, type Sample } from './shared.ts'

/** A sample is its own input (no wrapper per reading); a status carries its time. */
type Input = Sample | { t: number; status: DeviceStatus }
const inputTime = (i: Input) => ('status' in i ? i.t : i.ts)

/** Inputs kept per evaluator within the bound; a chattier device folds earlier (a shorter bound for it). */
const MAX_INPUTS = 512

export interface LatenessEvents {
  /** A late sample was placed and re-evaluated. */
  placed(ev: Evaluator): void
  /** A sample older than the bound was left out. */
  beyondBound(ev: Evaluator, sample: Sample, clock: number): void
}

export class InOrderEvaluator implements Evaluator {
  private base: Evaluator
  private readonly inputs = new TimeQueue<Input>(inputTime)
  /** The base's time: inputs before it are folded in. */
  private baseTime = -Infinity
  /** The newest input or tick seen (device time). */
  private clock = -Infinity
  private lastTick = -Infinity
  /** Raises and clears reported since the base (by type and time), to tell what a re-run finds anew. */
  private reported: { type: 'raise' | 'clear'; at: number }[] = []

  /** The metrics the rule reads: a sample of another metric changes nothing, so it is not kept. */
  private readonly metrics: ReadonlySet<string>

  constructor(
    private live: Evaluator,
    private readonly boundMs: number,
    private readonly events: LatenessEvents,
    metrics: readonly string[],
  ) {
    this.base = cloneState(live)
    this.metrics = new Set(metrics)
  }

  get ruleId(): string {
    return this.live.ruleId
  }

  get deviceId(): string {
    return this.live.deviceId
  }

  get type(): Evaluator['type'] {
    return this.live.type
  }

  get active(): boolean {
    return this.live.active
  }

  restoreActive(active: boolean): void {
    this.live.restoreActive(active)
    this.base.restoreActive(active)
  }

  nextDeadline(): number | undefined {
    return this.live.nextDeadline()
  }

  onTick(now: number): Outcome[] {
    this.lastTick = Math.max(this.lastTick, now)
    this.clock = Math.max(this.clock, now)
    const out = this.note(this.live.onTick(now))
    this.fold()
    return out
  }

  onStatus(status: DeviceStatus, at: number): Outcome[] {
    // A status is placed on arrival: it says what the broker or platform saw then.
    const t = Math.max(at, this.clock)
    this.inputs.push({ t, status })
    this.clock = t
    const out = this.note(this.live.onStatus(status, t))
    this.fold()
    return out
  }

  onSample(s: Sample): Outcome[] {
    if (!this.metrics.has(s.metric)) return []
    if (s.ts >= this.clock) {
      this.inputs.push(s)
      this.clock = s.ts
      const out = this.note(this.live.onSample(s))
      this.fold()
      return out
    }
    if (s.ts < this.baseTime || s.ts < this.clock - this.boundMs) {
      this.events.beyondBound(this, s, this.clock)
      return []
    }
    return this.place(s)
  }

  /** Runs the inputs again from the base with `s` in its place; returns what is new to report. */
  private place(s: Sample): Outcome[] {
    this.inputs.push(s)
    const run = cloneState(this.base)
    const found: Outcome[] = []
    for (const input of this.inputs.all) {
      const t = inputTime(input)
      const due = run.nextDeadline()
      if (due !== undefined && due <= t) found.push(...run.onTick(t))
      found.push(...('status' in input ? run.onStatus(input.status, t) : run.onSample(input)))
    }
    if (this.lastTick > -Infinity) found.push(...run.onTick(Math.max(this.lastTick, this.clock)))
    this.events.placed(this)
    // What the API was told stands: only transitions after the last reported one are new.
    const lastReported = this.reported.reduce((m, r) => Math.max(m, r.at), this.baseTime)
    const fresh = found.filter((o) => o.type !== 'update' && o.at > lastReported && !this.reported.some((r) => r.type === o.type && r.at === o.at))
    const shown = fresh.length > 0 ? fresh[fresh.length - 1]?.type === 'raise' : this.live.active
    run.restoreActive(shown)
    this.live = run
    return this.note(fresh)
  }

  /**
   * Records the raises and clears reported. One is never dated before the last one reported: after
   * a late reading undid a reported raise, the state kept for it may find the clear "due" earlier.
   */
  private note(out: Outcome[]): Outcome[] {
    let last = this.reported.reduce((m, r) => Math.max(m, r.at), -Infinity)
    for (const o of out) {
      if (o.type === 'update') continue
      if (o.at < last) o.at = last
      last = o.at
      this.reported.push({ type: o.type, at: o.at })
    }
    return out
  }

  /** Moves the inputs older than the bound into the base. */
  private fold(): void {
    const keptFrom = this.inputs.size > MAX_INPUTS ? this.inputs.at(this.inputs.size - MAX_INPUTS) : undefined
    const horizon = keptFrom ? inputTime(keptFrom) : this.clock - this.boundMs
    if (horizon <= this.baseTime) return
    let n = 0
    for (let input = this.inputs.first; input !== undefined && inputTime(input) < horizon; input = this.inputs.first) {
      const t = inputTime(input)
      const due = this.base.nextDeadline()
      if (due !== undefined && due <= t) this.base.onTick(t)
      if ('status' in input) this.base.onStatus(input.status, t)
      else this.base.onSample(input)
      this.inputs.shift()
      n++
    }
    if (n === 0 && this.inputs.size > 0) return
    const due = this.base.nextDeadline()
    if (due !== undefined && due < horizon) this.base.onTick(horizon)
    this.baseTime = horizon
    if (this.reported.length > 0) this.reported = this.reported.filter((r) => r.at >= horizon)
  }
}
