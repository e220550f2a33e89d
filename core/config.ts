// Configuration: one zod schema over the environment, parsed once at start-up.
// This is the only module that reads `process.env`; everything else receives a `Config`.
import path from 'node:path'
import ipaddr from 'ipaddr.js'
import { z } from 'zod'
import { parseDuration } from '../shared/duration.ts'

const port = z.coerce.number().int().min(0).max(65535)
const optionalPort = z.preprocess((v) => (v === '' ? undefined : v), port.optional())
const positiveInt = z.coerce.number().int().positive()
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional())

/** A duration that may be zero ("0s": off). */
const optionalDurationMs = z.string().transform((s, ctx) => {
  const ms = parseDuration(s)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 0s, 5s or 1m' })
    return z.NEVER
  }
  return ms
})

const durationMs = z.string().transform((s, ctx) => {
  const ms = parseDuration(s)
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30s, 5m, 1h or 2d' })
    return z.NEVER
  }
  return ms
})

/** Acknowledge and resolve deadlines per severity, e.g. `critical=5m/30m,major=15m/4h`. */
const deadlines = z.string().transform((text, ctx) => {
  const out: Record<string, { ackMs: number; resolveMs: number }> = {}
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(critical|major|minor|warning)=([^/]+)\/(.+)$/.exec(part)
    const ack = m ? parseDuration(m[2] ?? '') : undefined
    const resolve = m ? parseDuration(m[3] ?? '') : undefined
    if (!m || ack === undefined || resolve === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${part}": expected severity=ACK/RESOLVE, e.g. critical=5m/30m` })
      return z.NEVER
    }
    out[m[1] ?? ''] = { ackMs: ack, resolveMs: resolve }
  }
  return out
})

/** Egress allow-list entries: addresses, CIDR networks or host names, comma-separated. */
const egressAllow = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const entries = text.split(',').map((e) => e.trim()).filter(Boolean)
    for (const e of entries) {
      const valid = e.includes('/') ? ipaddr.isValidCIDR(e) : ipaddr.isValid(e) || /^[a-zA-Z0-9.-]+$/.test(e)
      if (!valid) {
        ctx.addIssue({ code: 'custom', message: `"${e}": expected an address, a CIDR network or a host name` })
        return z.NEVER
      }
    }
    return entries
  })

const WEIGHT_KEYS = ['ack', 'resolve', 'speed', 'quality', 'satisfaction'] as const

/** Evaluation weights, e.g. `ack=0.3,satisfaction=0.3`; unnamed components keep their default. */
const weights = z.string().transform((text, ctx) => {
  const out: Partial<Record<(typeof WEIGHT_KEYS)[number], number>> = {}
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\w+)=(\d+(?:\.\d+)?)$/.exec(part)
    const key = m?.[1] as (typeof WEIGHT_KEYS)[number] | undefined
    if (!m || !key || !WEIGHT_KEYS.includes(key)) {
      ctx.addIssue({ code: 'custom', message: `"${part}": expected name=weight with name one of ${WEIGHT_KEYS.join(', ')}` })
      return z.NEVER
    }
    out[key] = Number(m[2])
  }
  return out
})

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

/** Every variable, its default and what it means; the README's configuration table mirrors this. */
export const envSchema = z.object({
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'expected a postgres:// or postgresql:// URL (or leave unset for the embedded database)',
  }),
  DATA_DIR: z.string().min(1).default('./data'),
  /** Without DATABASE_URL: the embedded PostgreSQL server (child process, data in DATA_DIR/pgdata) or PGlite (WASM, in-process, DATA_DIR/pglite). */
  EMBEDDED_DB: z.enum(['postgres', 'pglite']).default('postgres'),
  HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(3000),
  MQTT_PORT: port.default(1883),
  MQTT_WS_PORT: optionalPort,
  MQTT_TLS_PORT: optionalPort,
  TLS_CERT_FILE: optionalString,
  TLS_KEY_FILE: optionalString,
  REDIS_URL: optionalString.refine((v) => v === undefined || /^rediss?:\/\//.test(v), {
    message: 'expected a redis:// or rediss:// URL',
  }),
  /** Broker a standalone ingest / rules engine / simulator connects to. */
  MQTT_URL: z.string().default('mqtt://127.0.0.1:1883'),
  MQTT_USERNAME: optionalString,
  MQTT_PASSWORD: optionalString,
  /**
   * Standalone ingest's MQTT client id. Unset: `svc@{userName}/ingest` when it logs in with a
   * token (MQTT_USERNAME=token; our broker accepts only such ids for services), else
   * `housing-brain-ingest`.
   */
  INGEST_CLIENT_ID: optionalString,
  /** Subscribe through an MQTT 5 shared subscription group so several ingest workers split the load. */
  INGEST_SHARED_GROUP: optionalString,
  /** Standalone ingest: readings acknowledged before their commit, the most a kill -9 can lose (0 = none). */
  INGEST_ACK_WINDOW: z.coerce.number().int().min(0).default(1000),
  INGEST_BATCH_MAX_ROWS: positiveInt.default(10_000),
  INGEST_BATCH_MAX_WAIT_MS: z.coerce.number().int().min(0).default(0),
  /** Transactions the ingest writer keeps in flight at once. */
  INGEST_MAX_IN_FLIGHT: positiveInt.default(2),
  /** How often the latest-value table is brought up to date (0 = with every batch). */
  INGEST_LATEST_FLUSH_MS: z.coerce.number().int().min(0).default(1000),
  INGEST_QUEUE_MAX_ROWS: positiveInt.default(100_000),
  INGEST_MAX_FUTURE_SKEW_S: positiveInt.default(300),
  // ---- Ingest hardening (issue 7: items 1, 5, 13) ----
  /** Oldest a reading's timestamp may be (e.g. 7d); older ones are dead-lettered as too_old. */
  INGEST_MAX_PAST_AGE: durationMs.prefault('7d'),
  /** /health and /ready turn unhealthy when the oldest unacknowledged message has waited this long. */
  INGEST_STALL_AFTER: durationMs.prefault('30s'),
  /** Most entries one message may carry per device (per child in a gateway message); more = one dead letter for the whole message. */
  INGEST_MAX_ENTRIES: positiveInt.default(10_000),
  /** Most metric values one entry may carry. */
  INGEST_MAX_VALUES_PER_ENTRY: positiveInt.default(64),
  /** Most dead letters one message may create; the rest are summed up in one more row. */
  INGEST_MAX_DEAD_LETTERS_PER_MESSAGE: positiveInt.default(100),
  RETENTION_DAYS: positiveInt.default(400),
  COMPRESS_AFTER_DAYS: positiveInt.default(7),
  DEAD_LETTER_RETENTION_DAYS: positiveInt.default(30),
  /** Overrides of the per-severity deadlines (defaults: critical 5m/30m, major 15m/4h, minor 1h/24h, warning 4h/72h). */
  ALERT_DEADLINES: deadlines.prefault(''),
  /** How often an escalated, still unacknowledged alert is re-notified. */
  ALERT_REMIND_EVERY: durationMs.prefault('10m'),
  /** How often deadlines are checked. */
  ALERT_CHECK_EVERY: durationMs.prefault('5s'),
  /** Days the history (alert_events) of a resolved alert is kept after its resolve (default 400); alert rows, which the ranking reads, stay. */
  ALERT_HISTORY_RETENTION_DAYS: positiveInt.default(400),
  /** Days an audit log entry (who changed what through the API) is kept (default 400, longer than a yearly review). */
  AUDIT_RETENTION_DAYS: positiveInt.default(400),
  /** Base URL of the API the rules engine reports to (standalone `rules`). */
  API_URL: z.url().default('http://127.0.0.1:3000'),
  /** API token the rules engine uses (role service); `up` creates one. */
  API_TOKEN: optionalString,
  /** Rules engine: how often evaluators get the time, and how often a still-active condition is re-reported. */
  RULES_TICK: durationMs.prefault('1s'),
  RULES_REPEAT_EVERY: durationMs.prefault('30s'),
  /**
   * Rules engine: how far back in device time a reading that arrives out of order is placed and
   * re-evaluated (issue 17); an older one is counted and logged as beyond the bound, not evaluated.
   */
  RULES_LATENESS: durationMs.prefault('2m'),
  /** How long the commit-ordered feed keeps its rows (core/feed.ts): a rules engine away longer than this misses what was pruned. */
  FEED_RETENTION: durationMs.prefault('24h'),
  /** Rules engine's share of the committed-readings buckets, `index/count` (`1/2`: the buckets b with b % 2 == 1); default all. */
  RULES_PARTITION: z
    .string()
    .default('0/1')
    .transform((text, ctx) => {
      const m = /^(\d+)\/(\d+)$/.exec(text.trim())
      const index = Number(m?.[1])
      const count = Number(m?.[2])
      if (!m || count < 1 || count > 64 || index >= count) {
        ctx.addIssue({ code: 'custom', message: 'expected index/count with 0 <= index < count <= 64, e.g. 0/2 and 1/2 for two processes' })
        return z.NEVER
      }
      return { index, count }
    }),
  /** Weights of the evaluation score's components (see the README, "Evaluation"). */
  EVAL_WEIGHTS: weights.prefault(''),
  /** Origins allowed to call the API from a browser, comma-separated; unset = none (same origin only). */
  CORS_ORIGINS: optionalString,
  /**
   * The reverse proxies in front of the API whose X-Forwarded-For is believed: unset = none (the
   * socket's address is the client's; a forged header changes nothing), `true` = any, a number =
   * that many hops, else addresses or CIDRs, comma-separated. The client address counts failed
   * logins (RATE_LIMIT_AUTH_FAILURES_PER_MINUTE) and is written in the audit log: behind a proxy
   * not named here every client is the proxy, and one guesser locks everyone out.
   */
  TRUST_PROXY: optionalString.transform((v, ctx): boolean | number | string[] => {
    if (v === undefined || v === 'false') return false
    if (v === 'true') return true
    if (/^\d+$/.test(v)) return Number(v)
    const list = v.split(',').map((x) => x.trim()).filter(Boolean)
    const bad = list.find((x) => !ipaddr.isValid(x) && !ipaddr.isValidCIDR(x))
    if (bad !== undefined || list.length === 0) {
      ctx.addIssue({ code: 'custom', message: `expected true, a hop count, or addresses/CIDRs comma-separated, e.g. 10.0.0.0/8,127.0.0.1${bad === undefined ? '' : ` ("${bad}" is neither)`}` })
      return z.NEVER
    }
    return list
  }),
  /** Requests per minute per token (or per address without one); 0 = no limit. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  /** Failed API authentications per minute per client address before answers turn 429; 0 = no limit. */
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).default(30),
  /** When set, GET /metrics (API port and HEALTH_PORT) needs `Authorization: Bearer <METRICS_TOKEN>`; unset = open (listen on HOST only). */
  METRICS_TOKEN: optionalString,
  /** The token set on OneNET's HTTP push (数据推送) page; unset = no OneNET receiver. */
  ONENET_PUSH_TOKEN: optionalString,
  /** The token the CTWing subscription URL carries (?token=); unset = no CTWing receiver. */
  CTWING_PUSH_TOKEN: optionalString,
  /** Live alert stream: most events a resume (Last-Event-ID) sends, the newest first kept. */
  ALERT_STREAM_BACKFILL_MAX: positiveInt.default(1000),
  /** Live alert stream: oldest event a resume sends, as an age. */
  ALERT_STREAM_BACKFILL_MAX_AGE: durationMs.prefault('24h'),
  /** Open live alert streams one API token may hold; more get 429 too_many_streams. */
  ALERT_STREAMS_PER_TOKEN: positiveInt.default(5),
  /** Largest photo one upload may carry, in bytes (413 photo_too_large beyond). Default 5 MB: a phone camera's JPEG. */
  PHOTO_MAX_BYTES: positiveInt.max(64 * 1024 * 1024, 'at most 67108864 (64 MB)').default(5 * 1024 * 1024),
  /** Most photos one alert may carry (409 too_many_photos beyond). */
  PHOTOS_PER_ALERT: positiveInt.max(100, 'at most 100').default(10),
  /** Hazard reports one resident may file in any hour (429 report_limit beyond; each is a `major` alert paged to the on-call crew). */
  RESIDENT_REPORTS_PER_HOUR: positiveInt.max(1000, 'at most 1000').default(5),
  /** Hazard reports one resident may file in any 24 hours. */
  RESIDENT_REPORTS_PER_DAY: positiveInt.max(10_000, 'at most 10000').default(20),
  /** Photo bytes one resident may upload in any 24 hours (429 photo_quota beyond). Default 25 MB: five full-size phone photos. */
  RESIDENT_PHOTO_BYTES_PER_DAY: positiveInt.max(1024 * 1024 * 1024, 'at most 1073741824 (1 GB)').default(25 * 1024 * 1024),
  /** How often an open alert stream rechecks its token (revoked elsewhere, expired). */
  ALERT_STREAM_RECHECK: durationMs.prefault('30s'),
  /**
   * Destinations every outgoing connection (webhooks, notification channels, e-mail's SMTP host,
   * Web Push) may reach although they are loopback, private, link-local, multicast or otherwise
   * special: comma-separated addresses, CIDR networks or host names, e.g.
   * `10.0.0.5,192.168.1.0/24,smtp.internal`. Unset = public addresses only (core/egress.ts).
   */
  EGRESS_ALLOW: egressAllow,
  /** The former name of EGRESS_ALLOW (webhooks only, before issue 18); its entries are added to it. */
  WEBHOOK_ALLOW_DESTINATIONS: egressAllow,
  NODE_RED_PORT: port.default(1880),
  /** bcrypt hash of the Node-RED editor's "admin" password; unset = one generated on first start, printed once (hash in DATA_DIR/node-red-admin-hash). */
  NODE_RED_ADMIN_HASH: optionalString,
  LOG_LEVEL: logLevel.default('info'),
  // Several processes, health and shutdown (issue 11).
  /** How often a standby API process tries to take over the timed jobs (deadlines, reminders, retention), and how often the leader checks its lock. */
  LEADER_RETRY: durationMs.prefault('5s'),
  /** On SIGTERM/SIGINT: the longest a process drains (stops accepting, finishes in-flight commits) before it exits anyway; a second signal exits at once. */
  SHUTDOWN_TIMEOUT: durationMs.prefault('15s'),
  /** API: how long /readyz answers 503 before the listener closes on SIGTERM, so a load balancer stops sending first (0s = close at once). */
  SHUTDOWN_READY_DELAY: optionalDurationMs.prefault('0s'),
  /** broker, ingest and rules: port of the /livez, /readyz and /metrics endpoints (on HOST); unset = none (the API serves its own). */
  HEALTH_PORT: optionalPort,
  // Broker edge (issue 7).
  /** Password checks (scrypt) the broker runs at once; a login beyond is refused with "server unavailable". */
  MQTT_AUTH_MAX_CONCURRENT: positiveInt.default(32),
  /** The same bound per remote address (loopback counts against the total only). */
  MQTT_AUTH_MAX_CONCURRENT_PER_ADDRESS: positiveInt.default(8),
  /** How often the tokens of connected services are rechecked (a revocation in this process or seen by NOTIFY acts at once). */
  MQTT_TOKEN_RECHECK: durationMs.prefault('30s'),
  /**
   * With REDIS_URL: how often each broker announces itself to the others. A broker silent for
   * three intervals is dead; its devices' Last Wills are published 3–7 intervals after it died.
   */
  MQTT_CLUSTER_HEARTBEAT: durationMs.prefault('5s'),
  // RabbitMQ broker tier (issue 11): RabbitMQ's HTTP auth backend asks the API.
  /** Shared key in RabbitMQ's auth_http.*_path URLs (/rabbitmq/auth/{key}/user …); unset: the routes are not served. */
  RABBITMQ_AUTH_KEY: optionalString.refine((v) => v === undefined || v.length >= 24, { message: 'expected at least 24 characters (a random key)' }),
  /** The vhost devices use (RabbitMQ's mqtt.vhost). */
  RABBITMQ_MQTT_VHOST: z.string().min(1).default('/'),
  /**
   * RabbitMQ's management API (http://user:pass@rabbit:15672). Required by `rabbitmq setup`, which
   * declares the queues and the alternate-exchange policy through it, and by `ingest --from amqp://…`,
   * which checks them at start. On the API: it closes a device's RabbitMQ connections when the
   * device is disabled or its secret changes; unset there, they stay open until the device reconnects.
   */
  RABBITMQ_MANAGEMENT_URL: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), { message: 'expected an http:// or https:// URL' }),
  /** The exchange RabbitMQ's MQTT plugin publishes to (mqtt.exchange). */
  RABBITMQ_MQTT_EXCHANGE: z.string().min(1).default('amq.topic'),
  /** `rabbitmq setup` and `ingest --from amqp://…`: the quorum queue the workers share, bound to RABBITMQ_MQTT_EXCHANGE (and `{queue}.unroutable`). */
  INGEST_AMQP_QUEUE: z.string().min(1).max(255).default('hb.telemetry'),
  /** `ingest --from amqp://…`: messages in flight per worker, unacknowledged until their commit. */
  INGEST_AMQP_PREFETCH: z.coerce.number().int().min(1).max(65_535).default(1000),
  // ChirpStack v4 MQTT integration (issue 10; README, "ChirpStack v4").
  /** The broker ChirpStack's MQTT integration publishes to; set = `up` and `ingest` run the integration. */
  CHIRPSTACK_MQTT_URL: optionalString.refine((v) => v === undefined || /^(mqtts?|wss?|tcp|ssl):\/\//.test(v), {
    message: 'expected an mqtt://, mqtts://, ws:// or wss:// URL',
  }),
  CHIRPSTACK_MQTT_USERNAME: optionalString,
  CHIRPSTACK_MQTT_PASSWORD: optionalString,
  /** Fixed client id of the integration's persistent session (one per running integration). */
  CHIRPSTACK_CLIENT_ID: z.string().min(1).max(128).default('housing-brain-chirpstack'),
  /** The ChirpStack application (UUID) whose events are taken; `+` = every application on the broker. */
  CHIRPSTACK_APPLICATION_ID: z
    .string()
    .regex(/^(\+|[^/#+]{1,128})$/, 'expected + or one application id (no /, # or +)')
    .default('+'),
  /** ChirpStack events acknowledged before their commit, the most a kill -9 can lose (0 = PUBACK after commit only). */
  CHIRPSTACK_ACK_WINDOW: z.coerce.number().int().min(0).default(0),
  /** Sessions splitting the events (MQTT 5 shared subscription); more commit together, each still acknowledged after its commit. */
  CHIRPSTACK_SESSIONS: z.coerce.number().int().min(1).max(32).default(1),
  /** Largest event payload taken; a bigger one is dead-lettered as payload_too_large. */
  CHIRPSTACK_MAX_EVENT_BYTES: positiveInt.max(1024 * 1024, 'at most 1048576 (1 MB)').default(64 * 1024),
  // Notifications (issue 9).
  /** Key (base64 of 32 bytes) sealing channel credentials (AES-256-GCM) and signing message links; unset: generated once into DATA_DIR/notify-secret.key (mode 0600). */
  NOTIFY_SECRET_KEY: optionalString,
  /** Base URL the links in messages point to (this API as people's phones reach it). */
  NOTIFY_LINK_BASE_URL: z.url().default('http://127.0.0.1:3000'),
  /** How long a message's link opens (and may acknowledge) the alert. */
  NOTIFY_LINK_TTL: durationMs.prefault('24h'),
  /** First retry of a failed page; each further retry waits twice as long, up to NOTIFY_RETRY_MAX. */
  NOTIFY_RETRY_BASE: durationMs.prefault('5s'),
  NOTIFY_RETRY_MAX: durationMs.prefault('10m'),
  /** Attempts before a page is given up as failed. */
  NOTIFY_MAX_ATTEMPTS: positiveInt.default(12),
  /** Pages a minute for one company over all its channels; beyond, they wait in the queue (0 = no limit). */
  NOTIFY_COMPANY_PER_MINUTE: z.coerce.number().int().min(0).default(120),
  /** Time zone of the deadlines in messages and of the delivery log's times. */
  NOTIFY_TIMEZONE: z.string().default('Asia/Shanghai'),
})

export type Config = z.infer<typeof envSchema> & {
  /** `DATA_DIR` resolved against the working directory. */
  dataDir: string
  /** The variables that were set, as opposed to defaulted (the demo may move a defaulted port). */
  explicit: ReadonlySet<string>
  /** Settings of earlier versions that are set but no longer read, each with what to do instead. */
  retired: string[]
  /** Variables with one of this project's prefixes that no setting reads (a typo names its nearest match); warned about at start. */
  unknown: string[]
}

/** Settings that were removed, with what replaced them: a deployment that still sets one is told at start. */
const RETIRED: Record<string, string> = {
  READINGS_BUS_URL: 'the readings bus is gone: every ingest writes the commit-ordered feed in the database, which the rules engine reads (README, "Alerting guarantee"); remove it',
  RULES_CLIENT_ID: 'the rules engine no longer connects to a broker; remove it',
  RULES_RELOAD_EVERY: 'registry changes reach the rules engine through the feed before the next reading; remove it',
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Variables whose whole value is a secret: named so by convention. */
const SECRET_NAME = /_(PASSWORD|TOKEN|HASH|SECRET|KEY)$/

/**
 * How a rejected value is quoted in a ConfigError: error output ends up in terminals, CI logs and
 * bug reports, so a secret variable's value is never shown and a URL's password is masked (a
 * mistyped DATABASE_URL would otherwise print its password).
 */
export function shownValue(name: string, value: string): string {
  if (SECRET_NAME.test(name)) return '(value hidden)'
  // scheme://user:password@host — mask whatever sits between the first ':' after '//' and '@'.
  return `"${value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@')}"`
}

/** Parses the environment (or an override map in tests). Throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.')
        const got = env[name]
        return `${name}: ${issue.message}${got === undefined ? '' : ` (got ${shownValue(name, got)})`}`
      }),
    )
  }
  const cfg = parsed.data
  if ((cfg.TLS_CERT_FILE === undefined) !== (cfg.TLS_KEY_FILE === undefined)) {
    throw new ConfigError(['TLS_CERT_FILE and TLS_KEY_FILE: set both to enable MQTT over TLS, or neither'])
  }
  const explicit = new Set(Object.keys(envSchema.shape).filter((k) => env[k] !== undefined && env[k] !== ''))
  const retired = Object.entries(RETIRED)
    .filter(([name]) => env[name] !== undefined && env[name] !== '')
    .map(([name, what]) => `${name} is no longer read: ${what}`)
  return { ...cfg, dataDir: path.resolve(cfg.DATA_DIR), explicit, retired, unknown: unknownVariables(env) }
}

/**
 * First words of the settings' names that other software does not use too (NODE_, HTTP_, HOST…
 * do: NODE_ENV, HTTP_PROXY): a variable starting with one that no setting reads is most likely a
 * typo, silently ignored until now.
 */
const SHARED_PREFIXES = new Set(['NODE', 'HTTP', 'HOST', 'DATA', 'LOG', 'API', 'TRUST'])
const KNOWN = [...Object.keys(envSchema.shape), ...Object.keys(RETIRED)]
const PREFIXES = new Set(KNOWN.map((k) => k.split('_')[0] ?? k).filter((p) => !SHARED_PREFIXES.has(p)))

function unknownVariables(env: Record<string, string | undefined>): string[] {
  const known = new Set(KNOWN)
  return Object.keys(env)
    .filter((name) => !known.has(name) && PREFIXES.has(name.split('_')[0] ?? name))
    .sort()
    .map((name) => {
      const near = nearest(name, KNOWN)
      return `${name} is not a setting and is ignored${near ? `; did you mean ${near}?` : ''} (the settings: docs/deployment.md#configuration)`
    })
}

/** The known name closest to `name` by edit distance, if it is close (at most a third of its length). */
function nearest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.floor(name.length / 3) + 1
  for (const candidate of names) {
    const d = editDistance(name, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.length] ?? 0
}
