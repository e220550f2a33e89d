// Composition: how the services are built from the configuration. Each command of the CLI picks
// the pieces it runs; tests build the same pieces directly.
import { access } from 'node:fs/promises'
import path from 'node:path'
import { buildApp, type App, type AppDeps } from '../api/app.ts'
import { Broker, type BrokerAddress } from '../broker/broker.ts'
import type { Config } from '../core/config.ts'
import { openDb, type Db } from '../core/db/client.ts'
import { migrate, type DbFeatures } from '../core/db/migrate.ts'
import type { Logger } from '../core/log.ts'
import { createOutboxMetrics, type Metrics, type RulesMetrics } from '../core/metrics.ts'
import type { Registry } from 'prom-client'
import { notifyOutboxFigures } from '../core/repos/notify-deliveries.ts'
import { webhookOutboxFigures } from '../core/repos/webhooks.ts'
import { PortInUseError } from '../core/net.ts'
import { UsageError } from '../core/errors.ts'
import { Controller, type Unit } from '../core/units.ts'
import { Escalator } from '../alerts/escalator.ts'
import { Leader, LEADER_KEYS } from '../core/leader.ts'
import { AlertHistoryRetention } from '../alerts/retention.ts'
import { AlertService, DEFAULT_DEADLINES } from '../alerts/service.ts'
import { DEFAULT_WEIGHTS } from '../alerts/score.ts'
import { DEFAULT_DISPATCH, WebhookDispatcher, type DispatcherOptions } from '../notify/webhook-dispatcher.ts'
import { webhookOutbox } from '../notify/webhook-outbox.ts'
import { destinationPolicy, type DestinationPolicy } from '../core/egress.ts'
import { loadSecretKey } from '../core/crypto.ts'
import { Notifications, notifySettings, type NotifyConfig } from '../notify/notifications.ts'
import { IngestService, type IngestSettings } from '../ingest/service.ts'
import { ChirpStackIntegration } from '../intake/chirpstack.ts'
import { DecoderSandbox } from '../core/decoders/sandbox.ts'
import { receiverCaches } from '../intake/receiver.ts'
import { watchDeviceChanges } from '../intake/device-caches.ts'
import { newDeviceLoginGate, VerifiedSecrets, type DeviceLogins } from '../intake/device-login/index.ts'
import { ruleRow, seedRules } from '../core/repos/rules.ts'
import { seedProfiles } from '../core/repos/profiles.ts'
import { profileSchema } from '../core/profiles/schema.ts'
import { SHIPPED_PROFILES } from '../core/profiles/catalogue.ts'
import { DEFAULT_RULES } from '../rules/catalogue.ts'
import { RulesEngine, type RulesEngineMetrics } from '../rules/engine.ts'
import { ApiReporter } from '../rules/reporter.ts'
import { serviceClientId } from '../intake/acl.ts'
import { RabbitDeviceConnections } from '../broker/rabbitmq-connections.ts'
import { TOKEN_REVOKED_CHANNEL, resolveToken } from '../core/repos/tokens.ts'

export interface Database {
  db: Db
  features: DbFeatures
}

/**
 * Where the embedded database lives. The two engines' files differ (a PostgreSQL 18 cluster, a
 * PGlite 17 one), so each has its own directory: switching EMBEDDED_DB never opens one with the
 * other. `pgdata` is PGlite's, where it lived when it was the default.
 */
export function embeddedDir(cfg: Pick<Config, 'dataDir' | 'EMBEDDED_DB'>): string {
  return path.join(cfg.dataDir, cfg.EMBEDDED_DB === 'postgres' ? 'postgres' : 'pgdata')
}

const hasPgliteData = (dataDir: string) => access(path.join(dataDir, 'pgdata', 'PG_VERSION')).then(
  () => true,
  () => false,
)

/** Opens the configured database (server or embedded) and brings its schema up to date. */
export async function openDatabase(cfg: Config, log: Logger, applicationName: string): Promise<Database> {
  const url = cfg.DATABASE_URL
  if (!url && cfg.EMBEDDED_DB === 'postgres' && (await hasPgliteData(cfg.dataDir))) {
    log.warn(`${path.join(cfg.dataDir, 'pgdata')} holds the PGlite database of an earlier version; the embedded PostgreSQL starts anew in ${embeddedDir(cfg)} (EMBEDDED_DB=pglite opens the old one)`)
  }
  const db = await openDb({ url, dataDir: url ? undefined : embeddedDir(cfg), embedded: cfg.EMBEDDED_DB, applicationName, log: log.child({ module: 'db' }) })
  try {
    const features = await migrate(db, {
      log: log.child({ module: 'migrate' }),
      retentionDays: cfg.RETENTION_DAYS,
      compressAfterDays: cfg.COMPRESS_AFTER_DAYS,
    })
    // The default rule catalogue: rules that are missing are added; edited ones stay as edited.
    const added = await seedRules(db, DEFAULT_RULES.map(ruleRow))
    if (added > 0) log.info({ added }, 'added default rules')
    // The shipped device profiles, likewise: missing ones are added, edited ones stay as edited.
    const profiles = SHIPPED_PROFILES.map((p) => profileSchema.parse(p))
    const addedProfiles = await seedProfiles(db, profiles.map((p) => ({ id: p.id, kind: p.kind, definition: p })))
    if (addedProfiles > 0) log.info({ added: addedProfiles }, 'added shipped device profiles')
    return { db, features }
  } catch (err) {
    await db.close()
    throw err
  }
}

/** The broker with the ingest inside it: PUBACK after commit (DESIGN §7); what commits goes on the feed (core/feed.ts). */
export class BrokerWithIngest implements Unit {
  readonly name = 'broker'
  readonly ingest: IngestService
  readonly broker: Broker
  /** The process's device login gate and verified-secret cache, for the API in the same process (`up`). */
  readonly logins: DeviceLogins
  address: BrokerAddress | undefined

  constructor(
    private readonly db: Db,
    cfg: Config,
    log: Logger,
    metrics: Metrics,
  ) {
    this.ingest = new IngestService(db, cfg, log, metrics)
    const verified = new VerifiedSecrets()
    const limits = { maxConcurrent: cfg.MQTT_AUTH_MAX_CONCURRENT, maxConcurrentPerAddress: cfg.MQTT_AUTH_MAX_CONCURRENT_PER_ADDRESS }
    this.logins = { gate: newDeviceLoginGate(db, limits, () => metrics.loginsHeld.inc(), verified), verified }
    this.broker = new Broker(
      db,
      this.ingest.directory,
      {
        host: cfg.HOST,
        port: cfg.MQTT_PORT,
        wsPort: cfg.MQTT_WS_PORT,
        tlsPort: cfg.MQTT_TLS_PORT,
        tlsCertFile: cfg.TLS_CERT_FILE,
        tlsKeyFile: cfg.TLS_KEY_FILE,
        redisUrl: cfg.REDIS_URL,
        clusterHeartbeatMs: cfg.MQTT_CLUSTER_HEARTBEAT,
        authMaxConcurrent: cfg.MQTT_AUTH_MAX_CONCURRENT,
        authMaxConcurrentPerAddress: cfg.MQTT_AUTH_MAX_CONCURRENT_PER_ADDRESS,
        tokenRecheckMs: cfg.MQTT_TOKEN_RECHECK,
        logins: this.logins.gate,
      },
      (msg) => this.ingest.pipeline.handle(msg),
      log.child({ module: 'broker' }),
      metrics,
    )
  }

  private unlisten: (() => Promise<void>) | undefined
  private unlistenTokens: (() => Promise<void>) | undefined

  async start(): Promise<void> {
    await this.ingest.start()
    this.address = await this.broker.start()
    // A device disabled or given a new secret (by the API, maybe in another process) loses its
    // live connections at once and its verified secret; any other change only refreshes the
    // cached registry entry.
    this.unlisten = await watchDeviceChanges(this.db, { verified: this.logins.verified }, (change) => {
      if (change?.credentials) this.broker.disconnectDevice(change.id)
      else if (change) this.ingest.directory.invalidate(change.id)
    })
    // A revoked API token (by the API, maybe in another process) ends its service sessions now.
    this.unlistenTokens = await this.db.listen(TOKEN_REVOKED_CHANNEL, () => void this.broker.recheckServices())
  }

  async stop(): Promise<void> {
    await this.unlisten?.()
    await this.unlistenTokens?.()
    // Connections first, so no new work arrives; then commit what is queued.
    await this.broker.stop()
    await this.ingest.stop()
  }
}

/** The API with the alert lifecycle's background work: deadline checks and the delivery pipeline (webhooks, notifications). */
export class ApiServer implements Unit {
  readonly name = 'api'
  app: App | undefined
  port: number | undefined
  readonly alerts: AlertService
  private readonly background: Controller

  constructor(
    /**
     * `ingest`: the one to feed the HTTP device API into (the broker's, in one process); else the
     * API runs its own (what it commits reaches the rules engine through the feed, like any ingest's).
     */
    private readonly deps: Database & Pick<AppDeps, 'metrics' | 'probes'> & { ingest?: IngestService | undefined; logins?: DeviceLogins | undefined },
    private readonly cfg: Pick<
      Config,
      'HOST' | 'HTTP_PORT' | 'ALERT_DEADLINES' | 'ALERT_CHECK_EVERY' | 'ALERT_REMIND_EVERY' | 'EVAL_WEIGHTS' | 'CORS_ORIGINS' | 'TRUST_PROXY' | 'RATE_LIMIT_PER_MINUTE' | 'RATE_LIMIT_AUTH_FAILURES_PER_MINUTE' | 'EGRESS_ALLOW' | 'WEBHOOK_ALLOW_DESTINATIONS'
      | 'ALERT_STREAM_BACKFILL_MAX'
      | 'ALERT_STREAM_BACKFILL_MAX_AGE'
      | 'ALERT_STREAMS_PER_TOKEN'
      | 'ALERT_STREAM_RECHECK'
      | 'LEADER_RETRY'
      | 'SHUTDOWN_READY_DELAY'
      | 'METRICS_TOKEN'
      | 'PHOTO_MAX_BYTES'
      | 'PHOTOS_PER_ALERT'
      | 'RESIDENT_REPORTS_PER_HOUR'
      | 'RESIDENT_REPORTS_PER_DAY'
      | 'RESIDENT_PHOTO_BYTES_PER_DAY'
      | 'ONENET_PUSH_TOKEN'
      | 'CTWING_PUSH_TOKEN'
    > &
      Pick<Config, 'ALERT_HISTORY_RETENTION_DAYS' | 'AUDIT_RETENTION_DAYS' | 'FEED_RETENTION'> &
      Pick<Config, 'RABBITMQ_AUTH_KEY' | 'RABBITMQ_MQTT_VHOST' | 'RABBITMQ_MQTT_EXCHANGE' | 'MQTT_AUTH_MAX_CONCURRENT' | 'MQTT_AUTH_MAX_CONCURRENT_PER_ADDRESS' | 'RABBITMQ_MANAGEMENT_URL'> &
      NotifyConfig &
      Pick<Config, 'NOTIFY_SECRET_KEY' | 'dataDir'> &
      IngestSettings,
    private readonly log: Logger,
    dispatch: DispatcherOptions = DEFAULT_DISPATCH,
  ) {
    this.alerts = new AlertService(deps.db, { ...DEFAULT_DEADLINES, ...cfg.ALERT_DEADLINES }, log.child({ module: 'alerts' }))
    // The webhook outbox first, then the notification outbox (registered by Notifications in start()).
    this.alerts.outboxes.push(webhookOutbox)
    this.background = new Controller(log)
    this.destinations = destinationPolicy([...cfg.EGRESS_ALLOW, ...cfg.WEBHOOK_ALLOW_DESTINATIONS])
    this.dispatcher = new WebhookDispatcher(
      deps.db,
      this.alerts.bus,
      { ...dispatch, destinations: this.destinations, onAttempt: (outcome) => deps.metrics.webhookDeliveries.inc({ outcome }) },
      log.child({ module: 'webhooks' }),
    )
    // Timed scans run in one API process at a time (the advisory-lock leader); the queues
    // (webhooks, notifications) in every one, each row claimed with FOR UPDATE SKIP LOCKED.
    const escalator = new Escalator(this.alerts, { checkEveryMs: cfg.ALERT_CHECK_EVERY, remindEveryMs: cfg.ALERT_REMIND_EVERY }, log.child({ module: 'escalator' }))
    const retention = new AlertHistoryRetention(deps.db, cfg.ALERT_HISTORY_RETENTION_DAYS, log.child({ module: 'alert-retention' }), cfg.AUDIT_RETENTION_DAYS, cfg.FEED_RETENTION)
    this.leader = new Leader(deps.db, LEADER_KEYS.apiTimers, [escalator, retention], cfg.LEADER_RETRY, log.child({ module: 'leader' }))
  }

  /** Runs the deadline checker, reminders and history retention while this process holds the lock. */
  readonly leader: Leader
  /** Set when shutdown begins: readiness turns false before the listener closes. */
  private draining = false
  private readonly sandbox = new DecoderSandbox()
  /** The API's own ingest, when no other was given. */
  private ownIngest: IngestService | undefined
  private readonly dispatcher: WebhookDispatcher
  private readonly destinations: DestinationPolicy

  async start(): Promise<void> {
    const key = await loadSecretKey(this.cfg.NOTIFY_SECRET_KEY, this.cfg.dataDir)
    const onAttempt = (channel: string, outcome: string) => this.deps.metrics.notifyDeliveries.inc({ channel, outcome })
    const notifications = new Notifications(this.deps.db, this.alerts, key, { ...notifySettings(this.cfg), destinations: this.destinations, onAttempt }, this.log.child({ module: 'notify' }))
    // The HTTP device API's way into the one telemetry pipeline (intake/telemetry-sink.ts).
    let ingest = this.deps.ingest
    if (!ingest) {
      ingest = this.ownIngest = new IngestService(this.deps.db, this.cfg, this.log, this.deps.metrics)
      await ingest.start()
    }
    await this.sandbox.start()
    // Other API processes' alert events, for the live stream and the dispatchers here.
    await this.alerts.feed.start()
    const intake = { db: this.deps.db, sink: ingest.pipeline, sandbox: this.sandbox, ...receiverCaches() }
    const probes = [...(this.deps.probes ?? []), () => (this.draining ? 'shutting down (draining)' : undefined)]
    const leading = () => this.leader.leading
    const app = await buildApp({ ...this.deps, probes, leading, alerts: this.alerts, notify: notifications.context, intake }, this.log.child({ module: 'api' }), {
      weights: { ...DEFAULT_WEIGHTS, ...this.cfg.EVAL_WEIGHTS },
      corsOrigins: this.cfg.CORS_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean),
      trustProxy: this.cfg.TRUST_PROXY,
      rateLimitPerMinute: this.cfg.RATE_LIMIT_PER_MINUTE,
      authFailuresPerMinute: this.cfg.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE,
      egress: this.destinations,
      metricsToken: this.cfg.METRICS_TOKEN,
      photos: { maxBytes: this.cfg.PHOTO_MAX_BYTES, perAlert: this.cfg.PHOTOS_PER_ALERT },
      residents: { reportsPerHour: this.cfg.RESIDENT_REPORTS_PER_HOUR, reportsPerDay: this.cfg.RESIDENT_REPORTS_PER_DAY, photoBytesPerDay: this.cfg.RESIDENT_PHOTO_BYTES_PER_DAY },
      onenetPushToken: this.cfg.ONENET_PUSH_TOKEN,
      ctwingPushToken: this.cfg.CTWING_PUSH_TOKEN,
      // In one process with the broker, its gate and cache: one bound for MQTT and HTTP together.
      deviceLogins: { maxConcurrent: this.cfg.MQTT_AUTH_MAX_CONCURRENT, maxConcurrentPerAddress: this.cfg.MQTT_AUTH_MAX_CONCURRENT_PER_ADDRESS, shared: this.deps.logins },
      rabbitmqAuth:
        this.cfg.RABBITMQ_AUTH_KEY === undefined
          ? undefined
          : { key: this.cfg.RABBITMQ_AUTH_KEY, vhost: this.cfg.RABBITMQ_MQTT_VHOST, exchange: this.cfg.RABBITMQ_MQTT_EXCHANGE, maxConcurrent: this.cfg.MQTT_AUTH_MAX_CONCURRENT },
      alertStream: {
        backfillMax: this.cfg.ALERT_STREAM_BACKFILL_MAX,
        backfillMaxAgeMs: this.cfg.ALERT_STREAM_BACKFILL_MAX_AGE,
        perToken: this.cfg.ALERT_STREAMS_PER_TOKEN,
        recheckMs: this.cfg.ALERT_STREAM_RECHECK,
      },
    })
    this.app = app
    try {
      await app.listen({ port: this.cfg.HTTP_PORT, host: this.cfg.HOST })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError('HTTP_PORT', this.cfg.HTTP_PORT, this.cfg.HOST)
      throw err
    }
    const addr = app.server.address()
    this.port = typeof addr === 'object' && addr !== null ? addr.port : this.cfg.HTTP_PORT
    const rabbit = this.cfg.RABBITMQ_MANAGEMENT_URL
    // The RabbitMQ tier: a device disabled or re-keyed loses its live RabbitMQ connections too.
    const closer = rabbit === undefined ? [] : [new RabbitDeviceConnections(this.deps.db, { managementUrl: rabbit }, this.log.child({ module: 'rabbitmq' }))]
    await this.background.start([this.leader, this.dispatcher, notifications, ...closer])
  }

  /**
   * Drain: readiness turns false (a load balancer stops sending; SHUTDOWN_READY_DELAY gives it
   * time to notice while requests are still answered), open live streams end (their
   * clients resume on another process with Last-Event-ID), the listener closes after answering
   * the requests in flight (each after its commit), then the background work and the ingest.
   */
  pending(): string[] {
    return this.background.pending()
  }

  async stop(): Promise<void> {
    this.draining = true
    // Unready but still serving, for as long as a load balancer takes to notice.
    if (this.app && this.cfg.SHUTDOWN_READY_DELAY > 0) await new Promise((resolve) => setTimeout(resolve, this.cfg.SHUTDOWN_READY_DELAY))
    await this.app?.close()
    await this.background.stop()
    await this.alerts.feed.stop()
    await this.ownIngest?.stop()
    await this.sandbox.stop()
  }
}

/** The gauges of the notification outbox and the webhook queue, read from the database on each scrape (an API process, `up`). */
export function outboxMetrics(db: Db, registry: Registry): void {
  createOutboxMetrics(registry, { notify: () => notifyOutboxFigures(db, new Date()), webhooks: () => webhookOutboxFigures(db) })
}

/** The database as a unit, so it closes after everything that uses it. */
export function databaseUnit(database: Database): Unit {
  return {
    name: 'database',
    start: () => Promise.resolve(),
    stop: () => database.db.close(),
  }
}

/**
 * The MQTT client id of a program that logs in with an API token: the configured one, else
 * `svc@{userName}/{role}` from the token's user, the only form the broker accepts for it.
 */
export async function serviceMqttClientId(db: Db, token: string, role: string, configured: string | undefined): Promise<string> {
  if (configured !== undefined) return configured
  const principal = await resolveToken(db, token)
  if (!principal) throw new UsageError('the API token for MQTT is unknown, revoked or expired')
  return serviceClientId(principal.name, role)
}

/** The rules engine with its reporter to the API: it reads the feed from the database (core/feed.ts). */
export function rulesUnit(db: Db, cfg: Config, log: Logger, conn: { apiUrl: string; token: string; metrics?: RulesMetrics | undefined; observe?: RulesEngineMetrics | undefined }): RulesEngine {
  const rlog = log.child({ module: 'rules' })
  const partition = `${cfg.RULES_PARTITION.index}/${cfg.RULES_PARTITION.count}`
  const m = conn.metrics
  const metrics: RulesEngineMetrics | undefined = conn.observe ?? (m && {
    evaluated: (n) => m.samplesEvaluated.inc(n),
    reported: (kind) => (kind === 'raise' ? m.alertsRaised : m.alertsCleared).inc(),
    late: (outcome) => m.lateSamples.inc({ outcome }),
    position: (row, lagSeconds) => {
      m.feedPosition.set({ partition }, row)
      m.feedLagSeconds.set({ partition }, lagSeconds)
    },
  })
  const reporter = new ApiReporter({ apiUrl: conn.apiUrl, token: conn.token, maxQueued: 10_000 }, rlog)
  return new RulesEngine(
    db,
    reporter,
    {
      partition: cfg.RULES_PARTITION,
      tickMs: cfg.RULES_TICK,
      repeatEveryMs: cfg.RULES_REPEAT_EVERY,
      latenessMs: cfg.RULES_LATENESS,
      metrics,
    },
    rlog,
  )
}

/**
 * The ChirpStack v4 integration feeding `ingest`, when CHIRPSTACK_MQTT_URL is set: it runs inside
 * the process that already holds an ingest (`up`, `ingest`), so its events share that group
 * commit, and nothing more has to be deployed for a LoRaWAN fleet.
 */
export function chirpstackUnit(db: Db, ingest: IngestService, cfg: Config, log: Logger, metrics: Metrics): ChirpStackIntegration | undefined {
  if (cfg.CHIRPSTACK_MQTT_URL === undefined) return undefined
  return new ChirpStackIntegration(
    db,
    ingest.pipeline,
    {
      url: cfg.CHIRPSTACK_MQTT_URL,
      username: cfg.CHIRPSTACK_MQTT_USERNAME,
      password: cfg.CHIRPSTACK_MQTT_PASSWORD,
      clientId: cfg.CHIRPSTACK_CLIENT_ID,
      applicationId: cfg.CHIRPSTACK_APPLICATION_ID,
      ackWindow: cfg.CHIRPSTACK_ACK_WINDOW,
      maxEventBytes: cfg.CHIRPSTACK_MAX_EVENT_BYTES,
      sessions: cfg.CHIRPSTACK_SESSIONS,
    },
    log.child({ module: 'chirpstack' }),
    metrics,
  )
}
