// Sends the engine's outcomes to the API (POST /api/v1/alerts) in order, one at a time, retrying
// while the API is unreachable. The queue is bounded: a newer `active` report for the same
// (rule, device) replaces a queued one (it carries the newer value), raises and clears are never
// dropped, and beyond the bound the oldest repeat reports go first.
import type { Logger } from '../core/log.ts'
import type { ReasonDetail } from '../shared/reason-text.ts'

export interface Report {
  ruleId: string
  deviceId: string
  condition: 'active' | 'cleared'
  value: number | null
  at: string
  reason?: string
  /** The reason as data (core/reason-detail.ts), for readers in other languages. */
  reasonDetail?: ReasonDetail
  predictedAt?: string | null
  flapping?: boolean
  /**
   * The device time of the raise or clear: sent again after a restart (the engine re-evaluates what
   * it had not seen confirmed), the API recognises it and does not raise the fault twice.
   */
  faultAt?: string
  /** A repeat of an active condition (may be merged or dropped), as opposed to a raise or clear. */
  repeat: boolean
}

type Queued = Report & { seq: number }

export interface ReporterOptions {
  apiUrl: string
  token: string
  maxQueued: number
  retryBaseMs?: number
  retryMaxMs?: number
  timeoutMs?: number
}

export class ApiReporter {
  private readonly queue: Queued[] = []
  private seq = 0
  private sending: Promise<void> | undefined
  private stopped = false
  private wake: (() => void) | undefined
  dropped = 0
  sent = 0

  constructor(
    private readonly opts: ReporterOptions,
    private readonly log: Logger,
  ) {}

  /** The number of the newest report enqueued (reports are numbered in order). */
  get lastSeq(): number {
    return this.seq
  }

  /** Every raise and clear numbered up to this has been delivered (or refused for good by the API). */
  settledThrough(): number {
    let first = Infinity
    for (const q of this.queue) if (!q.repeat && q.seq < first) first = q.seq
    return first === Infinity ? this.seq : first - 1
  }

  /** The queue is at its bound: the engine waits before reading more of the feed. */
  get full(): boolean {
    return this.queue.length >= this.opts.maxQueued
  }

  enqueue(report: Report): void {
    const r: Queued = { ...report, seq: ++this.seq }
    if (r.repeat) {
      const i = this.queue.findIndex((q) => q.repeat && q.ruleId === r.ruleId && q.deviceId === r.deviceId)
      if (i >= 0) {
        this.queue[i] = r
        return
      }
      if (this.queue.length >= this.opts.maxQueued) {
        this.dropped++
        return
      }
    } else if (this.queue.length >= this.opts.maxQueued) {
      const i = this.queue.findIndex((q) => q.repeat)
      if (i >= 0) {
        this.queue.splice(i, 1)
        this.dropped++
      }
    }
    this.queue.push(r)
    this.sending ??= this.drain().finally(() => (this.sending = undefined))
  }

  get pending(): number {
    return this.queue.length
  }

  /** Resolves when everything queued so far has been sent (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending
  }

  private async drain(): Promise<void> {
    let delay = this.opts.retryBaseMs ?? 200
    while (this.queue.length > 0 && !this.stopped) {
      const next = this.queue[0]
      if (!next) break
      const result = await this.post(next)
      if (result === 'retry') {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay)
          this.wake = () => {
            clearTimeout(t)
            resolve()
          }
        })
        this.wake = undefined
        delay = Math.min(delay * 2, this.opts.retryMaxMs ?? 10_000)
        continue
      }
      delay = this.opts.retryBaseMs ?? 200
      this.queue.shift()
    }
  }

  private async post(r: Report | Queued): Promise<'ok' | 'retry' | 'dropped'> {
    const { repeat: _repeat, seq: _seq, ...body } = r as Queued
    try {
      const res = await fetch(`${this.opts.apiUrl}/api/v1/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.opts.token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      })
      const text = await res.text()
      if (res.ok) {
        this.sent++
        return 'ok'
      }
      if (res.status >= 500 || res.status === 429) {
        this.log.warn({ status: res.status, ruleId: r.ruleId, deviceId: r.deviceId }, 'API refused the report for now; retrying')
        return 'retry'
      }
      // A 4xx will not get better by retrying: the rule or device is gone, or the token is wrong.
      this.log.error({ status: res.status, body: text.slice(0, 300), ruleId: r.ruleId, deviceId: r.deviceId }, 'API rejected an alert report')
      this.dropped++
      return 'dropped'
    } catch (err) {
      this.log.warn({ err, ruleId: r.ruleId }, 'API unreachable; retrying')
      return 'retry'
    }
  }

  /** Stops sending; tries for up to `timeoutMs` to deliver what is queued first. */
  async stop(timeoutMs = 3000): Promise<void> {
    const deadline = new Promise((r) => setTimeout(r, timeoutMs).unref())
    await Promise.race([this.flush(), deadline])
    this.stopped = true
    this.wake?.()
    await this.sending
    // What is unsent stays queued until `resume`: it is not settled, so the engine's saved place
    // stays before it and the next start reports it again.
    if (this.queue.length > 0) this.log.warn({ unsent: this.queue.length }, 'alert reports not sent before shutdown; the engine re-derives them after a restart')
  }

  /**
   * Sends again after `stop` (a partition won back after a take-over). What was left unsent is
   * dropped: the engine rebuilt from its saved place, which is before it, and reports it anew.
   */
  resume(): void {
    this.queue.length = 0
    this.stopped = false
  }
}
