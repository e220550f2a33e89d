// The one delivery pipeline's worker, for every kind of delivery (webhooks, notifications): rows
// are queued in the alert event's transaction (the outboxes of alerts/events.ts), claimed here
// with a lease (core/repos/delivery-queue.ts) by any number of processes, sent, and settled —
// delivered, retried with capped exponential backoff, or failed. A kind supplies only what
// differs: its claim (its repository's SQL), how one row is sent and recorded, and which rows must
// go one after the other (a rate-limited channel). At least once: the one window for a repeat is
// between the receiver's answer and our commit of it. A new event wakes the pump at once
// (core/pump.ts); stop() waits for the pass in flight.
import type { Logger } from '../core/log.ts'
import { backoffMs, Pump } from '../core/pump.ts'
import type { Unit } from '../core/units.ts'
import type { AlertBus } from '../alerts/events.ts'

/** Rows claimed per pass; bounds the sends in flight. */
const BATCH = 50

export interface DeliveryKind<Row> {
  /** Claims up to `limit` due rows for `leaseMs` (a core/repos function). */
  claim(now: Date, leaseMs: number, limit: number): Promise<Row[]>
  /** Sends one row and records what came of it. */
  deliver(row: Row): Promise<void>
  /** Rows with the same key go one after the other (undefined: in parallel with the rest). */
  serialKey?(row: Row): string | undefined
}

export interface PumpOptions {
  pollMs: number
  /** How long a claimed row is left alone by other processes; longer than the slowest send. */
  leaseMs: number
  /** The log's name for the pipeline: `webhook dispatch`, `notification dispatch`. */
  what: string
}

export class DeliveryPump<Row extends { id: number }> implements Unit {
  private readonly pump: Pump
  private readonly onEvent = () => this.pump.kick()

  constructor(
    readonly name: string,
    private readonly bus: AlertBus,
    private readonly kind: DeliveryKind<Row>,
    private readonly opts: PumpOptions,
    private readonly log: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.pump = new Pump(() => this.drain(), opts.pollMs, log, opts.what)
  }

  start(): Promise<void> {
    this.bus.on('event', this.onEvent)
    this.pump.start()
    return Promise.resolve()
  }

  async stop(): Promise<void> {
    this.bus.off('event', this.onEvent)
    await this.pump.stop()
  }

  /** Runs a pass now, or once more after the current one. */
  kick(): void {
    this.pump.kick()
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.pump.isStopped) return
      const due = await this.kind.claim(this.clock(), this.opts.leaseMs, BATCH)
      const one = (row: Row) => this.kind.deliver(row).catch((err: unknown) => this.log.error({ err, delivery: row.id }, 'delivery failed'))
      const serial = new Map<string, Row[]>()
      const parallel: Row[] = []
      for (const row of due) {
        const key = this.kind.serialKey?.(row)
        if (key === undefined) parallel.push(row)
        else serial.set(key, [...(serial.get(key) ?? []), row])
      }
      await Promise.all([
        ...parallel.map(one),
        ...[...serial.values()].map(async (rows) => {
          for (const row of rows) await one(row)
        }),
      ])
      if (due.length < BATCH) return
    }
  }
}

export interface RetryPolicy {
  /** First retry after this long; each further one waits twice as long, up to `retryMaxMs`. */
  retryBaseMs: number
  retryMaxMs: number
  /** Attempts before a delivery is given up as failed (the log keeps every one). */
  maxAttempts: number
}

export type Settled = { outcome: 'delivered'; retryAt: null } | { outcome: 'retry'; retryAt: Date } | { outcome: 'failed'; retryAt: null }

/**
 * What attempt number `attempt`, ended at `at`, makes of its row: a failure retrying may get over
 * is tried again after the backoff, or after the receiver's Retry-After when that is longer.
 */
export function settle(policy: RetryPolicy, attempt: number, at: Date, r: { ok: boolean; retryable: boolean; retryAfterMs?: number | undefined }): Settled {
  if (r.ok) return { outcome: 'delivered', retryAt: null }
  if (!r.retryable || attempt >= policy.maxAttempts) return { outcome: 'failed', retryAt: null }
  const waitMs = Math.max(backoffMs(attempt, policy.retryBaseMs, policy.retryMaxMs), r.retryAfterMs ?? 0)
  return { outcome: 'retry', retryAt: new Date(at.getTime() + waitMs) }
}
