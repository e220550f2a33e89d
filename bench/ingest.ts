// The ingest benchmark: the broker with its embedded ingest and the API in this process, as `up`
// runs them, load generators in child processes, a scratch database; end-to-end committed
// readings/s, PUBACK latency and GET /health latency for single devices and for gateway batches,
// then the COPY and insertReadings ceilings on the same database for the rows the gateway run
// committed. The same run on each database compared (issue 11): the embedded PostgreSQL of `up`,
// PGlite in a worker thread and in-process, and DATABASE_URL's server.
import os from 'node:os'
import { randomBytes } from 'node:crypto'
import { ApiServer, BrokerWithIngest } from '../cli/stack.ts'
import type { CommandContext } from '../cli/context.ts'
import { loadConfig } from '../core/config.ts'
import { createMetrics } from '../core/metrics.ts'
import { MAX_CEILING_ROWS, copyCeiling, statementCeiling } from './ceilings.ts'
import { Cleanup } from './cleanup.ts'
import { backgroundCpuPct } from './cpu.ts'
import { openBenchDatabase, type BenchDatabase, type DatabaseKind } from './database.ts'
import { samplePgCpu } from './pgcpu.ts'
import { resetPeakRss } from './rss.ts'
import { provisionFleet, type FleetSize } from './fleet.ts'
import { GATEWAY_READINGS } from './payloads.ts'
import type { ScenarioName } from './protocol.ts'
import type { DatabaseRun, IngestBenchReport } from './report.ts'
import { runScenario, type ScenarioResult } from './scenario.ts'
import { scaleOutScenarios } from './ingest-cluster.ts'

export interface IngestBenchOptions extends FleetSize {
  databases: DatabaseKind[]
  scenarios: ScenarioName[]
  seconds: number
  warmupSeconds: number
  generators: number
  deviceInflight: number
  gatewayInflight: number
  ceilings: boolean
  /** The scale-out scenarios too (two brokers on Redis; RabbitMQ with two AMQP workers). */
  cluster: boolean
}

/** Progress goes to stderr, so that stdout carries only the report (or the JSON with --json). */
const progress = (line: string) => console.error(`bench: ${line}`)

/** Rows for the ceilings when no gateway run happened (or it committed too few to time well). */
const MIN_CEILING_ROWS = 100_000

/** The benched broker's settings: a free port on loopback only, ingest tuning from the environment. */
export function benchBrokerConfig(ctx: CommandContext): ReturnType<typeof loadConfig> {
  return loadConfig({
    HOST: '127.0.0.1',
    MQTT_PORT: '0',
    HTTP_PORT: '0',
    RATE_LIMIT_PER_MINUTE: '0',
    NOTIFY_SECRET_KEY: randomBytes(32).toString('base64'),
    INGEST_BATCH_MAX_ROWS: String(ctx.cfg.ingest.batchMaxRows),
    INGEST_BATCH_MAX_WAIT_MS: String(ctx.cfg.ingest.batchMaxWaitMs),
    INGEST_QUEUE_MAX_ROWS: String(ctx.cfg.ingest.queueMaxRows),
    INGEST_MAX_IN_FLIGHT: String(ctx.cfg.ingest.maxInFlight),
    INGEST_MAX_FUTURE_SKEW_S: String(ctx.cfg.ingest.maxFutureSkewMs),
  })
}

export async function ingestBench(ctx: CommandContext, opts: IngestBenchOptions): Promise<IngestBenchReport> {
  // Warnings and errors only: info lines (migrations, connections) would drown the report.
  const log = ctx.log.child({ module: 'bench' }, { level: 'warn' })
  const notes: string[] = []
  // Other work on the machine takes CPU from the broker and the database alike: measure it
  // while the bench is idle and say so, rather than publish figures that silently undersell.
  const background = await backgroundCpuPct()
  if (background > 20) {
    notes.push(`other processes used ${Math.round(background)} % of a core just before the run; figures are lower than on an idle machine`)
  }
  const runs: DatabaseRun[] = []
  for (const kind of opts.databases) {
    progress(`=== database: ${kind}`)
    runs.push(await onDatabase(ctx, opts, kind, log, notes))
  }
  return {
    settings: {
      machine: `${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; background load before the run ${Math.round(background)} % of a core`,
      devices: `${opts.devices} single devices, 1 entry of 4–6 metrics per message (5 on average), in-flight ${opts.deviceInflight}/client`,
      gateways: `${opts.gateways} gateways × ${opts.children} children, ${GATEWAY_READINGS} readings per message, in-flight ${opts.gatewayInflight}/client`,
      run: `${opts.warmupSeconds} s warm-up + ${opts.seconds} s measured per scenario, ${opts.generators} load-generator processes, QoS 1; GET /health every 20 ms from a worker thread`,
      ingest: `INGEST_BATCH_MAX_ROWS=${ctx.cfg.ingest.batchMaxRows}, INGEST_BATCH_MAX_WAIT_MS=${ctx.cfg.ingest.batchMaxWaitMs}, INGEST_QUEUE_MAX_ROWS=${ctx.cfg.ingest.queueMaxRows}`,
    },
    runs,
    notes,
  }
}

/** Every scenario and the ceilings on one database, which is dropped afterwards. */
async function onDatabase(ctx: CommandContext, opts: IngestBenchOptions, kind: DatabaseKind, log: CommandContext['log'], notes: string[]): Promise<DatabaseRun> {
  const cleanup = new Cleanup()
  const untrap = cleanup.trapSignals()
  // Generous: provisioning and connecting scale with the fleet; each load run is capped on its own.
  const perScenarioS = opts.warmupSeconds + opts.seconds + 60
  const cancelDeadline = cleanup.deadline((600 + opts.scenarios.length * perScenarioS) * 1000)
  try {
    resetPeakRss()
    const database = await openBenchDatabase(kind, ctx.cfg.database.url, log)
    cleanup.add('database', () => database.close())
    progress(`database: ${database.engine}, ${database.where}`)

    // The broker's and the API's own settings: free ports on loopback only, ingest tuning from the environment.
    const cfg = benchBrokerConfig(ctx)
    const metrics = createMetrics({ defaults: false })

    const scenarios = opts.scenarios
    progress(`provisioning ${scenarios.includes('devices') ? opts.devices : 0} devices and ${scenarios.includes('gateways') ? opts.gateways : 0} gateways × ${opts.children} children (scrypt hashing takes a while)`)
    const fleet = await provisionFleet(database.db, {
      devices: scenarios.includes('devices') ? opts.devices : 0,
      gateways: scenarios.includes('gateways') ? opts.gateways : 0,
      children: opts.children,
    })

    // As `up` runs them: the API on the broker's event loop, feeding the broker's ingest.
    const unit = new BrokerWithIngest(database.db, cfg, log, metrics)
    const api = new ApiServer({ db: database.db, features: database.features, metrics, probes: [() => unit.ingest.stallReason()], ingest: unit.ingest, logins: unit.logins }, cfg, log)
    let stopped: Promise<void> | undefined
    const stopServices = () => (stopped ??= (async () => {
      await api.stop()
      await unit.stop()
    })())
    cleanup.add('broker and API', stopServices)
    await unit.start()
    await api.start()
    const port = unit.address?.port
    if (port === undefined || api.port === undefined) throw new Error('bench: the broker or the API did not report its port')
    const url = `mqtt://127.0.0.1:${port}`

    const timing = {
      warmupMs: opts.warmupSeconds * 1000,
      measureMs: opts.seconds * 1000,
      connectTimeoutMs: 180_000,
      // The hard cap: generators still running 30 s after the measured interval are killed.
      graceMs: 30_000,
    }
    const results: ScenarioResult[] = []
    for (const name of scenarios) {
      const clients = name === 'devices' ? fleet.devices : fleet.gateways
      const inflight = name === 'devices' ? opts.deviceInflight : opts.gatewayInflight
      progress(`${kind} ${name}: ${clients.length} clients, ${opts.generators} generators, in-flight ${inflight}/client, ${opts.warmupSeconds} s warm-up + ${opts.seconds} s measured`)
      const result = await runScenario(unit, metrics, {
        name,
        url,
        clients,
        generators: opts.generators,
        inflight,
        timing,
        sampleDbCpu: () => samplePgCpu(database.db, database.local),
        healthUrl: `http://127.0.0.1:${api.port}/health`,
      })
      progress(`${kind} ${name}: ${Math.round(result.readingsPerS).toLocaleString('en-US')} readings/s committed, p99 ${result.p99Ms.toFixed(1)} ms, GET /health p99 ${result.health?.p99Ms.toFixed(1) ?? '–'} ms`)
      results.push(result)
    }
    // The ceilings run with the broker and the API gone, so they have the machine to themselves.
    await stopServices()
    if (opts.cluster && kind === 'postgres') results.push(...(await scaleOutScenarios({ database, fleet, runs: scenarios, opts, timing, cfg: { ...cfg, broker: { ...cfg.broker, redisUrl: ctx.cfg.broker.redisUrl } }, notes, progress, cleanup })))
    const ceilings = opts.ceilings ? await runCeilings(database, results, cfg.ingest.batchMaxRows, notes) : {}
    return {
      database: kind,
      engine: database.engine,
      where: database.where,
      serverSettings: Object.entries(database.settings).map(([k, v]) => `${k}=${v}`).join(', '),
      scenarios: results,
      ...ceilings,
    }
  } finally {
    progress('cleaning up')
    await cleanup.run()
    cancelDeadline()
    untrap()
  }
}

async function runCeilings(database: BenchDatabase, results: ScenarioResult[], batchRows: number, notes: string[]): Promise<Pick<DatabaseRun, 'copy' | 'statement'>> {
  const gatewayRows = results.find((s) => s.name === 'gateways')?.committed ?? 0
  const rows = Math.min(MAX_CEILING_ROWS, Math.max(gatewayRows, MIN_CEILING_ROWS))
  if (rows !== gatewayRows) notes.push(`${database.kind}: ceilings wrote ${rows.toLocaleString('en-US')} rows (the gateway run committed ${gatewayRows.toLocaleString('en-US')}; bounds ${MIN_CEILING_ROWS.toLocaleString('en-US')}–${MAX_CEILING_ROWS.toLocaleString('en-US')})`)
  progress(`COPY ceiling: ${rows.toLocaleString('en-US')} rows`)
  const copy = await copyCeiling(database, rows)
  progress(`insertReadings ceiling: ${rows.toLocaleString('en-US')} rows in ${batchRows}-row transactions`)
  const statement = { ...(await statementCeiling(database, rows, batchRows)), batchRows }
  return { copy, statement }
}
