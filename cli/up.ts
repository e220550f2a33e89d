// `housing-brain up`: the whole loop in one process on the embedded database (or DATABASE_URL):
// broker + ingest, API and a simulated demo district. First start provisions the demo and an
// admin token and a one-time admin password (shown on the first start only); Ctrl-C stops
// everything in order and exits 0.
import path from 'node:path'
import { parseArgs } from 'node:util'
import { ensureConsoleBuilt } from '../console/build.ts'
import { UsageError } from '../core/errors.ts'
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/log.ts'
import { createMetrics, createRulesMetrics } from '../core/metrics.ts'
import { firstFreePort } from '../core/ports.ts'
import { allowPlatformIdPushes, ensureAdminPassword, ensureAdminToken, ensureDemo, ensureServiceToken } from '../core/provision.ts'
import { Controller } from '../core/units.ts'
import { Fleet, isScenario } from '../simulators/index.ts'
import type { CommandContext } from './context.ts'
import { ensureDemoHistory } from './demo-history.ts'
import { chirpstackSimulator, provisionLoraDevices } from './simulate.ts'
import { ApiServer, BrokerWithIngest, chirpstackUnit, databaseUnit, embeddedDir, openDatabase, outboxMetrics, rulesUnit } from './stack.ts'

/**
 * A defaulted port that is taken moves to the next free one, so the demo starts beside another
 * broker on 1883; a port the user set is never moved (the start fails and says so).
 */
async function demoPorts(cfg: Config, log: Logger): Promise<Config> {
  const ports = { MQTT_PORT: cfg.broker.port, HTTP_PORT: cfg.api.port }
  for (const key of ['MQTT_PORT', 'HTTP_PORT'] as const) {
    if (cfg.explicit.has(key)) continue
    const port = await firstFreePort(cfg.server.host, ports[key])
    if (port !== undefined && port !== ports[key]) {
      log.warn(`${key} ${ports[key]} is in use; the demo uses ${port} instead (set ${key} to choose)`)
      ports[key] = port
    }
  }
  return { ...cfg, broker: { ...cfg.broker, port: ports.MQTT_PORT }, api: { ...cfg.api, port: ports.HTTP_PORT } }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@')
}

export async function up(ctx: CommandContext): Promise<void> {
  const { values } = parseArgs({
    args: ctx.args,
    options: { scenario: { type: 'string', default: 'normal' }, rate: { type: 'string', default: '0.2' }, 'chirpstack-sim': { type: 'boolean', default: false } },
  })
  const scenario = values.scenario
  if (!isScenario(scenario)) throw new UsageError(`--scenario: unknown scenario "${scenario}"`)
  const rate = Number(values.rate)
  if (!(rate > 0)) throw new UsageError('--rate: expected messages per second per device, above 0')

  if (values['chirpstack-sim'] && ctx.cfg.chirpstack.url === undefined) throw new UsageError('--chirpstack-sim: set CHIRPSTACK_MQTT_URL to the broker the simulated ChirpStack should publish to')

  const cfg = await demoPorts(ctx.cfg, ctx.log)
  const log = ctx.log
  // `npm install` builds it; this covers a clone whose install skipped scripts, or edited sources.
  if ((await ensureConsoleBuilt()) === 'no-vite') log.warn('the console is not built and Vite is not installed: install the dev dependencies or copy a build into console/dist')
  const database = await openDatabase(cfg, log, 'housing-brain up')
  const admin = await ensureAdminToken(database.db, cfg.server.dataDir)
  const adminPassword = await ensureAdminPassword(database.db)
  const demo = await ensureDemo(database.db, cfg.server.dataDir, log)
  // Weeks of handled alerts, ratings and readings on a first start, so the ranking and charts are not empty.
  await ensureDemoHistory(database.db, log)

  // One process, one registry, served on the API's port: every figure of every part.
  const metrics = createMetrics()
  outboxMetrics(database.db, metrics.registry)
  const rulesMetrics = createRulesMetrics(metrics.registry)
  const broker = new BrokerWithIngest(database.db, cfg, log, metrics)
  // In one process the API's health check also watches the ingest (a stalled writer is unhealthy).
  const api = new ApiServer({ ...database, metrics, probes: [() => broker.ingest.stallReason()], ingest: broker.ingest, logins: broker.logins }, cfg, log)
  const controller = new Controller(log)
  ctx.onShutdown(() => controller.stop(), () => controller.pending())
  await controller.start([databaseUnit(database), broker, api])
  // LoRaWAN devices through ChirpStack, into the broker's ingest (README, "ChirpStack v4").
  const chirpstack = chirpstackUnit(database.db, broker.ingest, cfg, log, metrics)
  if (chirpstack) await controller.start([chirpstack])
  // A mixed demo fleet: a few LoRaWAN sensors of the demo community, published as ChirpStack would.
  if (values['chirpstack-sim']) {
    const lora = await provisionLoraDevices(database.db, 6, 'cm-gumei', 'lora-gumei')
    await controller.start([chirpstackSimulator(cfg, log, lora, rate)])
  }
  const mqttPort = broker.address?.port ?? cfg.broker.port
  const rulesToken = await ensureServiceToken(database.db, cfg.server.dataDir, 'rules-engine')
  await controller.start([
    rulesUnit(database.db, cfg, log, { apiUrl: `http://127.0.0.1:${api.port ?? cfg.api.port}`, token: rulesToken, metrics: rulesMetrics }),
  ])
  // A mixed fleet, as a district has: a few fire tanks post through the HTTP device API (a DTU),
  // and through the OneNET / CTWing receivers when their tokens are set; the rest speak MQTT.
  const apiUrl = `http://127.0.0.1:${api.port ?? cfg.api.port}`
  const tanks = demo.credentials.filter((c) => c.kind === 'fire_tank' && !c.gatewayId)
  const httpFleets = [
    { via: 'http' as const, devices: tanks.slice(0, 2) },
    ...(cfg.onenet.pushToken === undefined ? [] : [{ via: 'onenet' as const, devices: tanks.slice(2, 4) }]),
    ...(cfg.ctwing.pushToken === undefined ? [] : [{ via: 'ctwing' as const, devices: tanks.slice(4, 6) }]),
  ].filter((f) => f.devices.length > 0)
  const overHttp = new Set(httpFleets.flatMap((f) => f.devices.map((d) => d.id)))
  // The simulated platforms name the tanks by id (no IMEI), which a device must allow (issue 18).
  await allowPlatformIdPushes(database.db, httpFleets.flatMap((f) => (f.via === 'http' ? [] : f.devices.map((d) => d.id))))
  // A quarter of the broker's bound on concurrent password checks for the demo's first logins:
  // it must not trip its own gate, and real devices and the HTTP fleet keep the rest.
  const maxLoggingIn = Math.max(1, Math.floor(cfg.broker.authMaxConcurrent / 4))
  const fleets = [
    new Fleet({ devices: demo.credentials.filter((c) => !overHttp.has(c.id)), brokerUrl: `mqtt://127.0.0.1:${mqttPort}`, rate, scenario, log, maxLoggingIn }),
    ...httpFleets.map(
      (f) => new Fleet({ devices: f.devices, brokerUrl: '', rate, scenario, log, http: { via: f.via, baseUrl: apiUrl, onenetToken: cfg.onenet.pushToken, ctwingToken: cfg.ctwing.pushToken } }),
    ),
  ]
  await controller.start(fleets)

  const host = cfg.server.host === '0.0.0.0' ? '127.0.0.1' : cfg.server.host
  const http = `http://${host}:${api.port ?? cfg.api.port}`
  // Paths under the working directory are shown relative to it, others as they are.
  const rel = (p: string) => (p.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), p) : p)
  const sample = demo.credentials.find((c) => c.kind === 'elevator')?.id ?? demo.credentials[0]?.id ?? ''
  const lines = [
    '',
    'housing-brain is up',
    `  console    ${http}/   (sign in as admin with the password or the token below)`,
    `  API        ${http}/api/v1   (OpenAPI docs: ${http}/docs)`,
    `  MQTT       mqtt://${host}:${mqttPort}${broker.address?.wsPort ? `   ws://${host}:${broker.address.wsPort}` : ''}`,
    `  database   ${cfg.database.url ? redactUrl(cfg.database.url) : `embedded ${cfg.database.embedded === 'postgres' ? 'PostgreSQL' : 'PGlite'} in ${rel(embeddedDir(cfg))}`}` +
      (database.features.timescale ? ` (TimescaleDB ${database.features.timescale})` : ''),
    ...(cfg.chirpstack.url ? [`  ChirpStack ${redactUrl(cfg.chirpstack.url)}, application ${cfg.chirpstack.applicationId}`] : []),
    `  simulator  ${demo.credentials.length} devices (${httpFleets.map((f) => `${f.devices.length} via ${f.via}`).concat('the rest via MQTT').join(', ')}), scenario "${scenario}", credentials in ${rel(demo.file)}`,
    admin.created
      ? `  admin token (shown once; also in ${rel(admin.file)}):\n    ${admin.token}`
      : `  admin token in ${rel(admin.file)}`,
    ...(adminPassword ? [`  admin password (shown once; to be changed at the first sign-in):\n    ${adminPassword}`] : []),
    '',
    `  curl -H "Authorization: Bearer $(cat ${rel(admin.file)})" ${http}/api/v1/devices/${sample}/latest`,
    '',
    'Ctrl-C stops everything.',
    '',
  ]
  process.stdout.write(lines.join('\n'))
}
