// `npm run bench -- integrations`: every way telemetry gets in, measured in one run on one
// database — committed readings per second and p99 from push to acknowledgement — so the paths
// can be compared: MQTT (PUBACK after commit, the ingest bench's load generators), the HTTP device
// API, the OneNET and CTWing receivers (200 after commit; bench/http-loadgen.ts in a child process,
// many concurrent keep-alive clients), and the ChirpStack unit (bench/chirpstack.ts, through
// Mosquitto). The ceiling printed with them, measured in the same run, is the pipeline's own: `submit` called in-process with no transport at all, so the distance from it is what each
// transport costs. Scratch database on DATABASE_URL's server, or the embedded PGlite without it.
import { spawn } from 'node:child_process'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { AlertService, DEFAULT_DEADLINES } from '../alerts/service.ts'
import { buildApp } from '../api/app.ts'
import type { CommandContext } from '../cli/context.ts'
import { BrokerWithIngest } from '../cli/stack.ts'
import { DecoderSandbox } from '../core/decoders/sandbox.ts'
import { createMetrics } from '../core/metrics.ts'
import { receiverCaches } from '../intake/receiver.ts'
import type { DeviceKind } from '../core/contract.ts'
import type { TelemetrySink } from '../intake/telemetry-sink.ts'
import type { HttpVia } from '../simulators/http.ts'
import { Cleanup } from './cleanup.ts'
import { openBenchDatabase } from './database.ts'
import { benchChirpstack, type BenchFigure } from './chirpstack.ts'
import { allowPlatformIdPushes } from '../core/provision.ts'
import { childModuleArgs } from '../core/package-root.ts'
import { provisionFleet } from './fleet.ts'
import { benchBrokerConfig } from './ingest.ts'
import { LatencyHistogram } from './histogram.ts'
import type { HttpLoadConfig, HttpLoadResult } from './http-loadgen.ts'
import { DeviceClock, EntryBuilder, shapeOf } from './payloads.ts'
import { ms, int, table } from './report.ts'
import { runScenario } from './scenario.ts'

/** One line of the comparison (bench/chirpstack.ts measures the ChirpStack unit's). */
export type { BenchFigure }


export interface IntegrationsOptions {
  devices: number
  seconds: number
  warmupSeconds: number
  /** Concurrent HTTP clients (one request outstanding each). */
  concurrency: number
  /** MQTT load-generator processes. */
  generators: number
  json: boolean
}

export function parseIntegrationsOptions(args: string[]): IntegrationsOptions {
  const { values } = parseArgs({
    args,
    options: { devices: { type: 'string' }, seconds: { type: 'string' }, warmup: { type: 'string' }, concurrency: { type: 'string' }, generators: { type: 'string' }, json: { type: 'boolean' } },
  })
  const int = (name: string, raw: string | undefined, fallback: number, min = 1) => {
    const n = raw === undefined ? fallback : Number(raw)
    if (!Number.isInteger(n) || n < min) throw new Error(`bench integrations: --${name} expects an integer ≥ ${min} (got "${raw}")`)
    return n
  }
  return {
    devices: int('devices', values.devices, 300),
    seconds: int('seconds', values.seconds, 10),
    warmupSeconds: int('warmup', values.warmup, 3, 0),
    concurrency: int('concurrency', values.concurrency, 256),
    generators: int('generators', values.generators, 2),
    json: values.json === true,
  }
}

const progress = (line: string) => console.error(`bench: ${line}`)
const ONENET_TOKEN = 'bench-onenet-token'
const CTWING_TOKEN = 'bench-ctwing-token'
const HTTP_PATHS: { via: HttpVia; path: string }[] = [
  { via: 'http', path: 'HTTP device API (POST → 200)' },
  { via: 'onenet', path: 'OneNET push receiver (POST → 200)' },
  { via: 'ctwing', path: 'CTWing push receiver (POST → 200)' },
]
const LOADGEN = childModuleArgs(import.meta.url, 'http-loadgen')

/** Runs one HTTP load-generator process to the end of its window; bounded by a hard cap. */
function runHttpLoad(cfg: HttpLoadConfig): Promise<HttpLoadResult> {
  const child = spawn(process.execPath, LOADGEN, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  return new Promise<HttpLoadResult>((resolve, reject) => {
    const cap = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error('the HTTP load generator did not finish within 180 s of its run'))
    }, cfg.warmupMs + cfg.measureMs + 180_000)
    child.once('message', (m: { type: 'result'; result: HttpLoadResult } | { type: 'failed'; message: string }) => {
      clearTimeout(cap)
      if (m.type === 'result') resolve(m.result)
      else reject(new Error(`HTTP load generator failed: ${m.message}`))
    })
    child.once('exit', (code) => {
      clearTimeout(cap)
      reject(new Error(`the HTTP load generator exited (${code ?? '?'}) without a result`))
    })
    child.send(cfg)
  })
}

export async function integrationsBench(ctx: CommandContext, opts: IntegrationsOptions): Promise<{ settings: Record<string, string>; figures: BenchFigure[]; ceiling: BenchFigure; notes: string[] }> {
  const log = ctx.log.child({ module: 'bench' }, { level: 'warn' })
  const cleanup = new Cleanup()
  const untrap = cleanup.trapSignals()
  const cancelDeadline = cleanup.deadline((600 + 6 * (opts.warmupSeconds + opts.seconds + 60)) * 1000)
  const notes: string[] = []
  try {
    const database = await openBenchDatabase(ctx.cfg.database.url ? 'postgres' : 'embedded', ctx.cfg.database.url, log)
    cleanup.add('database', () => database.close())
    progress(`database: ${database.engine}, ${database.where}`)
    if (database.db.engine === 'pglite') notes.push('DATABASE_URL is unset: the embedded PGlite (WASM, single-threaded, in this process) — not comparable with a PostgreSQL server')
    const cfg = benchBrokerConfig(ctx)
    const metrics = createMetrics({ defaults: false })
    progress(`provisioning ${opts.devices} devices (scrypt hashing takes a while)`)
    const fleet = await provisionFleet(database.db, { devices: opts.devices, gateways: 0, children: 0 })
    // The OneNET and CTWing loads name devices by id (no IMEI), which each device must allow.
    await allowPlatformIdPushes(database.db, fleet.devices.map((d) => d.id))

    // `up`'s arrangement: the broker with its ingest, and the API feeding the same ingest.
    const unit = new BrokerWithIngest(database.db, cfg, log, metrics)
    let brokerStopped: Promise<void> | undefined
    const stopBroker = () => (brokerStopped ??= unit.stop())
    cleanup.add('broker', stopBroker)
    await unit.start()
    const sandbox = new DecoderSandbox()
    await sandbox.start()
    cleanup.add('sandbox', () => sandbox.stop())
    const intake = { db: database.db, sink: unit.ingest.pipeline, sandbox, ...receiverCaches() }
    const app = await buildApp({ db: database.db, features: database.features, metrics, alerts: new AlertService(database.db, DEFAULT_DEADLINES, log), intake }, log, {
      onenetPushToken: ONENET_TOKEN,
      ctwingPushToken: CTWING_TOKEN,
      deviceLogins: { maxConcurrent: cfg.broker.authMaxConcurrent, maxConcurrentPerAddress: cfg.broker.authMaxConcurrentPerAddress, shared: unit.logins },
    })
    let apiClosed: Promise<void> | undefined
    const closeApi = () => (apiClosed ??= app.close())
    cleanup.add('api', closeApi)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const addr = app.server.address()
    const baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`

    const figures: BenchFigure[] = []
    const mqttUrl = `mqtt://127.0.0.1:${unit.address?.port ?? 0}`
    progress(`MQTT: ${fleet.devices.length} clients, in-flight 4/client, ${opts.warmupSeconds} s warm-up + ${opts.seconds} s measured`)
    const mqtt = await runScenario(unit, metrics, {
      name: 'devices',
      url: mqttUrl,
      clients: fleet.devices,
      generators: opts.generators,
      inflight: 4,
      timing: { warmupMs: opts.warmupSeconds * 1000, measureMs: opts.seconds * 1000, connectTimeoutMs: 180_000, graceMs: 30_000 },
      sampleDbCpu: () => Promise.resolve(undefined),
    })
    figures.push({ path: 'MQTT, broker-embedded ingest (PUBLISH → PUBACK)', readingsPerSec: mqtt.readingsPerS, p99Ms: mqtt.p99Ms, note: `${fleet.devices.length} clients × 4 in flight` })

    for (const { via, path } of HTTP_PATHS) {
      progress(`${path}: ${opts.concurrency} concurrent clients over ${fleet.devices.length} devices`)
      const r = await runHttpLoad({
        target: { via, baseUrl, onenetToken: ONENET_TOKEN, ctwingToken: CTWING_TOKEN },
        clients: fleet.devices,
        concurrency: opts.concurrency,
        warmupMs: opts.warmupSeconds * 1000,
        measureMs: opts.seconds * 1000,
      })
      const latency = new LatencyHistogram()
      latency.merge(r.latency)
      const note = `${opts.concurrency} clients; first push of every device ${int(r.firstPassMs)} ms${r.errors > 0 ? `; ${r.errors} errors (first: ${r.firstError ?? '?'})` : ''}`
      figures.push({ path, readingsPerSec: r.readings / opts.seconds, p99Ms: latency.quantile(0.99), note })
      progress(`${path}: ${int(r.readings / opts.seconds)} readings/s, p99 ${ms(latency.quantile(0.99))} ms`)
    }

    progress('ceiling: pipeline submit in-process, no transport')
    const ceiling = await submitCeiling(intake.sink, fleet.devices, opts)
    // Requests first (each answered after its commit), then the ingest they fed.
    await closeApi()
    await stopBroker()

    // The ChirpStack unit runs after this bench's own stack has stopped, on its own scratch database.
    progress('ChirpStack unit')
    figures.push(await benchChirpstack({ databaseUrl: ctx.cfg.database.url, seconds: opts.seconds, devices: opts.devices }))
    return {
      settings: {
        database: `${database.engine}; ${database.where}`,
        machine: `${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'}), node ${process.version}`,
        ingest: `INGEST_BATCH_MAX_ROWS=${cfg.ingest.batchMaxRows}, INGEST_BATCH_MAX_WAIT_MS=${cfg.ingest.batchMaxWaitMs}`,
        run: `${opts.devices} devices, one entry of 4–6 metrics per push (5 on average), ${opts.warmupSeconds} s warm-up + ${opts.seconds} s measured per path; server and ingest in this process, load in child processes`,
      },
      figures,
      ceiling,
      notes,
    }
  } finally {
    progress('cleaning up')
    await cleanup.run()
    cancelDeadline()
    untrap()
  }
}

/** The pipeline alone: `concurrency` callers of submit, each waiting for its commit, as the HTTP clients do. */
async function submitCeiling(sink: TelemetrySink, devices: readonly { id: string; kind: DeviceKind }[], opts: IntegrationsOptions): Promise<BenchFigure> {
  const state = devices.map((d) => ({ id: d.id, entry: new EntryBuilder(shapeOf(d.kind)), clock: new DeviceClock() }))
  const latency = new LatencyHistogram()
  const measureFrom = Date.now() + opts.warmupSeconds * 1000
  const measureUntil = measureFrom + opts.seconds * 1000
  let readings = 0
  const worker = async (k: number) => {
    for (let i = k; Date.now() < measureUntil; i += opts.concurrency) {
      const d = state[i % state.length]
      if (!d) return
      const measured = Date.now() >= measureFrom
      const started = performance.now()
      const r = await sink.submit({ deviceId: d.id, source: 'bench', body: { kind: 'entries', json: JSON.parse(d.entry.json(d.clock.next())) as unknown } })
      if (measured) {
        readings += r.stored
        latency.record(performance.now() - started)
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, (_, k) => worker(k)))
  return { path: 'ceiling: pipeline submit, no transport (in-process)', readingsPerSec: readings / opts.seconds, p99Ms: latency.quantile(0.99), note: `${opts.concurrency} callers` }
}

export function formatIntegrations(r: Awaited<ReturnType<typeof integrationsBench>>): string {
  const rows = [...r.figures, r.ceiling].map((f) => [f.path, int(f.readingsPerSec), ms(f.p99Ms), f.note ?? ''])
  const settings = Object.entries(r.settings).map(([k, v]) => `${k}: ${v}`)
  return [...settings, '', table(['path', 'readings/s', 'p99 ms', 'note'], rows), ...r.notes.map((n) => `note: ${n}`)].join('\n')
}

export async function runIntegrations(ctx: CommandContext, args: string[]): Promise<void> {
  const opts = parseIntegrationsOptions(args)
  const report = await integrationsBench(ctx, opts)
  const text = formatIntegrations(report)
  if (opts.json) {
    console.error(text)
    console.log(JSON.stringify(report, null, 2))
  } else {
    console.log(text)
  }
}
