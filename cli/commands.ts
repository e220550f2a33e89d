// The long-running commands: each builds its units, starts them, and registers their shutdown.
import { parseArgs } from 'node:util'
import { ensureServiceToken } from '../core/provision.ts'
import { createAmqpMetrics, createMetrics, createRegistry, createRulesMetrics } from '../core/metrics.ts'
import type { Registry } from 'prom-client'
import { Controller, type Unit } from '../core/units.ts'
import { IngestService } from '../ingest/service.ts'
import { StandaloneIngest } from '../ingest/standalone.ts'
import { AmqpIngest } from '../intake/amqp.ts'
import { deadLetterUnroutable } from '../intake/amqp-unroutable.ts'
import { checkRabbit, type RabbitTopology } from '../ingest/rabbitmq-setup.ts'
import { rabbitSettings } from './rabbitmq.ts'
import { UsageError } from '../core/errors.ts'
import type { CommandContext } from './context.ts'
import { ApiServer, BrokerWithIngest, chirpstackUnit, databaseUnit, openDatabase, outboxMetrics, rulesUnit, serviceMqttClientId, type Database } from './stack.ts'
import { HealthServer, type ReadinessCheck } from '../core/health-server.ts'
import { SERVICE_USERNAME } from '../intake/device-login/index.ts'

const optional = (unit: Unit | undefined): Unit[] => (unit ? [unit] : [])

/**
 * Starts a service's units behind its health endpoints and its metrics (HEALTH_PORT) and
 * registers its drain: readiness turns false first, then the units stop newest first (the
 * listener before the work behind it, the database last). The database was migrated before any
 * of this (openDatabase), so a ready process never runs on an old schema.
 */
async function runUnits(ctx: CommandContext, service: string, database: Database, units: Unit[], checks: ReadinessCheck[], registry: Registry): Promise<void> {
  const health = new HealthServer(
    { host: ctx.cfg.server.host, port: ctx.cfg.server.healthPort, service, registry, metricsToken: ctx.cfg.server.metricsToken },
    [databaseCheck(database), ...checks],
    ctx.log.child({ module: 'health' }),
  )
  const controller = new Controller(ctx.log)
  await controller.start([...(ctx.cfg.server.healthPort === undefined ? [] : [health]), databaseUnit(database), ...units])
  ctx.onShutdown(
    async () => {
      health.drain()
      await controller.stop()
    },
    () => controller.pending(),
  )
}

function databaseCheck(database: Database): ReadinessCheck {
  return () => database.db.query('SELECT 1').then(
    () => undefined,
    () => 'database is not answering',
  )
}

const connectedCheck = (what: string, unit: { connected: boolean }): ReadinessCheck => () => (unit.connected ? undefined : `not connected to ${what}`)

export async function broker(ctx: CommandContext): Promise<void> {
  const database = await openDatabase(ctx.cfg, ctx.log, 'housing-brain broker')
  const metrics = createMetrics()
  const unit = new BrokerWithIngest(database.db, ctx.cfg, ctx.log, metrics)
  await runUnits(ctx, 'broker', database, [unit], [() => unit.ingest.stallReason(), () => (unit.address ? undefined : 'the MQTT listener is not open')], metrics.registry)
  ctx.log.info({ mqtt: unit.address }, 'broker listening')
}

export async function ingest(ctx: CommandContext): Promise<void> {
  const { values } = parseArgs({ args: ctx.args, options: { from: { type: 'string' } }, strict: true })
  const from = values.from
  if (from !== undefined && !/^amqps?:\/\//.test(from)) throw new UsageError('--from: expected an amqp:// or amqps:// URL (RabbitMQ), e.g. amqp://user:pass@rabbit:5672')
  // The RabbitMQ tier: the queues, bindings and alternate exchange must be set up already (issue 17).
  const rabbit = from === undefined ? undefined : { url: from, ...rabbitSettings(ctx.cfg, 'ingest --from amqp://… (to check the RabbitMQ setup at start)') }
  if (rabbit) await checkRabbit(rabbit.api, rabbit.topology)
  const database = await openDatabase(ctx.cfg, ctx.log, 'housing-brain ingest')
  const metrics = createMetrics()
  const core = new IngestService(database.db, ctx.cfg.ingest, ctx.log, metrics)
  if (rabbit) {
    // The RabbitMQ tier: consume the durable telemetry queue, acknowledge after commit.
    const consumer = new AmqpIngest(
      (msg) => core.pipeline.handle(msg),
      { url: rabbit.url, queue: ctx.cfg.rabbitmq.queue, exchange: ctx.cfg.rabbitmq.exchange, prefetch: ctx.cfg.rabbitmq.prefetch },
      ctx.log.child({ module: 'amqp-ingest' }),
    )
    createAmqpMetrics(metrics.registry, ctx.cfg.rabbitmq.queue, () => consumer.messageCount())
    // What the workers commit reaches the rules engine through the feed (core/feed.ts): nothing is published back.
    const unroutable = unroutableConsumer(rabbit, core, ctx)
    await runUnits(ctx, 'ingest', database, [core, consumer, unroutable, ...optional(chirpstackUnit(database.db, core, ctx.cfg, ctx.log, metrics))], [() => core.stallReason(), connectedCheck('RabbitMQ', consumer), connectedCheck('RabbitMQ', unroutable)], metrics.registry)
    return
  }
  const { mqttUsername: username, mqttPassword: password } = ctx.cfg.connect
  // Logged in with a token (our broker): the client id must be the service's; on another broker
  // (Mosquitto, EMQX), whatever it accepts.
  const clientId =
    username === SERVICE_USERNAME && password !== undefined
      ? await serviceMqttClientId(database.db, password, 'ingest', ctx.cfg.ingest.clientId)
      : (ctx.cfg.ingest.clientId ?? 'housing-brain-ingest')
  const subscriber = new StandaloneIngest(
    core,
    {
      url: ctx.cfg.connect.mqttUrl,
      clientId,
      username: ctx.cfg.connect.mqttUsername,
      password: ctx.cfg.connect.mqttPassword,
      ackWindow: ctx.cfg.ingest.ackWindow,
      sharedGroup: ctx.cfg.ingest.sharedGroup,
    },
    ctx.log.child({ module: 'standalone-ingest' }),
  )
  await runUnits(ctx, 'ingest', database, [core, subscriber, ...optional(chirpstackUnit(database.db, core, ctx.cfg, ctx.log, metrics))], [() => core.stallReason(), connectedCheck('the MQTT broker', subscriber)], metrics.registry)
}

/** The alternate exchange's queue: device messages RabbitMQ acknowledged but no queue took, dead-lettered after commit. */
function unroutableConsumer(rabbit: { url: string; topology: RabbitTopology }, core: IngestService, ctx: CommandContext): AmqpIngest {
  const t = rabbit.topology
  const opts = { url: rabbit.url, queue: t.unroutableQueue, exchange: t.alternateExchange, prefetch: ctx.cfg.rabbitmq.prefetch }
  return new AmqpIngest(deadLetterUnroutable(core.pipeline, t.alternateExchange), opts, ctx.log.child({ module: 'amqp-unroutable' }))
}

export async function api(ctx: CommandContext): Promise<void> {
  const database = await openDatabase(ctx.cfg, ctx.log, 'housing-brain api')
  const metrics = createMetrics()
  outboxMetrics(database.db, metrics.registry)
  const server = new ApiServer({ ...database, metrics }, ctx.cfg, ctx.log)
  // On HTTP_PORT, and on HEALTH_PORT too when it is set.
  await runUnits(ctx, 'api', database, [server], [], metrics.registry)
  ctx.log.info({ port: server.port }, 'API listening')
}

export async function rules(ctx: CommandContext): Promise<void> {
  const database = await openDatabase(ctx.cfg, ctx.log, 'housing-brain rules')
  // Without API_TOKEN the engine, which reads the database anyway, makes its own service token
  // and keeps it in DATA_DIR for the next start.
  const token = ctx.cfg.connect.apiToken ?? (await ensureServiceToken(database.db, ctx.cfg.server.dataDir, 'rules-engine'))
  // The engine reads the feed from the database: it needs no broker (core/feed.ts). Its own
  // figures only: this process stores no readings, so no ingest counters read 0 here.
  const registry = createRegistry()
  const engine = rulesUnit(database.db, ctx.cfg, ctx.log, { apiUrl: ctx.cfg.connect.apiUrl, token, metrics: createRulesMetrics(registry) })
  await runUnits(ctx, 'rules', database, [engine], [() => engine.problem()], registry)
}

export async function migrateCommand(ctx: CommandContext): Promise<void> {
  const { db, features } = await openDatabase(ctx.cfg, ctx.log, 'housing-brain migrate')
  await db.close()
  ctx.log.info({ timescaledb: features.timescale ?? null }, 'database is up to date')
}

export { up } from './up.ts'
export { simulate } from './simulate.ts'
