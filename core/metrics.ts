// The metric catalogue (Prometheus naming: base units, `_total` counters). Every process keeps a
// registry of its own and serves it at /metrics — the API on HTTP_PORT, `broker`, `ingest` and
// `rules` on HEALTH_PORT — so each figure comes from the process that does the work (issue 17).
// The README's "Metrics" section lists them with the process that serves each.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** A process's registry, with Node's own figures (`hb_process_*`, `hb_nodejs_*`) unless `defaults` is false. */
export function createRegistry(opts: { defaults?: boolean } = {}): Registry {
  const registry = new Registry()
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'hb_' })
  return registry
}

/** The catalogue of the processes that take readings in (`broker`, `ingest`, `api`, `up`). */
export function createMetrics(opts: { defaults?: boolean } = {}) {
  const registry = createRegistry(opts)
  const registers = [registry]
  return {
    registry,
    readingsStored: new Counter({
      name: 'hb_ingest_readings_stored_total',
      help: 'Readings committed to the database (new rows; redelivered duplicates excluded)',
      registers,
    }),
    readingsDuplicate: new Counter({
      name: 'hb_ingest_readings_duplicate_total',
      help: 'Readings skipped because the same device, metric and timestamp was already stored',
      registers,
    }),
    rejected: new Counter({
      name: 'hb_ingest_rejected_total',
      help: 'Messages or readings sent to the dead-letter store, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    batchRows: new Histogram({
      name: 'hb_ingest_batch_rows',
      help: 'Readings per committed batch',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10_000],
      registers,
    }),
    commitSeconds: new Histogram({
      name: 'hb_ingest_commit_seconds',
      help: 'Time to commit one batch',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    queueRows: new Gauge({ name: 'hb_ingest_queue_rows', help: 'Readings waiting for a commit', registers }),
    writeFailures: new Counter({
      name: 'hb_ingest_write_failures_total',
      help: 'Failed batch commits (each is retried with backoff)',
      registers,
    }),
    chirpstackEvents: new Counter({
      name: 'hb_chirpstack_events_total',
      help: 'ChirpStack events received, by type (up, join and status are stored; the others are skipped)',
      labelNames: ['event'] as const,
      registers,
    }),
    mqttClients: new Gauge({ name: 'hb_broker_clients', help: 'Connected MQTT clients', registers }),
    authFailures: new Counter({
      name: 'hb_broker_auth_failures_total',
      help: 'Refused MQTT connections and publications, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    // Broker edge (issue 7): takeovers, held logins, dropped deliveries, stripped retain flags.
    takeovers: new Counter({
      name: 'hb_broker_takeovers_total',
      help: 'Connections that replaced a live connection with the same client id (MQTT 3.1.1 §3.1.4)',
      registers,
    }),
    loginsHeld: new Counter({
      name: 'hb_broker_logins_held_total',
      help: 'Login answers held back by the failed-login throttle',
      registers,
    }),
    retainStripped: new Counter({
      name: 'hb_broker_retain_stripped_total',
      help: 'Telemetry publications whose retain flag was cleared (telemetry is never retained)',
      registers,
    }),
    receivedBytes: new Counter({
      name: 'hb_broker_received_bytes_total',
      help: 'Bytes the broker has read from MQTT connections (TCP, TLS and WebSocket)',
      registers,
    }),
    // The HTTP device API's credential checks (intake/http/device-telemetry.ts): `cached` cost no
    // scrypt, `verified` one, `refused` a wrong or unknown secret, `busy` the bound was full (503).
    httpDeviceAuth: new Counter({
      name: 'hb_http_device_auth_total',
      help: 'HTTP device API credential checks, by outcome (cached, verified, refused, busy)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    // The audit log (api/plugins/audit.ts): a change made but not recorded is logged and counted here.
    auditWriteFailures: new Counter({
      name: 'hb_audit_write_failures_total',
      help: 'Changes made through the API whose audit log row could not be written (failed or timed out)',
      registers,
    }),
    servicesDropped: new Counter({
      name: 'hb_broker_services_dropped_total',
      help: 'Service sessions closed because their API token was revoked or expired, or its user lost the role',
      registers,
    }),
    // The API's requests (api/plugins/http-metrics.ts). `route` is the pattern as registered, so
    // the series stay bounded whatever URLs are asked for.
    httpRequests: new Counter({
      name: 'hb_http_requests_total',
      help: 'HTTP requests answered by the API, by method, route pattern (unmatched: no route) and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpSeconds: new Histogram({
      name: 'hb_http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to the end of its answer, by method and route pattern',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    // Attempts of the two delivery queues (notify/dispatcher.ts, notify/webhook-dispatcher.ts).
    notifyDeliveries: new Counter({
      name: 'hb_notify_deliveries_total',
      help: 'Notification delivery attempts, by channel kind and outcome (delivered, retry, failed, cancelled, rate_limited)',
      labelNames: ['channel', 'outcome'] as const,
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'hb_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by outcome (delivered, retry, failed)',
      labelNames: ['outcome'] as const,
      registers,
    }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/** Reads at scrape time hold /metrics back this long at most; a figure not in by then reads NaN. */
const SCRAPE_READ_MS = 2000
/** However often /metrics is fetched, a figure from outside the process is read once in this time. */
const SCRAPE_READ_EVERY_MS = 1000

/**
 * A figure read from outside the process (the database, RabbitMQ) when /metrics is fetched,
 * bounded: one read serves every gauge that asks within a second, at most one read is under way
 * at a time, and a read that fails or takes longer than 2 s gives undefined — a slow dependency
 * never fails the whole page, and scrapes piling up on a hung one start nothing more.
 */
export function scrapeRead<T>(read: () => Promise<T>): () => Promise<T | undefined> {
  let last: { at: number; value: Promise<T | undefined> } | undefined
  let reading = false
  return () => {
    const now = Date.now()
    if (last && now - last.at < SCRAPE_READ_EVERY_MS) return last.value
    if (reading) return Promise.resolve(undefined)
    reading = true
    const settled = Promise.resolve()
      .then(read)
      .finally(() => (reading = false))
    let timer: NodeJS.Timeout | undefined
    const value = Promise.race([settled, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SCRAPE_READ_MS)))])
      .catch(() => undefined)
      .finally(() => clearTimeout(timer))
    last = { at: now, value }
    return value
  }
}

/** One delivery queue's backlog: rows not yet delivered, failed or cancelled, and when the oldest of them fell due. */
export interface OutboxFigures {
  depth: number
  oldestDueAt: Date | null
}

/**
 * The notification outbox and the webhook queue, read from the database on each scrape (one
 * query per queue, over their partial index of pending rows): any API process shows the
 * whole backlog, which every process works on.
 */
export function createOutboxMetrics(registry: Registry, read: { notify: () => Promise<OutboxFigures>; webhooks: () => Promise<OutboxFigures>; uncovered: () => Promise<number> }) {
  const registers = [registry]
  const uncovered = scrapeRead(read.uncovered)
  new Gauge({
    name: 'hb_notify_uncovered_companies',
    help: "Companies whose crew or manager rota reaches nobody now (no rota, nobody on call, no reachable contact): their pages go to the office's duty officer (NaN: the database did not answer)",
    registers,
    async collect() {
      this.set((await uncovered()) ?? NaN)
    },
  })
  const gauges = (queue: 'notify' | 'webhook', source: () => Promise<OutboxFigures>, what: string) => {
    const figures = scrapeRead(source)
    return {
      depth: new Gauge({
        name: `hb_${queue}_outbox_depth`,
        help: `${what} queued and not yet delivered, failed or cancelled (NaN: the database did not answer)`,
        registers,
        async collect() {
          this.set((await figures())?.depth ?? NaN)
        },
      }),
      oldest: new Gauge({
        name: `hb_${queue}_oldest_undelivered_seconds`,
        help: `How long the oldest undelivered ${what.toLowerCase()} has been due (0: none; NaN: the database did not answer)`,
        registers,
        async collect() {
          const f = await figures()
          this.set(f === undefined ? NaN : f.oldestDueAt === null ? 0 : Math.max(0, (Date.now() - f.oldestDueAt.getTime()) / 1000))
        },
      }),
    }
  }
  return { notify: gauges('notify', read.notify, 'Notifications'), webhooks: gauges('webhook', read.webhooks, 'Webhook deliveries') }
}

/** The depth of the durable telemetry queue an AMQP worker consumes (`ingest --from amqp://`), read on each scrape. */
export function createAmqpMetrics(registry: Registry, queue: string, messageCount: () => Promise<number | undefined>) {
  const count = scrapeRead(messageCount)
  return {
    queueMessages: new Gauge({
      name: 'hb_amqp_queue_messages',
      help: 'Messages ready in the RabbitMQ queue this worker consumes, not yet delivered to a worker (NaN: RabbitMQ did not answer)',
      labelNames: ['queue'] as const,
      registers: [registry],
      async collect() {
        this.set({ queue }, (await count()) ?? NaN)
      },
    }),
  }
}

/**
 * The rules engine's catalogue (its own process, or `up`). The engine counts into these; the
 * `partition` label is RULES_PARTITION as `index/count`.
 */
export function createRulesMetrics(registry: Registry) {
  const registers = [registry]
  const metrics = {
    samplesEvaluated: new Counter({
      name: 'hb_rules_samples_evaluated_total',
      help: 'Samples (one metric of one reading) evaluated against the rules of their device',
      registers,
    }),
    alertsRaised: new Counter({ name: 'hb_rules_alerts_raised_total', help: 'Alerts the engine raised (reported to the API)', registers }),
    alertsCleared: new Counter({ name: 'hb_rules_alerts_cleared_total', help: 'Alerts the engine cleared (reported to the API)', registers }),
    lateSamples: new Counter({
      name: 'hb_rules_late_samples_total',
      help: "Samples older than their device's newest evaluated one: placed in device-time order (placed), or older than the lateness bound and not evaluated (beyond_bound)",
      labelNames: ['outcome'] as const,
      registers,
    }),
    feedPosition: new Gauge({
      name: 'hb_rules_feed_position',
      help: 'Position in the commit-ordered readings feed up to which this partition has evaluated',
      labelNames: ['partition'] as const,
      registers,
    }),
    feedLagSeconds: new Gauge({
      name: 'hb_rules_feed_lag_seconds',
      help: 'How long ago the oldest committed reading this partition has not yet evaluated was committed (0: caught up)',
      labelNames: ['partition'] as const,
      registers,
    }),
  }
  // Both outcomes from the start, so rate() and alerts on them work before the first late sample.
  for (const outcome of ['placed', 'beyond_bound'] as const) metrics.lateSamples.inc({ outcome }, 0)
  return metrics
}

export type RulesMetrics = ReturnType<typeof createRulesMetrics>
