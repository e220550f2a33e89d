// The ingest benchmark: the broker with its embedded ingest in this process, load generators in
// child processes, a scratch database; end-to-end committed readings/s and PUBACK latency for
// single devices and for gateway batches, then the COPY and insertReadings ceilings on the same
// database for the rows the gateway run committed.
import os from 'node:os'
import { BrokerWithIngest } from '../cli/stack.ts'
import type { CommandContext } from '../cli/main.ts'
import { loadConfig } from '../core/config.ts'
import { createMetrics } from '../core/metrics.ts'
import { MAX_CEILING_ROWS, copyCeiling, statementCeiling } from './ceilings.ts'
import { Cleanup } from './cleanup.ts'
import { backgroundCpuPct } from './cpu.ts'
import { openBenchDatabase } from './database.ts'
import { samplePgCpu } from './pgcpu.ts'
import { provisionFleet, type FleetSize } from './fleet.ts'
import { GATEWAY_READINGS } from './payloads.ts'
import type { ScenarioName } from './protocol.ts'
import type { IngestBenchReport } from './report.ts'
import { runScenario, type ScenarioResult } from './scenario.ts'
import { scaleOutScenarios } from './ingest-cluster.ts'

export interface IngestBenchOptions extends FleetSize {
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
    INGEST_BATCH_MAX_ROWS: String(ctx.cfg.INGEST_BATCH_MAX_ROWS),
    INGEST_BATCH_MAX_WAIT_MS: String(ctx.cfg.INGEST_BATCH_MAX_WAIT_MS),
    INGEST_QUEUE_MAX_ROWS: String(ctx.cfg.INGEST_QUEUE_MAX_ROWS),
    INGEST_MAX_IN_FLIGHT: String(ctx.cfg.INGEST_MAX_IN_FLIGHT),
    INGEST_MAX_FUTURE_SKEW_S: String(ctx.cfg.INGEST_MAX_FUTURE_SKEW_S),
  })
}

export async function ingestBench(ctx: CommandContext, opts: IngestBenchOptions): Promise<IngestBenchReport> {
  // Warnings and errors only: info lines (migrations, connections) would drown the report.
  const log = ctx.log.child({ module: 'bench' }, { level: 'warn' })
  const cleanup = new Cleanup()
  const untrap = cleanup.trapSignals()
  // Generous: provisioning and connecting scale with the fleet; each load run is capped on its own.
  const perScenarioS = opts.warmupSeconds + opts.seconds + 60
  const cancelDeadline = cleanup.deadline((600 + opts.scenarios.length * perScenarioS) * 1000)
  const notes: string[] = []
  try {
    const database = await openBenchDatabase(ctx.cfg.DATABASE_URL, log)
    cleanup.add('database', () => database.close())
    progress(`database: ${database.engine}, ${database.where}`)
    if (database.db.engine === 'pglite') {
      const line =
        'DATABASE_URL is unset, so this runs on the embedded PGlite (WASM, single-threaded, in this process): ' +
        'its figures are NOT comparable with a PostgreSQL server. Set DATABASE_URL for real figures.'
      progress(line)
      notes.push(line)
    }

    // The broker's own settings: a free port on loopback only, ingest tuning from the environment.
    const cfg = benchBrokerConfig(ctx)
    const metrics = createMetrics({ defaults: false })

    const runs = opts.scenarios
    progress(`provisioning ${runs.includes('devices') ? opts.devices : 0} devices and ${runs.includes('gateways') ? opts.gateways : 0} gateways × ${opts.children} children (scrypt hashing takes a while)`)
    const fleet = await provisionFleet(database.db, {
      devices: runs.includes('devices') ? opts.devices : 0,
      gateways: runs.includes('gateways') ? opts.gateways : 0,
      children: opts.children,
    })

    const unit = new BrokerWithIngest(database.db, cfg, log, metrics)
    let brokerStopped: Promise<void> | undefined
    const stopBroker = () => (brokerStopped ??= unit.stop())
    cleanup.add('broker', stopBroker)
    await unit.start()
    const port = unit.address?.port
    if (port === undefined) throw new Error('bench: the broker did not report its port')
    const url = `mqtt://127.0.0.1:${port}`

    const timing = {
      warmupMs: opts.warmupSeconds * 1000,
      measureMs: opts.seconds * 1000,
      connectTimeoutMs: 180_000,
      // The hard cap: generators still running 30 s after the measured interval are killed.
      graceMs: 30_000,
    }
    // Other work on the machine takes CPU from the broker and the database alike: measure it
    // while the bench is idle and say so, rather than publish figures that silently undersell.
    const background = await backgroundCpuPct()
    if (background > 20) {
      notes.push(`other processes used ${Math.round(background)} % of a core just before the run; figures are lower than on an idle machine`)
    }
    const scenarios: ScenarioResult[] = []
    for (const name of runs) {
      const clients = name === 'devices' ? fleet.devices : fleet.gateways
      const inflight = name === 'devices' ? opts.deviceInflight : opts.gatewayInflight
      progress(`${name}: ${clients.length} clients, ${opts.generators} generators, in-flight ${inflight}/client, ${opts.warmupSeconds} s warm-up + ${opts.seconds} s measured`)
      const result = await runScenario(unit, metrics, {
        name,
        url,
        clients,
        generators: opts.generators,
        inflight,
        timing,
        sampleDbCpu: () => samplePgCpu(database.db, database.local),
      })
      progress(`${name}: ${Math.round(result.readingsPerS).toLocaleString('en-US')} readings/s committed, p99 ${result.p99Ms.toFixed(1)} ms`)
      scenarios.push(result)
    }
    // The ceilings run with the broker gone, so they have the machine to themselves.
    await stopBroker()
    if (opts.cluster) scenarios.push(...(await scaleOutScenarios({ database, fleet, runs, opts, timing, cfg: { ...cfg, REDIS_URL: ctx.cfg.REDIS_URL }, notes, progress, cleanup })))

    let copy: IngestBenchReport['copy']
    let statement: IngestBenchReport['statement']
    if (opts.ceilings) {
      const gatewayRows = scenarios.find((s) => s.name === 'gateways')?.committed ?? 0
      const rows = Math.min(MAX_CEILING_ROWS, Math.max(gatewayRows, MIN_CEILING_ROWS))
      if (rows !== gatewayRows) notes.push(`ceilings wrote ${rows.toLocaleString('en-US')} rows (the gateway run committed ${gatewayRows.toLocaleString('en-US')}; bounds ${MIN_CEILING_ROWS.toLocaleString('en-US')}–${MAX_CEILING_ROWS.toLocaleString('en-US')})`)
      progress(`COPY ceiling: ${rows.toLocaleString('en-US')} rows`)
      copy = await copyCeiling(database, rows)
      const batchRows = cfg.INGEST_BATCH_MAX_ROWS
      progress(`insertReadings ceiling: ${rows.toLocaleString('en-US')} rows in ${batchRows}-row transactions`)
      statement = { ...(await statementCeiling(database, rows, batchRows)), batchRows }
    }

    return {
      settings: {
        database: `${database.engine}; ${database.where}`,
        'server settings': Object.entries(database.settings).map(([k, v]) => `${k}=${v}`).join(', '),
        machine: `${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; background load before the run ${Math.round(background)} % of a core`,
        devices: `${opts.devices} single devices, 1 entry of 4–6 metrics per message (5 on average), in-flight ${opts.deviceInflight}/client`,
        gateways: `${opts.gateways} gateways × ${opts.children} children, ${GATEWAY_READINGS} readings per message, in-flight ${opts.gatewayInflight}/client`,
        run: `${opts.warmupSeconds} s warm-up + ${opts.seconds} s measured per scenario, ${opts.generators} load-generator processes, QoS 1`,
        ingest: `INGEST_BATCH_MAX_ROWS=${cfg.INGEST_BATCH_MAX_ROWS}, INGEST_BATCH_MAX_WAIT_MS=${cfg.INGEST_BATCH_MAX_WAIT_MS}, INGEST_QUEUE_MAX_ROWS=${cfg.INGEST_QUEUE_MAX_ROWS}, INGEST_MAX_IN_FLIGHT=${cfg.INGEST_MAX_IN_FLIGHT}`,
      },
      scenarios,
      copy,
      statement,
      notes,
    }
  } finally {
    progress('cleaning up')
    await cleanup.run()
    cancelDeadline()
    untrap()
  }
}
