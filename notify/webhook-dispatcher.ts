// Webhooks on the one delivery pipeline (pump.ts: claim with a lease, retry with backoff, the
// loop): what is theirs is the send — a POST of the event as JSON, signed with HMAC-SHA256 — and
// the log of every attempt. Deliveries are queued in the alert event's transaction by the webhook
// outbox (webhook-outbox.ts), so a restart loses none; every API process runs a dispatcher.
// Destinations are checked at every attempt (core/egress.ts). The delivery log records the
// status code and a fixed category of failure, never the error text or the response body: the
// log of a webhook aimed at an allow-listed internal address must not map its ports.
import { createHmac } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import { claimDueDeliveries, deliveryEvent, recordAttempt, type DueDelivery } from '../core/repos/webhooks.ts'
import type { Unit } from '../core/units.ts'
import type { AlertBus } from '../alerts/events.ts'
import { DENY_ALL_SPECIAL, DestinationDenied, guardedLookup, literalDenial, type DestinationPolicy } from '../core/egress.ts'
import { DeliveryPump, settle, type RetryPolicy } from './pump.ts'

export interface DispatcherOptions extends RetryPolicy {
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

export class WebhookDispatcher implements Unit {
  readonly name = 'webhooks'
  private readonly pump: DeliveryPump<DueDelivery>

  constructor(
    private readonly db: Db,
    bus: AlertBus,
    private readonly opts: DispatcherOptions,
    private readonly log: Logger,
  ) {
    const kind = { claim: (now: Date, leaseMs: number, limit: number) => claimDueDeliveries(db, now, leaseMs, limit), deliver: (d: DueDelivery) => this.deliver(d) }
    // The lease outlasts an attempt: its timeout, twice over.
    this.pump = new DeliveryPump(this.name, bus, kind, { pollMs: opts.pollMs, leaseMs: opts.timeoutMs * 2, what: 'webhook dispatch' }, log)
  }

  start(): Promise<void> {
    return this.pump.start()
  }

  stop(): Promise<void> {
    return this.pump.stop()
  }

  /** Runs a pass now, or once more after the current one. */
  kick(): void {
    this.pump.kick()
  }

  private async deliver(d: DueDelivery): Promise<void> {
    const body = JSON.stringify(await deliveryEvent(this.db, d.eventId))
    const attempt = d.attempts + 1
    const started = Date.now()
    let statusCode: number | null = null
    let error: string | null = null
    let retryable = true
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
      ;({ error, retry: retryable } = failureOf(err))
      this.log.debug({ err, delivery: d.id }, 'webhook attempt failed')
    }
    const done = new Date()
    const { outcome, retryAt } = settle(this.opts, attempt, done, { ok: error === null, retryable })
    // The attempt and the delivery's new state in one transaction: a process that dies here
    // leaves the delivery as claimed, to be tried again when its lease ends, never half-recorded.
    const delivered = outcome === 'delivered'
    await this.db.transaction((tx) => recordAttempt(tx, { deliveryId: d.id, statusCode, error, durationMs: done.getTime() - started, delivered, nextAttemptAt: retryAt }))
    this.opts.onAttempt?.(outcome)
    if (!delivered) {
      // The URL may carry credentials in its query; log the host only.
      const host = URL.canParse(d.url) ? new URL(d.url).host : 'invalid url'
      this.log.warn({ delivery: d.id, host, attempt, error, retryInMs: retryAt ? retryAt.getTime() - done.getTime() : null }, 'webhook delivery failed')
    }
  }
}
