// Operational metrics (Prometheus), one registry per process, served by the API at /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export function createMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry()
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'hb_' })
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
    // The HTTP device API's credential checks (api/routes/device-telemetry.ts): `cached` cost no
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
  }
}

export type Metrics = ReturnType<typeof createMetrics>
