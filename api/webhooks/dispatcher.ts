// Delivers queued webhook notifications: POST of the event as JSON, signed with HMAC-SHA256,
// retried with exponential backoff, every attempt logged. Deliveries are queued in the database
// in the same transaction as the alert event (api/alerts/service.ts), so a restart loses none.
import { createHmac } from 'node:crypto'
import type { Db } from '../../core/db/client.ts'
import type { Logger } from '../../core/log.ts'
import { backoffMs, Pump } from '../../core/pump.ts'
import { ALERT_COLUMNS } from '../../core/repos/alerts.ts'
import { claimDueDeliveries, recordAttempt, type DueDelivery } from '../../core/repos/webhooks.ts'
import type { Unit } from '../../core/units.ts'
import type { AlertBus } from '../alerts/service.ts'

export interface DispatcherOptions {
  /** First retry after this long; each further retry waits twice as long. */
  retryBaseMs: number
  retryMaxMs: number
  maxAttempts: number
  timeoutMs: number
  /** How often the queue is polled for due retries (new events wake it at once). */
  pollMs: number
}

export const DEFAULT_DISPATCH: DispatcherOptions = { retryBaseMs: 1000, retryMaxMs: 3_600_000, maxAttempts: 10, timeoutMs: 10_000, pollMs: 1000 }

/**
 * `X-HB-Signature: t=<epoch ms>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp is
 * inside the signed text so a receiver can refuse replays of old deliveries.
 */
export function signature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

/** Batch of deliveries claimed per pass; bounds the work in flight. */
const BATCH = 50

export class WebhookDispatcher implements Unit {
  readonly name = 'webhooks'
  private readonly pump: Pump
  private readonly onEvent = () => this.kick()

  constructor(
    private readonly db: Db,
    private readonly bus: AlertBus,
    private readonly opts: DispatcherOptions,
    private readonly log: Logger,
  ) {
    this.pump = new Pump(() => this.drain(), opts.pollMs, log, 'webhook dispatch')
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
      const due = await claimDueDeliveries(this.db, new Date(), this.opts.timeoutMs * 2, BATCH)
      await Promise.all(due.map((d) => this.deliver(d)))
      if (due.length < BATCH) return
    }
  }

  private async deliver(d: DueDelivery): Promise<void> {
    const [event] = await this.db.query(
      `SELECT e.id, e.type, e.at, e.actor, e.note, e.data,
              (SELECT row_to_json(x) FROM (SELECT ${ALERT_COLUMNS} FROM alerts a WHERE a.id = e.alert_id) x) AS alert
       FROM alert_events e WHERE e.id = $1`,
      [d.eventId],
    )
    const body = JSON.stringify(event)
    const attempt = d.attempts + 1
    const started = Date.now()
    let statusCode: number | null = null
    let error: string | null = null
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'housing-brain-webhooks',
          'x-hb-event': d.eventType,
          'x-hb-event-id': String(d.eventId),
          'x-hb-delivery': String(d.id),
          'x-hb-attempt': String(attempt),
          'x-hb-signature': signature(d.secret, started, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      })
      statusCode = res.status
      await res.body?.cancel()
      if (!res.ok) error = `HTTP ${res.status}`
    } catch (err) {
      error = err instanceof Error ? err.message : String(err)
    }
    const delivered = error === null
    const retryIn = backoffMs(attempt, this.opts.retryBaseMs, this.opts.retryMaxMs)
    const nextAttemptAt = delivered || attempt >= this.opts.maxAttempts ? null : new Date(Date.now() + retryIn)
    await recordAttempt(this.db, { deliveryId: d.id, statusCode, error, durationMs: Date.now() - started, delivered, nextAttemptAt })
    if (!delivered) {
      // The URL may carry credentials in its query; log the host only.
      const host = URL.canParse(d.url) ? new URL(d.url).host : 'invalid url'
      this.log.warn({ delivery: d.id, host, attempt, error, retryInMs: nextAttemptAt ? retryIn : null }, 'webhook delivery failed')
    }
  }
}
