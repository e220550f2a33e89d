// `housing-brain up`: the whole loop in one process on the embedded database (or DATABASE_URL):
// broker + ingest, API and a simulated demo district. First start provisions the demo and an
// admin token; Ctrl-C stops everything in order and exits 0.
import path from 'node:path'
import { parseArgs } from 'node:util'
import { ensureConsoleBuilt } from '../console/build.ts'
import { UsageError } from '../core/errors.ts'
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/log.ts'
import { createMetrics } from '../core/metrics.ts'
import { firstFreePort } from '../core/ports.ts'
import { ensureAdminToken, ensureDemo, ensureServiceToken } from '../core/provision.ts'
import { Controller } from '../core/units.ts'
import { Fleet, isScenario } from '../simulators/index.ts'
import type { CommandContext } from './main.ts'
import { ApiServer, BrokerWithIngest, databaseUnit, embeddedDir, openDatabase, rulesUnit } from './stack.ts'

/**
 * A defaulted port that is taken moves to the next free one, so the demo starts beside another
 * broker on 1883; a port the user set is never moved (the start fails and says so).
 */
async function demoPorts(cfg: Config, log: Logger): Promise<Config> {
  const moved: Partial<Config> = {}
  for (const key of ['MQTT_PORT', 'HTTP_PORT'] as const) {
    if (cfg.explicit.has(key)) continue
    const port = await firstFreePort(cfg.HOST, cfg[key])
    if (port !== undefined && port !== cfg[key]) {
      log.warn(`${key} ${cfg[key]} is in use; the demo uses ${port} instead (set ${key} to choose)`)
      moved[key] = port
    }
  }
  return { ...cfg, ...moved }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@')
}

export async function up(ctx: CommandContext): Promise<void> {
  const { values } = parseArgs({
    args: ctx.args,
    options: { scenario: { type: 'string', default: 'normal' }, rate: { type: 'string', default: '0.2' } },
  })
  const scenario = values.scenario
  if (!isScenario(scenario)) throw new UsageError(`--scenario: unknown scenario "${scenario}"`)
  const rate = Number(values.rate)
  if (!(rate > 0)) throw new UsageError('--rate: expected messages per second per device, above 0')

  const cfg = await demoPorts(ctx.cfg, ctx.log)
  const log = ctx.log
  // `npm install` builds it; this covers a clone whose install skipped scripts, or edited sources.
  if ((await ensureConsoleBuilt()) === 'no-vite') log.warn('the console is not built and Vite is not installed: install the dev dependencies or copy a build into console/dist')
  const database = await openDatabase(cfg, log, 'housing-brain up')
  const admin = await ensureAdminToken(database.db, cfg.dataDir)
  const demo = await ensureDemo(database.db, cfg.dataDir, log)

  const metrics = createMetrics()
  const broker = new BrokerWithIngest(database.db, cfg, log, metrics)
  // In one process the API's health check also watches the ingest (a stalled writer is unhealthy).
  const api = new ApiServer({ ...database, metrics, probes: [() => broker.ingest.stallReason()], ingest: broker.ingest }, cfg, log)
  const controller = new Controller(log)
  ctx.onShutdown(() => controller.stop())
  await controller.start([databaseUnit(database), broker, api])
  const mqttPort = broker.address?.port ?? cfg.MQTT_PORT
  const rulesToken = await ensureServiceToken(database.db, cfg.dataDir, 'rules-engine')
  await controller.start([
    await rulesUnit(database.db, cfg, log, { mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, apiUrl: `http://127.0.0.1:${api.port ?? cfg.HTTP_PORT}`, token: rulesToken }),
  ])
  const fleet = new Fleet({
    devices: demo.credentials,
    brokerUrl: `mqtt://127.0.0.1:${mqttPort}`,
    rate,
    scenario,
    log,
  })
  await controller.start([fleet])

  const host = cfg.HOST === '0.0.0.0' ? '127.0.0.1' : cfg.HOST
  const http = `http://${host}:${api.port ?? cfg.HTTP_PORT}`
  // Paths under the working directory are shown relative to it, others as they are.
  const rel = (p: string) => (p.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), p) : p)
  const sample = demo.credentials.find((c) => c.kind === 'elevator')?.id ?? demo.credentials[0]?.id ?? ''
  const lines = [
    '',
    'housing-brain is up',
    `  console    ${http}/   (sign in with the admin token below)`,
    `  API        ${http}/api/v1   (OpenAPI docs: ${http}/docs)`,
    `  MQTT       mqtt://${host}:${mqttPort}${broker.address?.wsPort ? `   ws://${host}:${broker.address.wsPort}` : ''}`,
    `  database   ${cfg.DATABASE_URL ? redactUrl(cfg.DATABASE_URL) : `embedded ${cfg.EMBEDDED_DB === 'postgres' ? 'PostgreSQL' : 'PGlite'} in ${rel(embeddedDir(cfg))}`}` +
      (database.features.timescale ? ` (TimescaleDB ${database.features.timescale})` : ''),
    `  simulator  ${demo.credentials.length} devices, scenario "${scenario}", credentials in ${rel(demo.file)}`,
    admin.created
      ? `  admin token (shown once; also in ${rel(admin.file)}):\n    ${admin.token}`
      : `  admin token in ${rel(admin.file)}`,
    '',
    `  curl -H "Authorization: Bearer $(cat ${rel(admin.file)})" ${http}/api/v1/devices/${sample}/latest`,
    '',
    'Ctrl-C stops everything.',
    '',
  ]
  process.stdout.write(lines.join('\n'))
}
