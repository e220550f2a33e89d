// Every setting: its variable, its section and key, how its text is read, its default (as text,
// read like a set value) and what it means. core/config.ts loads them; `npm run docs:config`
// writes docs/configuration.md and .env.example from this table, and a test keeps them equal.
//
// Conventions: a time is written as a duration (`250ms`, `30s`, `5m`, `1h`, `7d`) and held in
// milliseconds under a key ending in `Ms`; a count is a whole number; an empty value is unset.
import path from 'node:path'
import ipaddr from 'ipaddr.js'
import { z } from 'zod'
import { parseDuration } from '../shared/duration.ts'

export interface Setting<T> {
  env: string
  schema: z.ZodType<T>
  /** The default as a value would be written; undefined = unset. */
  default: string | undefined
  /** What it means, in Markdown (links relative to docs/). */
  doc: string
}

function setting<T>(env: string, schema: z.ZodType<T>, def: string | undefined, doc: string): Setting<T> {
  return { env, schema, default: def, doc }
}

export interface Section<S extends Record<string, Setting<unknown>>> {
  title: string
  settings: S
}

function section<S extends Record<string, Setting<unknown>>>(title: string, settings: S): Section<S> {
  return { title, settings }
}

const text = z.string().min(1)
const optionalText = z.string().optional()
const port = z.coerce.number().int().min(0).max(65535)
const optionalPort = port.optional()
const directory = z.string().min(1).transform((p) => path.resolve(p))
const onOff = z.enum(['true', 'false']).transform((v) => v === 'true')
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

/** A whole number from `min`, up to `max` when given. */
function count(min: number, max?: number, tooMany?: string): z.ZodType<number> {
  const n = z.coerce.number().int().min(min)
  return max === undefined ? n : n.max(max, tooMany ?? `at most ${max}`)
}

function urlOf(pattern: RegExp, message: string) {
  return z.string().refine((v) => pattern.test(v), { message })
}

const postgresUrl = urlOf(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL (or leave unset for the embedded database)').optional()
const redisUrl = urlOf(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL').optional()
const mqttUrl = urlOf(/^(mqtts?|wss?|tcp|ssl):\/\//, 'expected an mqtt://, mqtts://, ws:// or wss:// URL').optional()
const httpUrl = z.url()
const optionalHttpUrl = urlOf(/^https?:\/\//, 'expected an http:// or https:// URL').optional()
const rabbitKey = z.string().min(24, 'expected at least 24 characters (a random key)').optional()

/** A positive duration, in milliseconds. */
const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s)
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30s, 5m, 1h or 2d' })
    return z.NEVER
  }
  return ms
})

/** A duration that may be zero ("0s": off or at once). */
const durationOrZero = z.string().transform((s, ctx) => {
  const ms = parseDuration(s)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 0s, 5s or 1m' })
    return z.NEVER
  }
  return ms
})

/** Comma-separated, blanks dropped. */
const list = z.string().transform((v) => v.split(',').map((x) => x.trim()).filter(Boolean))

/** A tile URL template: http(s) or a path on the console's own host, with {z}, {x} and {y}. */
const tileUrl = urlOf(/^(https?:\/\/|\/)[^\s]*\{z\}[^\s]*$/, 'expected an http(s):// URL or a /path with {z}, {x} and {y}, e.g. https://tiles.example.cn/{z}/{x}/{y}.png').refine((v) => v.includes('{x}') && v.includes('{y}'), { message: 'the template needs {x} and {y}' }).optional()

/** Acknowledge and resolve deadlines per severity, e.g. `critical=5m/30m,major=15m/4h`. */
const deadlines = z.string().transform((value, ctx) => {
  const out: Record<string, { ackMs: number; resolveMs: number }> = {}
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
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
const egressAllow = list.transform((entries, ctx) => {
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
/** What alerts of one group share (alerts/grouping.ts). */
export const GROUP_KEYS = ['rule', 'community', 'company', 'severity'] as const
const groupBy = z.string().transform((value, ctx) => {
  if (value.trim() === 'off') return []
  const out: (typeof GROUP_KEYS)[number][] = []
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const key = GROUP_KEYS.find((k) => k === part)
    if (!key) {
      ctx.addIssue({ code: 'custom', message: `"${part}": expected a list of ${GROUP_KEYS.join(', ')}, or off` })
      return z.NEVER
    }
    if (!out.includes(key)) out.push(key)
  }
  return out
})

const weights = z.string().transform((value, ctx) => {
  const out: Partial<Record<(typeof WEIGHT_KEYS)[number], number>> = {}
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
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

/** `index/count` of the rules partition. */
const partition = z.string().transform((value, ctx) => {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim())
  const index = Number(m?.[1])
  const n = Number(m?.[2])
  if (!m || n < 1 || n > 64 || index >= n) {
    ctx.addIssue({ code: 'custom', message: 'expected index/count with 0 <= index < count <= 64, e.g. 0/2 and 1/2 for two processes' })
    return z.NEVER
  }
  return { index, count: n }
})

/** The proxies believed: false (none), true (any), a hop count, or addresses/CIDRs. */
const trustProxy = z.string().optional().transform((v, ctx): boolean | number | string[] => {
  if (v === undefined || v === 'false') return false
  if (v === 'true') return true
  if (/^\d+$/.test(v)) return Number(v)
  const entries = v.split(',').map((x) => x.trim()).filter(Boolean)
  const bad = entries.find((x) => !ipaddr.isValid(x) && !ipaddr.isValidCIDR(x))
  if (bad !== undefined || entries.length === 0) {
    ctx.addIssue({ code: 'custom', message: `expected true, a hop count, or addresses/CIDRs comma-separated, e.g. 10.0.0.0/8,127.0.0.1${bad === undefined ? '' : ` ("${bad}" is neither)`}` })
    return z.NEVER
  }
  return entries
})

/** The settings by section, in the order the reference lists them. */
export const SECTIONS = {
  server: section('Process', {
    envFile: setting('ENV_FILE', optionalText, undefined,
      "a file of settings (`NAME=value` lines, as `.env.example`) read at start; unset = `.env` in the working directory when there is one. A variable set in the environment wins over the file"),
    host: setting('HOST', text, '127.0.0.1',
      "address the broker and API listen on (`0.0.0.0` in containers)"),
    dataDir: setting('DATA_DIR', directory, './data',
      "embedded database, `admin-token`, `demo-devices.json`"),
    logLevel: setting('LOG_LEVEL', logLevel, 'info',
      "`fatal` … `trace`, `silent`; pretty output only on a TTY"),
    healthPort: setting('HEALTH_PORT', optionalPort, undefined,
      "`broker`, `ingest`, `rules` (and `api`): port on `HOST` for `/livez`, `/readyz` and `/metrics`; the API also serves them on `HTTP_PORT`"),
    metricsToken: setting('METRICS_TOKEN', optionalText, undefined,
      "when set, `/metrics` needs `Authorization: Bearer <it>`, on the API's port and on every `HEALTH_PORT`"),
    leaderRetryMs: setting('LEADER_RETRY', duration, '5s',
      "API: how often a standby process tries to take over the timed jobs (deadlines, reminders, history retention) and how often the leader checks its lock connection — the bound on a take-over after the leader dies"),
    shutdownTimeoutMs: setting('SHUTDOWN_TIMEOUT', duration, '15s',
      "every command: on SIGTERM/SIGINT, the longest the drain may take before the process exits anyway (code 1, logging what it abandoned); a second signal exits at once"),
    shutdownReadyDelayMs: setting('SHUTDOWN_READY_DELAY', durationOrZero, '0s',
      "API: on SIGTERM, how long `/readyz` answers 503 while requests are still served, before the listener closes — the time a load balancer needs to stop sending (e.g. `5s` behind Kubernetes); counts against `SHUTDOWN_TIMEOUT`"),
  }),
  database: section('Database', {
    url: setting('DATABASE_URL', postgresUrl, undefined,
      "`postgres://…` of a PostgreSQL/TimescaleDB server; unset = the embedded database (`EMBEDDED_DB`)"),
    embedded: setting('EMBEDDED_DB', z.enum(['postgres', 'pglite']), 'postgres',
      "without `DATABASE_URL`: `postgres` = an embedded PostgreSQL server (child process, cluster in `DATA_DIR/postgres`); `pglite` = PGlite (WASM, in-process, `DATA_DIR/pgdata`) for Windows, musl (Alpine) and other platforms without the binaries; see [Embedded database](deployment.md#embedded-database)"),
  }),
  retention: section('Retention', {
    readingsMs: setting('READINGS_RETENTION', duration, '400d',
      "readings older than this are dropped (TimescaleDB retention policy; on plain PostgreSQL they are kept)"),
    compressAfterMs: setting('READINGS_COMPRESS_AFTER', duration, '7d',
      "readings older than this are compressed (TimescaleDB compression policy)"),
    alertHistoryMs: setting('ALERT_HISTORY_RETENTION', duration, '400d',
      "how long the history of a resolved alert is kept"),
    auditMs: setting('AUDIT_RETENTION', duration, '400d',
      "how long an [audit log](security.md#audit-log) entry is kept"),
    feedMs: setting('FEED_RETENTION', duration, '24h',
      "how long the commit-ordered feed keeps its rows (pruned hourly by the API's leader); a rules partition away longer misses what was pruned"),
  }),
  api: section('API', {
    port: setting('HTTP_PORT', port, '3000',
      "the port of the API, the console and the HTTP device API"),
    corsOrigins: setting('CORS_ORIGINS', list, '',
      "browser origins allowed to call the API, comma-separated"),
    trustProxy: setting('TRUST_PROXY', trustProxy, undefined,
      "reverse proxies whose `X-Forwarded-For` names the client: addresses or CIDRs comma-separated (`10.0.0.0/8,127.0.0.1`), a hop count, or `true`; unset = the socket's address is the client's. Set it behind nginx or a load balancer, or every client counts as the proxy for the failed-login budget and in the audit log"),
    rateLimitPerMinute: setting('RATE_LIMIT_PER_MINUTE', count(0), '6000',
      "requests per minute per token (by its id), or per address (IPv6 by /64) without a valid one; `0` = no limit"),
    authFailuresPerMinute: setting('RATE_LIMIT_AUTH_FAILURES_PER_MINUTE', count(0), '30',
      "failed authentications per minute per address before `429 rate_limited`"),
    totpRequired: setting('TOTP_REQUIRED', onOff, 'false',
      "`true`: admins and operators who sign in with a password must use one-time codes (TOTP); one without them can only set them up after the password, and cannot turn them off (bearer tokens are not affected)"),
    streamBackfillMax: setting('ALERT_STREAM_BACKFILL_MAX', count(1), '1000',
      "events a resuming live stream is sent at most"),
    streamBackfillMaxAgeMs: setting('ALERT_STREAM_BACKFILL_MAX_AGE', duration, '24h',
      "the oldest event a resuming live stream is sent"),
    streamsPerToken: setting('ALERT_STREAMS_PER_TOKEN', count(1), '5',
      "open live streams per token (per process)"),
    streamRecheckMs: setting('ALERT_STREAM_RECHECK', duration, '30s',
      "how often an open stream's token is rechecked (a revocation through the API acts at once)"),
    photoMaxBytes: setting('PHOTO_MAX_BYTES', count(1, 64 * 1024 * 1024, 'at most 67108864 (64 MB)'), '5242880',
      "largest photo one upload may carry, in bytes (at most 64 MB); larger: `413 photo_too_large`"),
    photosPerAlert: setting('PHOTOS_PER_ALERT', count(1, 100), '10',
      "most photos one alert may carry (at most 100); more: `409 too_many_photos`"),
    residentReportsPerHour: setting('RESIDENT_REPORTS_PER_HOUR', count(1, 1000), '5',
      "hazard reports one resident may file in any hour (sliding); more: `429 report_limit` with `Retry-After`"),
    residentReportsPerDay: setting('RESIDENT_REPORTS_PER_DAY', count(1, 10_000), '20',
      "hazard reports one resident may file in any 24 hours; more: `429 report_limit`"),
    simulateFaults: setting('SIMULATE_FAULTS', z.enum(['demo', 'any', 'off']), 'demo',
      "which devices an admin may make report a fault (an entrapment, a displaced cover, a low tank) from the device page or `housing-brain fault`, to show the loop: `demo` = the demo district's devices, `any` = every device (a test site), `off` = none"),
    residentPhotoBytesPerDay: setting('RESIDENT_PHOTO_BYTES_PER_DAY', count(1, 1024 * 1024 * 1024, 'at most 1073741824 (1 GB)'), '26214400',
      "photo bytes one resident may upload in any 24 hours (25 MB, at most 1 GB); more: `429 photo_quota` with `Retry-After`"),
  }),
  map: section('Map', {
    tileUrl: setting('MAP_TILE_URL', tileUrl, undefined,
      "the district map's base layer: an XYZ tile URL template with `{z}`, `{x}`, `{y}` (and `{s}` for `MAP_TILE_SUBDOMAINS`), e.g. Tianditu's `vec_w` or an offline tile server on the office network ([The map](map.md)); unset = no base layer, a plain background with the communities and devices drawn on it, which works offline"),
    tileAttribution: setting('MAP_TILE_ATTRIBUTION', optionalText, undefined,
      "the attribution shown in the map's corner for the base layer (e.g. `天地图`); shown only with `MAP_TILE_URL`"),
    tileMaxZoom: setting('MAP_TILE_MAX_ZOOM', count(1, 22), '18',
      "the deepest zoom level the tile server has tiles for (Tianditu: 18)"),
    tileSubdomains: setting('MAP_TILE_SUBDOMAINS', list, '',
      "what `{s}` in `MAP_TILE_URL` takes, comma-separated (Tianditu: `0,1,2,3,4,5,6,7`); empty = Leaflet's `a,b,c`"),
    labelUrl: setting('MAP_LABEL_URL', tileUrl, undefined,
      "an optional second tile layer drawn over the base one, e.g. Tianditu's `cva_w` annotation (place names); same template rules as `MAP_TILE_URL`"),
    sitePlanMaxBytes: setting('SITE_PLAN_MAX_BYTES', count(1, 32 * 1024 * 1024, 'at most 33554432 (32 MB)'), '5242880',
      "largest site plan image (PNG, JPEG or WebP) one community may have, in bytes; larger: `413 site_plan_too_large`"),
  }),
  signin: section('Sign-in with WeCom or DingTalk', {
    wecomCorpId: setting('WECOM_CORP_ID', optionalText, undefined,
      "the 企业ID (CorpID) of the organisation in WeCom (企业微信); with `WECOM_AGENT_ID` and `WECOM_SECRET`, the console offers \"Sign in with WeCom\" ([Signing in](security.md#signing-in))"),
    wecomAgentId: setting('WECOM_AGENT_ID', z.string().regex(/^\d{1,20}$/, 'expected the AgentId of the 自建应用, digits').optional(), undefined,
      "the AgentId of the self-built app (自建应用) people sign in through; its 可信域名 (trusted domain) must be the host of `SIGN_IN_BASE_URL`"),
    wecomSecret: setting('WECOM_SECRET', optionalText, undefined,
      "that app's Secret; never logged or shown"),
    wecomApiBaseUrl: setting('WECOM_API_BASE_URL', httpUrl, 'https://qyapi.weixin.qq.com',
      "WeCom's server API (`/cgi-bin/gettoken`, `/cgi-bin/auth/getuserinfo`); another for a private deployment or a test server"),
    wecomAuthorizeUrl: setting('WECOM_AUTHORIZE_URL', httpUrl, 'https://open.weixin.qq.com/connect/oauth2/authorize',
      "the page that signs in someone inside the WeCom app (网页授权登录, scope `snsapi_base`)"),
    wecomQrLoginUrl: setting('WECOM_QR_LOGIN_URL', httpUrl, 'https://login.work.weixin.qq.com/wwlogin/sso/login',
      "the page that signs in a desktop browser by scanning a QR code with the WeCom app (企业微信Web登录, `login_type=CorpApp`)"),
    dingtalkClientId: setting('DINGTALK_CLIENT_ID', optionalText, undefined,
      "the Client ID (AppKey) of the DingTalk (钉钉) internal app (企业内部应用) people sign in through; with `DINGTALK_CLIENT_SECRET`, the console offers \"Sign in with DingTalk\""),
    dingtalkClientSecret: setting('DINGTALK_CLIENT_SECRET', optionalText, undefined,
      "that app's Client Secret (AppSecret); never logged or shown"),
    dingtalkApiBaseUrl: setting('DINGTALK_API_BASE_URL', httpUrl, 'https://api.dingtalk.com',
      "DingTalk's server API (`/v1.0/oauth2/userAccessToken`, `/v1.0/contact/users/me`); another for a test server"),
    dingtalkAuthorizeUrl: setting('DINGTALK_AUTHORIZE_URL', httpUrl, 'https://login.dingtalk.com/oauth2/auth',
      "the page that signs someone in, inside the DingTalk app or by a QR code in a desktop browser (`scope=openid`)"),
    baseUrl: setting('SIGN_IN_BASE_URL', optionalHttpUrl, undefined,
      "this API as browsers reach it, for the `redirect_uri` WeCom or DingTalk sends people back to (`{it}/api/v1/session/wecom/callback`, `{it}/api/v1/session/dingtalk/callback`); unset = `NOTIFY_LINK_BASE_URL`"),
  }),
  alerts: section('Alerts and evaluation', {
    deadlines: setting('ALERT_DEADLINES', deadlines, '',
      "per-severity acknowledge/resolve deadlines, e.g. `critical=5m/30m,major=15m/4h`; a severity not named keeps its default (critical 5m/30m, major 15m/4h, minor 1h/24h, warning 4h/72h; [the alert lifecycle](operators.md#the-alert-lifecycle))"),
    remindEveryMs: setting('ALERT_REMIND_EVERY', duration, '10m',
      "reminder interval for an escalated, unacknowledged alert"),
    checkEveryMs: setting('ALERT_CHECK_EVERY', duration, '5s',
      "how often deadlines are checked"),
    groupWindowMs: setting('ALERT_GROUP_WINDOW', durationOrZero, '10m',
      "alerts with the same `ALERT_GROUP_BY` values raised within this time of the first form one group: one row on the board, one page, then a digest when the window closes ([Grouping](operators.md#grouping)); `0s` = off"),
    groupBy: setting('ALERT_GROUP_BY', groupBy, 'rule,community',
      "what the alerts of a group share: a list of `rule`, `community`, `company`, `severity`; `off` = no grouping"),
    weights: setting('EVAL_WEIGHTS', weights, '',
      "weights of the built-in score weights version 0, in force until an admin stores a version, e.g. `ack=0.3,satisfaction=0.3`; a component not named keeps its default ([score weights versions](operators.md#score-weights-versions))"),
    hotlineDeadlineMs: setting('HOTLINE_HANDLE_DEADLINE', duration, '72h',
      "a 12345 hotline case counts as handled on time when handled within this of being received ([Hotline cases](operators.md#hotline-cases)); shown, not yet scored"),
  }),
  broker: section('MQTT broker', {
    port: setting('MQTT_PORT', port, '1883',
      "the port of MQTT over TCP (devices and services)"),
    wsPort: setting('MQTT_WS_PORT', optionalPort, undefined,
      "the port of MQTT over WebSocket; unset = off"),
    tlsPort: setting('MQTT_TLS_PORT', optionalPort, undefined,
      "MQTT over TLS, with `TLS_CERT_FILE` and `TLS_KEY_FILE`; unset = `8883` when TLS is on"),
    tlsCertFile: setting('TLS_CERT_FILE', optionalText, undefined,
      "PEM files; set both to enable MQTT over TLS"),
    tlsKeyFile: setting('TLS_KEY_FILE', optionalText, undefined,
      "PEM files; set both to enable MQTT over TLS"),
    authMaxConcurrent: setting('MQTT_AUTH_MAX_CONCURRENT', count(1), '32',
      "password checks (scrypt) the broker runs at once; a login beyond is refused at once with \"server unavailable\". A separate API process's HTTP device API has its own bound of the same size (`503 auth_busy` + `Retry-After` beyond); in `up` the broker and the API share one bound and one cache of verified secrets"),
    authMaxConcurrentPerAddress: setting('MQTT_AUTH_MAX_CONCURRENT_PER_ADDRESS', count(1), '8',
      "the same per remote address (loopback counts against the total only), for the broker and the HTTP device API"),
    tokenRecheckMs: setting('MQTT_TOKEN_RECHECK', duration, '30s',
      "how often connected services' tokens are rechecked (a revocation announced by the API acts at once)"),
    redisUrl: setting('REDIS_URL', redisUrl, undefined,
      "share broker sessions, retained messages and routing through Redis (several Aedes instances)"),
    clusterHeartbeatMs: setting('MQTT_CLUSTER_HEARTBEAT', duration, '5s',
      "with `REDIS_URL`: how often each broker tells the others it is alive; a dead broker's devices get their Last Will (`offline`) 3–7 intervals after it died"),
  }),
  connect: section('Standalone services', {
    mqttUrl: setting('MQTT_URL', text, 'mqtt://127.0.0.1:1883',
      "broker that the standalone `ingest` and `simulate` connect to (`rules` and `api` need no broker: the [feed](design.md#alerting-guarantee-the-commit-ordered-feed-and-rules-partitions) is in the database)"),
    mqttUsername: setting('MQTT_USERNAME', optionalText, undefined,
      "login for the standalone `ingest` at that broker (`token` + an API token on a housing-brain broker; a RabbitMQ user on RabbitMQ)"),
    mqttPassword: setting('MQTT_PASSWORD', optionalText, undefined,
      "login for the standalone `ingest` at that broker (`token` + an API token on a housing-brain broker; a RabbitMQ user on RabbitMQ)"),
    apiUrl: setting('API_URL', httpUrl, 'http://127.0.0.1:3000',
      "API the standalone rules engine reports to"),
    apiToken: setting('API_TOKEN', optionalText, undefined,
      "the standalone rules engine's token (role `service`; also its MQTT password); unset = it creates one and keeps it in `DATA_DIR/rules-engine-token`"),
  }),
  ingest: section('Ingest', {
    clientId: setting('INGEST_CLIENT_ID', optionalText, undefined,
      "persistent-session client id of the standalone ingest"),
    sharedGroup: setting('INGEST_SHARED_GROUP', optionalText, undefined,
      "subscribe as `$share/{group}/…` (MQTT 5) so several ingest workers split the stream"),
    ackWindow: setting('INGEST_ACK_WINDOW', count(0), '1000',
      "standalone ingest: readings acknowledged before their commit (the most a `kill -9` loses); `0` = none"),
    batchMaxRows: setting('INGEST_BATCH_MAX_ROWS', count(1), '10000',
      "most readings per transaction"),
    batchMaxWaitMs: setting('INGEST_BATCH_MAX_WAIT', durationOrZero, '0s',
      "how long an idle writer waits to gather a batch (a busy one batches what queued during its commit)"),
    maxInFlight: setting('INGEST_MAX_IN_FLIGHT', count(1), '2',
      "transactions the writer keeps in flight"),
    latestFlushMs: setting('INGEST_LATEST_FLUSH', durationOrZero, '1s',
      "how often the latest-value table is written (it may lag the readings by this much); `0s` = in every batch"),
    queueMaxRows: setting('INGEST_QUEUE_MAX_ROWS', count(1), '100000',
      "readings queued for commit before backpressure"),
    maxFutureSkewMs: setting('INGEST_MAX_FUTURE_SKEW', duration, '5m',
      "how far ahead of the server clock a timestamp may be"),
    maxPastAgeMs: setting('INGEST_MAX_PAST_AGE', duration, '7d',
      "readings older than this are dead-lettered as `too_old`"),
    maxEntries: setting('INGEST_MAX_ENTRIES', count(1), '10000',
      "entries per device (or per child in a gateway message) in one message; more = the message is refused whole (`too_many_entries`)"),
    maxValuesPerEntry: setting('INGEST_MAX_VALUES_PER_ENTRY', count(1), '64',
      "values in one entry; more = `too_many_entries`"),
    maxDeadLettersPerMessage: setting('INGEST_MAX_DEAD_LETTERS_PER_MESSAGE', count(1), '100',
      "dead-letter rows one message may write; the last sums up the rest"),
    stallAfterMs: setting('INGEST_STALL_AFTER', duration, '30s',
      "`/health` and `/ready` answer 503 when the oldest unacknowledged message has waited longer"),
    deadLetterRetentionMs: setting('DEAD_LETTER_RETENTION', duration, '30d',
      "how long dead letters are kept"),
  }),
  rules: section('Rules engine', {
    tickMs: setting('RULES_TICK', duration, '1s',
      "how often evaluators are given the time"),
    repeatEveryMs: setting('RULES_REPEAT_EVERY', duration, '30s',
      "a still-active condition is re-reported at most this often"),
    latenessMs: setting('RULES_LATENESS', duration, '2m',
      "how far back in device time a reading that arrives after a newer one of its device is placed and evaluated; an older one is counted (`hb_rules_late_samples_total{outcome=\"beyond_bound\"}`) and logged"),
    partition: setting('RULES_PARTITION', partition, '0/1',
      "`index/count`: this rules process takes the feed's buckets b with b % count = index (`0/2` and `1/2` for two processes; a second process of the same share is a standby); see [Alerting guarantee](design.md#alerting-guarantee-the-commit-ordered-feed-and-rules-partitions)"),
  }),
  egress: section('Egress', {
    allow: setting('EGRESS_ALLOW', egressAllow, '',
      "addresses, CIDR networks or host names that webhooks, every notification channel (SMS gateways, SMTP relays, bots' `baseUrl`) and Web Push may reach although they are not public unicast, e.g. `10.0.0.5,192.168.1.0/24,smtp.internal`; unset = public addresses only ([What leaves the process](security.md#what-leaves-the-process))"),
  }),
  notify: section('Notifications', {
    secretKey: setting('NOTIFY_SECRET_KEY', optionalText, undefined,
      "base64 of 32 bytes sealing channel credentials and signing links"),
    linkBaseUrl: setting('NOTIFY_LINK_BASE_URL', httpUrl, 'http://127.0.0.1:3000',
      "where the links in messages point: this API as people's phones reach it (the public https:// address behind a proxy)"),
    linkTtlMs: setting('NOTIFY_LINK_TTL', duration, '24h',
      "how long a message's link opens (and may acknowledge) the alert"),
    retryBaseMs: setting('NOTIFY_RETRY_BASE', duration, '5s',
      "the first retry of a failed page; each further retry waits twice as long, up to `NOTIFY_RETRY_MAX`"),
    retryMaxMs: setting('NOTIFY_RETRY_MAX', duration, '10m',
      "the longest wait between two retries of a failed page"),
    maxAttempts: setting('NOTIFY_MAX_ATTEMPTS', count(1), '12',
      "attempts before a page is given up as failed"),
    companyPerMinute: setting('NOTIFY_COMPANY_PER_MINUTE', count(0), '120',
      "pages per company per minute (`0` = no limit)"),
    timezone: setting('NOTIFY_TIMEZONE', text, 'Asia/Shanghai',
      "time zone of the deadlines in messages and of the delivery log's times"),
  }),
  onenet: section('OneNET', {
    pushToken: setting('ONENET_PUSH_TOKEN', optionalText, undefined,
      "the token of OneNET's HTTP push; unset = no OneNET receiver"),
  }),
  ctwing: section('CTWing', {
    pushToken: setting('CTWING_PUSH_TOKEN', optionalText, undefined,
      "the token in the CTWing subscription URL; unset = no CTWing receiver"),
  }),
  chirpstack: section('ChirpStack v4', {
    url: setting('CHIRPSTACK_MQTT_URL', mqttUrl, undefined,
      "the broker ChirpStack's MQTT integration publishes to; set = `up` and `ingest` run the ChirpStack integration"),
    username: setting('CHIRPSTACK_MQTT_USERNAME', optionalText, undefined,
      "the integration's own credentials on that broker"),
    password: setting('CHIRPSTACK_MQTT_PASSWORD', optionalText, undefined,
      "the integration's own credentials on that broker"),
    clientId: setting('CHIRPSTACK_CLIENT_ID', z.string().min(1).max(128), 'housing-brain-chirpstack',
      "the client id of its persistent session (one running integration per id)"),
    applicationId: setting('CHIRPSTACK_APPLICATION_ID', z.string().regex(/^(\+|[^/#+]{1,128})$/, 'expected + or one application id (no /, # or +)'), '+',
      "the ChirpStack application (UUID) whose events are taken; `+` = all on the broker"),
    ackWindow: setting('CHIRPSTACK_ACK_WINDOW', count(0), '0',
      "events acknowledged before their commit, per session, the most a `kill -9` can lose (`0`: PUBACK after commit only)"),
    sessions: setting('CHIRPSTACK_SESSIONS', count(1, 32), '1',
      "sessions splitting the events through an MQTT 5 shared subscription (client ids `{CHIRPSTACK_CLIENT_ID}-1` …); each still acknowledges after the commit, and they commit together"),
    maxEventBytes: setting('CHIRPSTACK_MAX_EVENT_BYTES', count(1, 1024 * 1024, 'at most 1048576 (1 MB)'), '65536',
      "largest event taken (at most 1 MB); larger: dead letter `payload_too_large`"),
  }),
  rabbitmq: section('RabbitMQ tier', {
    authKey: setting('RABBITMQ_AUTH_KEY', rabbitKey, undefined,
      "shared key in RabbitMQ's `auth_http.*_path` URLs; unset = the RabbitMQ auth routes are not served"),
    vhost: setting('RABBITMQ_MQTT_VHOST', text, '/',
      "the vhost devices use (RabbitMQ's `mqtt.vhost`)"),
    exchange: setting('RABBITMQ_MQTT_EXCHANGE', text, 'amq.topic',
      "the exchange RabbitMQ's MQTT plugin publishes to (`mqtt.exchange`); its alternate exchange is `hb.unroutable.{exchange}`, set by a policy of that name"),
    managementUrl: setting('RABBITMQ_MANAGEMENT_URL', optionalHttpUrl, undefined,
      "RabbitMQ's management API (`http://user:pass@rabbit:15672`, plugin `rabbitmq_management`). Required by `housing-brain rabbitmq setup` (a user tagged `policymaker`, configure permission on the vhost) and by `ingest --from amqp://…`, which checks the setup at start (tag `management` suffices). On the API: it closes a device's RabbitMQ connections when the device is disabled or its secret changes; unset there, they stay open until the device reconnects"),
    queue: setting('INGEST_AMQP_QUEUE', z.string().min(1).max(255), 'hb.telemetry',
      "`rabbitmq setup` and `ingest --from amqp://…`: the quorum queue the workers share, and `{queue}.unroutable` beside it"),
    prefetch: setting('INGEST_AMQP_PREFETCH', count(1, 65_535), '1000',
      "`ingest --from amqp://…`: messages in flight per worker, unacknowledged until committed"),
  }),
  nodeRed: section('Node-RED', {
    port: setting('NODE_RED_PORT', port, '1880',
      "the port of the Node-RED editor and runtime (`housing-brain node-red`)"),
    adminHash: setting('NODE_RED_ADMIN_HASH', optionalText, undefined,
      "bcrypt hash of the Node-RED editor's `admin` password; unset = one is generated on first start, printed once, its hash kept in `DATA_DIR/node-red-admin-hash`"),
  }),
}
