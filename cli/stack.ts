// Composition: how the services are built from the configuration, each unit handed its own
// section (core/settings.ts). Each command of the CLI picks the pieces it runs; tests build the
// same pieces directly. What a piece does when a setting is unset is the piece's own business.
import { appOptions, buildApp, type App, type AppDeps } from '../api/app.ts'
import { Broker, type BrokerAddress } from '../broker/broker.ts'
import type { Config } from '../core/config.ts'
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import { createOutboxMetrics, type Metrics } from '../core/metrics.ts'
import type { Registry } from 'prom-client'
import { notifyOutboxFigures } from '../core/repos/notify-deliveries.ts'
import { webhookOutboxFigures } from '../core/repos/webhooks.ts'
import { listenOn } from '../core/net.ts'
import { Controller, type Unit } from '../core/units.ts'
import { Escalator } from '../alerts/escalator.ts'
import { Leader, LEADER_KEYS } from '../core/leader.ts'
import { AlertHistoryRetention } from '../alerts/retention.ts'
import { AlertService, DEFAULT_DEADLINES } from '../alerts/service.ts'
import { DEFAULT_DISPATCH, WebhookDispatcher, type DispatcherOptions } from '../notify/webhook-dispatcher.ts'
import { webhookOutbox } from '../notify/webhook-outbox.ts'
import { destinationPolicy, type DestinationPolicy } from '../core/egress.ts'
import { loadSecretKey } from '../core/crypto.ts'
import { Notifications, notifySettings } from '../notify/notifications.ts'
import { companyCoverage } from '../notify/coverage.ts'
import { IngestService } from '../ingest/service.ts'
import { chirpstackIntegration, type ChirpStackIntegration } from '../intake/chirpstack.ts'
import { DecoderSandbox } from '../core/decoders/sandbox.ts'
import { receiverCaches } from '../intake/receiver.ts'
import { watchDeviceChanges } from '../intake/device-caches.ts'
import { newDeviceLoginGate, VerifiedSecrets, type DeviceLogins } from '../intake/device-login/index.ts'
import { rabbitDeviceConnections } from '../broker/rabbitmq-connections.ts'
import { TOKEN_REVOKED_CHANNEL } from '../core/repos/tokens.ts'
import type { Database } from './database.ts'

export { databaseUnit, embeddedDir, openDatabase, type Database } from './database.ts'
export { rulesUnit } from '../rules/unit.ts'
export { serviceMqttClientId } from '../intake/acl.ts'

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
    cfg: Pick<Config, 'server' | 'broker' | 'ingest'>,
    log: Logger,
    metrics: Metrics,
  ) {
    this.ingest = new IngestService(db, cfg.ingest, log, metrics)
    const verified = new VerifiedSecrets()
    const limits = { maxConcurrent: cfg.broker.authMaxConcurrent, maxConcurrentPerAddress: cfg.broker.authMaxConcurrentPerAddress }
    this.logins = { gate: newDeviceLoginGate(db, limits, () => metrics.loginsHeld.inc(), verified), verified }
    this.broker = new Broker(
      db,
      this.ingest.directory,
      { ...cfg.broker, host: cfg.server.host, logins: this.logins.gate },
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
    // Device changes drop the verified secrets and reach the broker's connections (Broker.deviceChanged).
    this.unlisten = await watchDeviceChanges(this.db, { verified: this.logins.verified }, (change) => change && this.broker.deviceChanged(change))
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
    private readonly cfg: Pick<Config, 'server' | 'api' | 'alerts' | 'retention' | 'egress' | 'notify' | 'onenet' | 'ctwing' | 'rabbitmq' | 'broker' | 'ingest' | 'signin' | 'map'>,
    private readonly log: Logger,
    dispatch: DispatcherOptions = DEFAULT_DISPATCH,
  ) {
    const grouping = { windowMs: cfg.alerts.groupWindowMs, by: cfg.alerts.groupBy }
    this.alerts = new AlertService(deps.db, { ...DEFAULT_DEADLINES, ...cfg.alerts.deadlines }, log.child({ module: 'alerts' }), undefined, grouping)
    // The webhook outbox first, then the notification outbox (registered by Notifications in start()).
    this.alerts.outboxes.push(webhookOutbox)
    this.background = new Controller(log)
    this.destinations = destinationPolicy(cfg.egress.allow)
    this.dispatcher = new WebhookDispatcher(
      deps.db,
      this.alerts.bus,
      { ...dispatch, destinations: this.destinations, onAttempt: (outcome) => deps.metrics.webhookDeliveries.inc({ outcome }) },
      log.child({ module: 'webhooks' }),
    )
    // Timed scans run in one API process at a time (the advisory-lock leader); the queues
    // (webhooks, notifications) in every one, each row claimed with FOR UPDATE SKIP LOCKED.
    const escalator = new Escalator(this.alerts, cfg.alerts, log.child({ module: 'escalator' }))
    const { alertHistoryMs, auditMs, feedMs } = cfg.retention
    const retention = new AlertHistoryRetention(deps.db, { alertHistoryMs, auditMs, feedMs }, log.child({ module: 'alert-retention' }))
    this.leader = new Leader(deps.db, LEADER_KEYS.apiTimers, [escalator, retention], cfg.server.leaderRetryMs, log.child({ module: 'leader' }))
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
    const key = await loadSecretKey(this.cfg.notify.secretKey, this.cfg.server.dataDir)
    const onAttempt = (channel: string, outcome: string) => this.deps.metrics.notifyDeliveries.inc({ channel, outcome })
    const notifications = new Notifications(this.deps.db, this.alerts, key, { ...notifySettings(this.cfg.notify), destinations: this.destinations, onAttempt }, this.log.child({ module: 'notify' }))
    // The HTTP device API's way into the one telemetry pipeline (intake/telemetry-sink.ts).
    const ingest = this.deps.ingest ?? (this.ownIngest = new IngestService(this.deps.db, this.cfg.ingest, this.log, this.deps.metrics))
    if (ingest === this.ownIngest) await ingest.start()
    await this.sandbox.start()
    // Other API processes' alert events, for the live stream and the dispatchers here.
    await this.alerts.feed.start()
    const intake = { db: this.deps.db, sink: ingest.pipeline, sandbox: this.sandbox, ...receiverCaches() }
    const probes = [...(this.deps.probes ?? []), () => (this.draining ? 'shutting down (draining)' : undefined)]
    const leading = () => this.leader.leading
    const options = appOptions(this.cfg, { egress: this.destinations, logins: this.deps.logins }, this.log)
    const app = await buildApp({ ...this.deps, probes, leading, alerts: this.alerts, notify: notifications.context, intake }, this.log.child({ module: 'api' }), options)
    this.app = app
    this.port = await listenOn(app, 'HTTP_PORT', this.cfg.api.port, this.cfg.server.host)
    // The RabbitMQ tier: a device disabled or re-keyed loses its live RabbitMQ connections too.
    const closer = rabbitDeviceConnections(this.deps.db, this.cfg.rabbitmq, this.log)
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
    if (this.app) await new Promise((resolve) => setTimeout(resolve, this.cfg.server.shutdownReadyDelayMs))
    await this.app?.close()
    await this.background.stop()
    await this.alerts.feed.stop()
    await this.ownIngest?.stop()
    await this.sandbox.stop()
  }
}

/** The gauges of the notification outbox, the webhook queue and the companies no rota covers, read from the database on each scrape (an API process, `up`). */
export function outboxMetrics(db: Db, registry: Registry): void {
  createOutboxMetrics(registry, {
    notify: () => notifyOutboxFigures(db, new Date()),
    webhooks: () => webhookOutboxFigures(db),
    uncovered: async () => (await companyCoverage(db, new Date())).filter((c) => c.uncovered).length,
  })
}

/** The ChirpStack v4 integration feeding `ingest`'s group commit, when the `chirpstack` section names a broker. */
export function chirpstackUnit(db: Db, ingest: IngestService, cfg: Pick<Config, 'chirpstack'>, log: Logger, metrics: Metrics): ChirpStackIntegration | undefined {
  return chirpstackIntegration(db, ingest.pipeline, cfg.chirpstack, log, metrics)
}
