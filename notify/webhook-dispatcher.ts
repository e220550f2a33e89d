// Delivers queued webhook notifications: POST of the event as JSON, signed with HMAC-SHA256,
// retried with exponential backoff, every attempt logged. Deliveries are queued in the database
// in the same transaction as the alert event (alerts/service.ts), so a restart loses none.
// Every API process runs a dispatcher: each claims due rows with FOR UPDATE SKIP LOCKED and a
// lease (core/repos/webhooks.ts), so a delivery is attempted by one process at a time; one that
// dies mid-attempt leaves the row to be claimed again when the lease ends (at least once: the
// one window for a repeat is between the receiver's answer and our commit of it).
// Destinations are checked at every attempt (core/egress.ts). The delivery log records the
// status code and a fixed category of failure, never the error text or the response body: the
// log of a webhook aimed at an allow-listed internal address must not map its ports.
import { createHmac } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import { backoffMs, Pump } from '../core/pump.ts'
import { claimDueDeliveries, deliveryEvent, recordAttempt, type DueDelivery } from '../core/repos/webhooks.ts'
import type { Unit } from '../core/units.ts'
import type { AlertBus } from '../alerts/events.ts'
import { DENY_ALL_SPECIAL, DestinationDenied, guardedLookup, literalDenial, type DestinationPolicy } from '../core/egress.ts'

export interface DispatcherOptions {
  /** First retry after this long; each further retry waits twice as long. */
  retryBaseMs: number
  retryMaxMs: number
  maxAttempts: number
  timeoutMs: number
  /** How often the queue is polled for due retries (new events wake it at once). */
  pollMs: number
  /** Which special-range destinations are allowed (default: none). */
  destinations?: DestinationPolicy
  /** Told of every recorded attempt (hb_webhook_deliveries_total). */
  onAttempt?: (outcome: 'delivered' | 'retry' | 'failed') => void
}

export const DEFAULT_DISPATCH: DispatcherOptions = { retryBaseMs: 1000, retryMaxMs: 3_600_000, maxAttempts: 10, timeoutMs: 10_000, pollMs: 1000 }

/** POSTs the body; resolves with the status code. Never follows a redirect; never reads the body. */
function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number, policy: DestinationPolicy): Promise<number> {
  // Node connects to an IP literal without calling `lookup`: check it here.
  const literal = literalDenial(url, policy)
  if (literal !== undefined) return Promise.reject(new DestinationDenied(literal))
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(policy),
        // A fresh connection per attempt, so every attempt resolves (and is checked) again.
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        resolve(res.statusCode ?? 0)
        res.destroy()
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** The delivery log's words for a failed attempt: a fixed set, so it cannot echo internals. */
function failureOf(err: unknown): { error: string; retry: boolean } {
  if (err instanceof DestinationDenied) return { error: `destination denied (${err.range})`, retry: false }
  // Refused, reset, unreachable and timed out alike: telling them apart would map closed and filtered ports.
  return { error: 'no response', retry: true }
}

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
    const body = JSON.stringify(await deliveryEvent(this.db, d.eventId))
    const attempt = d.attempts + 1
    const started = Date.now()
    let statusCode: number | null = null
    let error: string | null = null
    let retry = true
    try {
      statusCode = await post(
        new URL(d.url),
        {
          'content-type': 'application/json',
          'user-agent': 'housing-brain-webhooks',
          'x-hb-event': d.eventType,
          'x-hb-event-id': String(d.eventId),
          'x-hb-delivery': String(d.id),
          'x-hb-attempt': String(attempt),
          'x-hb-signature': signature(d.secret, started, body),
        },
        body,
        this.opts.timeoutMs,
        this.opts.destinations ?? DENY_ALL_SPECIAL,
      )
      if (statusCode < 200 || statusCode > 299) error = statusCode >= 300 && statusCode < 400 ? 'redirect not followed' : `HTTP ${Math.floor(statusCode / 100)}xx`
    } catch (err) {
      ;({ error, retry } = failureOf(err))
      this.log.debug({ err, delivery: d.id }, 'webhook attempt failed')
    }
    const delivered = error === null
    const retryIn = backoffMs(attempt, this.opts.retryBaseMs, this.opts.retryMaxMs)
    const nextAttemptAt = delivered || !retry || attempt >= this.opts.maxAttempts ? null : new Date(Date.now() + retryIn)
    // The attempt and the delivery's new state in one transaction: a process that dies here
    // leaves the delivery as claimed, to be tried again when its lease ends, never half-recorded.
    await this.db.transaction((tx) => recordAttempt(tx, { deliveryId: d.id, statusCode, error, durationMs: Date.now() - started, delivered, nextAttemptAt }))
    this.opts.onAttempt?.(delivered ? 'delivered' : nextAttemptAt ? 'retry' : 'failed')
    if (!delivered) {
      // The URL may carry credentials in its query; log the host only.
      const host = URL.canParse(d.url) ? new URL(d.url).host : 'invalid url'
      this.log.warn({ delivery: d.id, host, attempt, error, retryInMs: nextAttemptAt ? retryIn : null }, 'webhook delivery failed')
    }
  }
}
