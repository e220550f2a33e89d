// No data / offline. Raises when nothing has been heard from the device for `after` (or `factor` ×
// its expected interval), or at once (after `offlineGrace`) when the broker publishes its Last Will
// `offline`. A reading, or an `online` status, clears. Each outcome says which of the two raised it
// (`connectivity`), so the caller can hold back the children of an offline gateway: storm control
// needs the device tree, which is not this module's to know.
import type { NodataParams } from '../definitions.ts'
import type { DeviceStatus } from '../../core/contract.ts'
import type { ReasonDetail } from '../../shared/reason-text.ts'
import { BaseEvaluator, type EvaluatorContext, type Outcome, type Sample } from './shared.ts'

/** Without `after` or `factor`, silence for this many expected intervals raises. */
const DEFAULT_FACTOR = 3

export class NodataEvaluator extends BaseEvaluator {
  readonly type = 'nodata'
  private readonly timeoutMs: number
  private readonly graceMs: number
  /** Latest reading, or `online` status, time. */
  private lastHeard: number | undefined
  /** When the first call came in: a device never heard from at all is silent since then. */
  private since: number | undefined
  /** Time of an `offline` status not yet followed by `online` or a newer reading. */
  private offlineAt: number | undefined

  constructor(ruleId: string, deviceId: string, p: NodataParams, ctx: EvaluatorContext) {
    super(ruleId, deviceId)
    this.timeoutMs = p.after ?? (p.factor ?? DEFAULT_FACTOR) * ctx.expectedIntervalMs
    this.graceMs = p.offlineGrace ?? 0
  }

  onSample(s: Sample): Outcome[] {
    // Time first: a reading after a long gap means the device was silent in between.
    const out = this.advance(s.ts)
    this.lastHeard = Math.max(this.lastHeard ?? -Infinity, s.ts)
    // Data stamped after the Last Will means the device is back even if `online` got lost.
    if (this.offlineAt !== undefined && s.ts > this.offlineAt) this.offlineAt = undefined
    out.push(...this.advance(s.ts, { key: 'nodata.data' }))
    return out
  }

  onTick(now: number): Outcome[] {
    return this.advance(now)
  }

  override onStatus(status: DeviceStatus, at: number): Outcome[] {
    const out = this.advance(at)
    // Statuses may come late (a replay, the retained one on subscribe): one older than what was
    // heard since, or than the Last Will it would cancel, is stale.
    if (status === 'offline') {
      if ((this.lastHeard ?? -Infinity) <= at) this.offlineAt ??= at
    } else {
      if (this.offlineAt !== undefined && this.offlineAt <= at) this.offlineAt = undefined
      this.lastHeard = Math.max(this.lastHeard ?? -Infinity, at)
    }
    out.push(...this.advance(at, status === 'online' ? { key: 'nodata.online' } : undefined))
    return out
  }

  nextDeadline(): number | undefined {
    const due = this.due()
    if (!this.raised) return due?.at
    // Restored as raised while the device is heard from: clear on the next tick.
    return (due === undefined || due.at > this.clock) && this.clock > -Infinity ? this.clock : undefined
  }

  /** When the condition starts to hold given what is known now, and why; undefined if it cannot. */
  private due(): { at: number; cause: 'nodata' | 'offline' } | undefined {
    const heard = this.lastHeard ?? this.since
    const silentAt = heard === undefined ? undefined : heard + this.timeoutMs
    const offlineAt = this.offlineAt === undefined ? undefined : this.offlineAt + this.graceMs
    if (offlineAt !== undefined && (silentAt === undefined || offlineAt <= silentAt)) return { at: offlineAt, cause: 'offline' }
    return silentAt === undefined ? undefined : { at: silentAt, cause: 'nodata' }
  }

  private advance(now: number, clearReason: ReasonDetail = { key: 'nodata.heard' }): Outcome[] {
    this.clock = Math.max(this.clock, now)
    this.since ??= now
    const due = this.due()
    const holding = due !== undefined && due.at <= this.clock
    if (holding && !this.raised) return [this.raise(due.at, null, this.describe(due.cause), { connectivity: due.cause })]
    if (!holding && this.raised) return [this.clear(this.clock, null, clearReason)]
    return []
  }

  private describe(cause: 'nodata' | 'offline'): ReasonDetail {
    return cause === 'offline' ? { key: 'nodata.offline', graceMs: this.graceMs } : { key: 'nodata.silent', afterMs: this.timeoutMs }
  }
}
