// What every evaluator shares: the reading and outcome shapes, the interface a scheduler drives,
// comparisons and a bounded sorted window of readings (the least-squares line is in trend.ts).
//
// Evaluators are pure state machines: no timers, no clock, no I/O. Time comes in with each call
// (epoch ms) and `nextDeadline()` tells the caller when to call `onTick` next, so a scheduler (or
// vitest's fake timers) drives them. Every outcome carries the time its transition logically
// happened (`at`): a sample's own time, or the moment a duration completed, which is never later
// than the time passed in.
import type { DeviceStatus } from '../../core/contract.ts'
import type { Op, RuleType } from '../definitions.ts'
import { because, type ReasonDetail } from '../../shared/reason-text.ts'

/** One reading; booleans arrive as 0/1, as ingest stores them. */
export interface Sample {
  metric: string
  ts: number
  value: number
}

/** Extra facts an outcome may carry, by rule type. */
export interface OutcomeDetail {
  /** forecast: epoch ms at which the fitted trend crosses the value (in the past when it already has). */
  predictedAt?: number
  /** forecast: the fitted trend, in metric units per hour. */
  slopePerHour?: number
  /** nodata: what raised it, so the caller can hold back a gateway's children (storm control). */
  connectivity?: 'nodata' | 'offline'
  /** Set while the (rule, device) flaps; `false` on the update that ends a flapping spell. */
  flapping?: boolean
}

/** Why a raise or clear happened: as data, and as the English text rendered from it (reason-text.ts). */
export interface Because {
  reason: string
  reasonDetail: ReasonDetail
}

export type Outcome =
  | ({ type: 'raise'; at: number; value: number | null } & Because & OutcomeDetail)
  /** Still active and seen again: the API counts repeats and updates the last value and last seen. */
  | ({ type: 'update'; at: number; value: number | null } & OutcomeDetail)
  | ({ type: 'clear'; at: number; value: number | null } & Because & OutcomeDetail)

export interface EvaluatorContext {
  /** The device's expected reporting interval (nodata rules with `factor`). */
  expectedIntervalMs: number
}

/**
 * One (rule, device) state machine.
 *
 * Rebuilding after a restart: create it, replay the stored readings in timestamp order through
 * `onSample` (discarding the outcomes: they describe the past), call `restoreActive` with whether
 * the alert's condition is active according to the API, then `onTick(now)`: it emits only what the
 * API does not know yet (a raise whose duration completed meanwhile, a clear that happened while
 * the engine was down), and `nextDeadline()` resumes a "for 60 s" that was 40 s in.
 */
export interface Evaluator {
  readonly ruleId: string
  readonly deviceId: string
  readonly type: RuleType
  /** The condition is currently raised (as the API was told). */
  readonly active: boolean
  /** A reading of the rule's metric(s) (nodata: of any metric); others are ignored. */
  onSample(sample: Sample): Outcome[]
  /** Time passes: durations complete, windows slide, data goes missing. */
  onTick(now: number): Outcome[]
  /** The device's broker status (retained `online` / Last Will `offline`); only nodata rules use it. */
  onStatus(status: DeviceStatus, at: number): Outcome[]
  /** Sets whether the alert is raised, after a replay, from the API's open alerts. */
  restoreActive(active: boolean): void
  /** When `onTick` next needs calling; undefined when only a reading or a status can change anything. */
  nextDeadline(): number | undefined
}

/** Does `x op value` hold? */
export function holds(op: Op, x: number, value: number): boolean {
  switch (op) {
    case '>':
      return x > value
    case '>=':
      return x >= value
    case '<':
      return x < value
    case '<=':
      return x <= value
  }
}

/** Is `x` strictly on the safe side of `clearValue` for a condition `op`? (Hysteresis.) */
export function isSafe(op: Op, x: number, clearValue: number): boolean {
  return op === '>' || op === '>=' ? x < clearValue : x > clearValue
}

/** The most readings one window keeps: bounds memory however fast a device reports. */
export const MAX_WINDOW_SAMPLES = 10_000

/**
 * Items in time order, capped at `cap` (the oldest go first). Dropping from the front moves a head
 * index instead of shifting or copying the array, so a busy queue costs O(1) per item and makes no
 * garbage per item (a copy per item of a 500-item queue was most of the engine's allocation at
 * 10k readings/s, and so of its major GC pauses).
 */
export class TimeQueue<T> {
  private items: T[] = []
  private head = 0

  constructor(
    private readonly timeOf: (item: T) => number,
    private readonly cap = Infinity,
  ) {}

  get size(): number {
    return this.items.length - this.head
  }

  get first(): T | undefined {
    return this.items[this.head]
  }

  get last(): T | undefined {
    return this.size > 0 ? this.items[this.items.length - 1] : undefined
  }

  /** The item `i` places from the oldest. */
  at(i: number): T | undefined {
    return i >= 0 ? this.items[this.head + i] : undefined
  }

  /** The items, oldest first: a view, valid until the next change. */
  get all(): readonly T[] {
    this.compact()
    return this.items
  }

  /** Adds an item in time order (a late one is slotted in after those of its time); returns what the cap pushed out. */
  push(item: T): T | undefined {
    const t = this.timeOf(item)
    let i = this.items.length
    while (i > this.head && this.timeOf(this.items[i - 1] as T) > t) i--
    if (i === this.items.length) this.items.push(item)
    else this.items.splice(i, 0, item)
    return this.size > this.cap ? this.shift() : undefined
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head] as T
    this.head++
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.compact()
    }
    return item
  }

  /** Drops items at or before `t`. */
  dropThrough(t: number): void {
    while (this.size > 0 && this.timeOf(this.items[this.head] as T) <= t) this.shift()
  }

  private compact(): void {
    if (this.head === 0) return
    this.items = this.items.slice(this.head)
    this.head = 0
  }
}

const sampleTime = (s: Sample) => s.ts

/** Readings in timestamp order, at most MAX_WINDOW_SAMPLES (or `cap`). */
export class SampleWindow extends TimeQueue<Sample> {
  constructor(cap = MAX_WINDOW_SAMPLES) {
    super(sampleTime, cap)
  }

  get samples(): readonly Sample[] {
    return this.all
  }
}

/** The bookkeeping every evaluator has: identity, the raised flag and outcome constructors. */
export abstract class BaseEvaluator implements Evaluator {
  abstract readonly type: RuleType
  protected raised = false
  /** The latest time seen (readings, ticks, statuses): this state machine's time never runs back. */
  protected clock = -Infinity

  constructor(
    readonly ruleId: string,
    readonly deviceId: string,
  ) {}

  get active(): boolean {
    return this.raised
  }

  restoreActive(active: boolean): void {
    this.raised = active
  }

  abstract onSample(sample: Sample): Outcome[]
  abstract onTick(now: number): Outcome[]
  abstract nextDeadline(): number | undefined

  onStatus(_status: DeviceStatus, _at: number): Outcome[] {
    return []
  }

  protected raise(at: number, value: number | null, why: ReasonDetail, detail: OutcomeDetail = {}): Outcome {
    this.raised = true
    return { type: 'raise', at, value, ...because(why), ...detail }
  }

  protected clear(at: number, value: number | null, why: ReasonDetail, detail: OutcomeDetail = {}): Outcome {
    this.raised = false
    return { type: 'clear', at, value, ...because(why), ...detail }
  }

  protected update(at: number, value: number | null, detail: OutcomeDetail = {}): Outcome {
    return { type: 'update', at, value, ...detail }
  }
}
