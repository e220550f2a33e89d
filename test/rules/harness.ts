// A tiny scheduler over vitest's fake timers: it calls an evaluator's onTick exactly at
// nextDeadline(), as the engine's scheduler will, and records every outcome. Tests advance the
// fake clock and feed readings stamped with Date.now().
import { vi } from 'vitest'
import type { DeviceStatus } from '../../core/contract.ts'
import { ruleDefinitionSchema, type RuleDefinition, type RuleDefinitionInput } from '../../rules/definitions.ts'
import { createEvaluator, type Evaluator, type Outcome } from '../../rules/evaluators/index.ts'

/** A round start time, so expected `at` values read as offsets. */
export const T0 = Date.UTC(2025, 0, 6, 0, 0, 0)
export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE

type Optional<T, K extends keyof T> = T extends unknown ? Omit<T, K> & Partial<Pick<T, K>> : never

/** A rule from its type-specific parts; id, name, description and severity get test defaults. */
export function rule(input: Optional<RuleDefinitionInput, 'id' | 'name' | 'description' | 'severity'>): RuleDefinition {
  return ruleDefinitionSchema.parse({ id: 'test-rule', name: 'test', description: 'test', severity: 'major', ...input })
}

export class Harness {
  readonly outcomes: Outcome[] = []
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(readonly ev: Evaluator) {
    this.schedule()
  }

  static for(def: RuleDefinition, opts: { deviceId?: string; expectedIntervalMs?: number } = {}): Harness {
    return new Harness(createEvaluator(def, opts.deviceId ?? 'dev-1', { expectedIntervalMs: opts.expectedIntervalMs ?? 30 * SECOND }))
  }

  /** A reading at the current fake time. */
  sample(metric: string, value: number): this {
    this.record(this.ev.onSample({ metric, ts: Date.now(), value }))
    return this
  }

  status(status: DeviceStatus): this {
    this.record(this.ev.onStatus(status, Date.now()))
    return this
  }

  /** Readings of `metric`, one every `everyMs`, the first now; the clock ends one step after the last. */
  series(metric: string, values: readonly number[], everyMs: number): this {
    for (const v of values) {
      this.sample(metric, v)
      vi.advanceTimersByTime(everyMs)
    }
    return this
  }

  /** Outcomes of these types, without the reason texts (asserted separately where they matter). */
  transitions(types: Outcome['type'][] = ['raise', 'clear']): { type: Outcome['type']; at: number }[] {
    return this.outcomes.filter((o) => types.includes(o.type)).map((o) => ({ type: o.type, at: o.at - T0 }))
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
  }

  private record(out: Outcome[]): void {
    this.outcomes.push(...out)
    this.schedule()
  }

  private schedule(): void {
    this.stop()
    const due = this.ev.nextDeadline()
    if (due === undefined) return
    this.timer = setTimeout(() => this.record(this.ev.onTick(Date.now())), Math.max(0, due - Date.now()))
  }
}

/** Fake timers at T0; call in beforeEach. */
export function useFakeClock(): void {
  vi.useFakeTimers()
  vi.setSystemTime(T0)
}
