// The ingest benchmark's scale-out scenarios (issue 11), run in the same `bench ingest` as the
// single broker process and the COPY ceiling, on the same scratch database and fleet:
//
// - "2 brokers (Redis)": two `housing-brain broker` processes sharing Redis (sessions, retained
//   messages, routing), the fleet dealt out over both (load generator i → broker i mod 2). PUBACK
//   is still sent after commit, by whichever broker the device is on.
// - "RabbitMQ + 2 workers": devices on RabbitMQ's MQTT plugin (logins checked by a `housing-brain
//   api` process through RabbitMQ's HTTP auth backend), telemetry in a quorum queue, two
//   `housing-brain ingest --from amqp://…` workers acknowledging after commit. Here the PUBACK
//   comes from RabbitMQ once the queue has the message, not after the commit: p99 is RabbitMQ's.
//
// Every component is a real child process, so throughput is what the database *committed*
// (readings counted in the table at both ends of the measured interval), and "CPU broker" is
// the CPU of those processes (and of RabbitMQ's beam.smp) read from /proc.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import amqp from 'amqplib'
import type { Config } from '../core/config.ts'
import { isReachable } from '../core/net.ts'
import { rabbitTopology } from '../ingest/rabbitmq-setup.ts'
import { CLI_ENTRY } from '../core/package-root.ts'
import type { BenchDatabase } from './database.ts'
import { machineBusyMs } from './cpu.ts'
import type { Fleet } from './fleet.ts'
import { split } from './fleet.ts'
import { runGenerators, type RunTiming } from './generators.ts'
import { pgCpuMsBetween, samplePgCpu, type PgCpuSample } from './pgcpu.ts'
import type { LoadClient, LoadgenResult, ScenarioName } from './protocol.ts'
import { generatorTotals, type ScenarioResult } from './scenario.ts'

const run = promisify(execFile)
const BIN = CLI_ENTRY
const TICK_MS = 10 // USER_HZ of /proc/<pid>/stat

export interface ClusterBenchSettings {
  database: BenchDatabase & { url: string }
  fleet: Fleet
  runs: ScenarioName[]
  generators: number
  inflight: Record<ScenarioName, number>
  timing: RunTiming
  /** The ingest tuning of the single-process run, passed on to every child process. */
  cfg: Pick<Config, 'ingest'>
  redisUrl: string
  amqpUrl: string
  /** RabbitMQ's management API: `housing-brain rabbitmq setup` declares the bench's queues through it. */
  rabbitManagementUrl: string
  rabbitMqtt: { host: string; port: number }
  progress: (line: string) => void
  notes: string[]
  /** Registers a shutdown step that also runs on Ctrl-C or a failure. */
  onCleanup: (name: string, fn: () => Promise<void>) => void
}

interface Proc {
  child: ChildProcess
  stop(): Promise<void>
}

const reachable = (host: string, port: number) => isReachable(host, port)

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address()
      server.close(() => resolve(typeof addr === 'object' && addr !== null ? addr.port : 0))
    })
  })
}

/** Starts `housing-brain {args}`; its output is kept (bounded) and shown if it dies early. */
function start(s: ClusterBenchSettings, args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: s.database.url,
      INGEST_BATCH_MAX_ROWS: String(s.cfg.ingest.batchMaxRows),
      INGEST_BATCH_MAX_WAIT: `${s.cfg.ingest.batchMaxWaitMs}ms`,
      INGEST_QUEUE_MAX_ROWS: String(s.cfg.ingest.queueMaxRows),
      INGEST_MAX_FUTURE_SKEW: `${s.cfg.ingest.maxFutureSkewMs}ms`,
      INGEST_MAX_IN_FLIGHT: String(s.cfg.ingest.maxInFlight),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) s.progress(`housing-brain ${args[0] ?? ''} exited with ${code}: ${err}`)
  })
  const proc: Proc = {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    },
  }
  s.onCleanup(`housing-brain ${args[0] ?? ''} (pid ${child.pid ?? '?'})`, () => proc.stop())
  return proc
}

async function procCpuMs(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return 0
  }
}

async function peakRssKiBOf(pid: number): Promise<number> {
  try {
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** RabbitMQ's Erlang VM on this machine, when visible (its CPU belongs to the broker tier). */
async function beamPids(): Promise<number[]> {
  const out: number[] = []
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')
    if (comm.startsWith('beam')) out.push(Number(entry))
  }
  return out
}

interface Snapshot {
  at: number
  rows: number
  tierCpuMs: number
  machineBusyMs: number
  pg: PgCpuSample | undefined
}

async function snapshot(s: ClusterBenchSettings, pids: number[]): Promise<Snapshot> {
  const [pg, counted, cpu] = await Promise.all([
    samplePgCpu(s.database.db, s.database.local),
    s.database.db.query<{ n: string }>('SELECT count(*) AS n FROM readings'),
    Promise.all(pids.map(procCpuMs)),
  ])
  return { at: performance.now(), rows: Number(counted[0]?.n ?? 0), tierCpuMs: cpu.reduce((a, b) => a + b, 0), machineBusyMs: machineBusyMs(), pg }
}

/** One load run against `urls` (generator i → urls[i mod n]), measured at the database. */
async function measure(s: ClusterBenchSettings, name: ScenarioName, label: string, urls: string[], tierPids: number[]): Promise<ScenarioResult> {
  const clients: LoadClient[] = name === 'devices' ? s.fleet.devices : s.fleet.gateways
  const parts = split(clients, Math.max(s.generators, urls.length))
  const configs = parts.map((part, i) => ({
    url: urls[i % urls.length] ?? '',
    scenario: name,
    clients: part,
    inflight: s.inflight[name],
    drainMs: Math.max(0, s.timing.graceMs - 10_000),
  }))
  s.progress(`${label}: ${clients.length} clients over ${urls.length} endpoint(s), ${configs.length} generators, in-flight ${s.inflight[name]}/client`)
  let first: Snapshot | undefined
  let last: Snapshot | undefined
  const results = await runGenerators(configs, s.timing, {
    onMeasureStart: async () => {
      first = await snapshot(s, tierPids)
    },
    onMeasureEnd: async () => {
      last = await snapshot(s, tierPids)
    },
  })
  if (!first || !last) throw new Error('bench: the measured interval was not observed')
  const result = summarise(name, label, first, last, results, clients.length, s.inflight[name])
  result.brokerMaxRssMiB = Math.max(0, ...(await Promise.all(tierPids.map(peakRssKiBOf)))) / 1024
  s.progress(`${label}: ${Math.round(result.readingsPerS).toLocaleString('en-US')} readings/s committed, p99 ${result.p99Ms.toFixed(1)} ms`)
  return result
}

function summarise(name: ScenarioName, label: string, a: Snapshot, b: Snapshot, results: LoadgenResult[], clients: number, inflight: number): ScenarioResult {
  const wallMs = b.at - a.at
  const generatorCpuMs = results.reduce((n, r) => n + r.cpuMs, 0)
  const tierMs = b.tierCpuMs - a.tierCpuMs
  const pgMs = pgCpuMsBetween(a.pg, b.pg)
  const machineMs = b.machineBusyMs - a.machineBusyMs
  const pct = (ms: number) => (ms / wallMs) * 100
  return {
    name,
    label,
    clients,
    inflight,
    generators: results.length,
    measuredS: wallMs / 1000,
    committed: b.rows - a.rows,
    readingsPerS: (b.rows - a.rows) / (wallMs / 1000),
    ...generatorTotals(results, wallMs / 1000),
    // Inside other processes: not visible from here.
    avgBatchRows: Number.NaN,
    avgCommitMs: Number.NaN,
    cpu: {
      broker: pct(tierMs),
      generators: pct(generatorCpuMs),
      postgres: pgMs === undefined ? undefined : pct(pgMs),
      other: Math.max(0, pct(machineMs - tierMs - generatorCpuMs - (pgMs ?? 0))),
      machine: pct(machineMs),
    },
    brokerMaxRssMiB: 0,
    // No API beside these brokers to ask.
    health: undefined,
    generatorMaxRssMiB: Math.max(0, ...results.map((r) => r.maxRssKiB)) / 1024,
  }
}

/** Two broker processes on one Redis; the fleet split over both. */
async function redisBrokers(s: ClusterBenchSettings): Promise<ScenarioResult[]> {
  const redis = new URL(s.redisUrl)
  if (!(await reachable(redis.hostname, Number(redis.port || 6379)))) {
    s.notes.push(`2 brokers (Redis): skipped, Redis is not reachable at ${redis.host}`)
    return []
  }
  const ports = [await freePort(), await freePort()]
  const brokers = ports.map((port) => start(s, ['broker'], { MQTT_PORT: String(port), REDIS_URL: s.redisUrl }))
  try {
    await until(async () => (await Promise.all(ports.map((p) => reachable('127.0.0.1', p)))).every(Boolean), 60_000, 'the two brokers to listen')
    const pids = brokers.map((b) => b.child.pid ?? 0)
    const out: ScenarioResult[] = []
    for (const name of s.runs) out.push(await measure(s, name, `${name}, 2 brokers (Redis)`, ports.map((p) => `mqtt://127.0.0.1:${p}`), pids))
    return out
  } finally {
    await Promise.all(brokers.map((b) => b.stop()))
  }
}

/** RabbitMQ's MQTT plugin, its HTTP auth backend pointed at an API process, two AMQP workers. */
async function rabbitTier(s: ClusterBenchSettings): Promise<ScenarioResult[]> {
  const amqpAt = new URL(s.amqpUrl)
  if (!(await reachable(amqpAt.hostname, Number(amqpAt.port || 5672))) || !(await reachable(s.rabbitMqtt.host, s.rabbitMqtt.port))) {
    s.notes.push(`RabbitMQ + 2 workers: skipped, RabbitMQ (AMQP ${amqpAt.host}, MQTT ${s.rabbitMqtt.host}:${s.rabbitMqtt.port}) is not reachable`)
    return []
  }
  const key = randomBytes(24).toString('hex')
  const httpPort = await freePort()
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hb-bench-api-'))
  const queue = `bench.telemetry.${randomBytes(4).toString('hex')}`
  const api = start(s, ['api'], { HTTP_PORT: String(httpPort), RABBITMQ_AUTH_KEY: key, DATA_DIR: dataDir })
  const workers: Proc[] = []
  let setUp = false
  try {
    await until(() => reachable('127.0.0.1', httpPort), 60_000, 'the API to listen')
    // The node's auth backend paths, read per request (rabbit_auth_backend_http): node-wide, so
    // a RabbitMQ test running at the same moment elsewhere on this node would be repointed too.
    const base = `http://127.0.0.1:${httpPort}/rabbitmq/auth/${key}`
    const sets = ['user', 'vhost', 'resource', 'topic'].map((what) => `ok = application:set_env(rabbitmq_auth_backend_http, ${what}_path, "${base}/${what}")`)
    try {
      await run('rabbitmqctl', ['eval', `${sets.join(', ')}, ok = application:set_env(rabbitmq_auth_backend_http, http_method, post), ok.`])
    } catch (err) {
      s.notes.push(`RabbitMQ + 2 workers: skipped, rabbitmqctl could not point the HTTP auth backend at the bench API (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`)
      return []
    }
    // The queues first, as a deployment does: the workers refuse to start without them.
    const rabbitEnv = { INGEST_AMQP_QUEUE: queue, RABBITMQ_MANAGEMENT_URL: s.rabbitManagementUrl }
    try {
      await run(process.execPath, [BIN, 'rabbitmq', 'setup'], { env: { PATH: process.env.PATH ?? '', ...rabbitEnv } })
    } catch (err) {
      s.notes.push(`RabbitMQ + 2 workers: skipped, housing-brain rabbitmq setup failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`)
      return []
    }
    setUp = true
    for (let i = 0; i < 2; i++) workers.push(start(s, ['ingest', '--from', s.amqpUrl], rabbitEnv))
    const conn = await amqp.connect(s.amqpUrl)
    // A refused checkQueue closes its channel with an error event: expected here, not fatal.
    conn.on('error', () => undefined)
    const open = async () => {
      const ch = await conn.createChannel()
      ch.on('error', () => undefined)
      return ch
    }
    try {
      // A failed checkQueue closes the channel: a new one is opened for the next try.
      let channel = await open()
      await until(async () => {
        try {
          return (await channel.checkQueue(queue)).consumerCount >= 2
        } catch {
          channel = await open()
          return false
        }
      }, 60_000, 'two AMQP workers consuming')
      const pids = [api, ...workers].map((p) => p.child.pid ?? 0).concat(await beamPids())
      const url = `mqtt://${s.rabbitMqtt.host}:${s.rabbitMqtt.port}`
      const out: ScenarioResult[] = []
      for (const name of s.runs) {
        out.push(await measure(s, name, `${name}, RabbitMQ + 2 workers`, [url], pids))
        // What RabbitMQ took but the workers had not committed when the interval ended.
        const backlog = (await channel.checkQueue(queue)).messageCount
        if (backlog > 0) s.notes.push(`${name}, RabbitMQ + 2 workers: ${backlog.toLocaleString('en-US')} messages still queued after the run (PUBACKed by RabbitMQ, committed later)`)
        await until(async () => (await channel.checkQueue(queue)).messageCount === 0, 120_000, 'the queue to drain')
      }
      return out
    } finally {
      await conn.close().catch(() => undefined)
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()))
    await api.stop()
    await rm(dataDir, { recursive: true, force: true })
    // The queues are bound to every device's telemetry on the node: left behind they would fill forever.
    if (setUp) for (const q of [queue, rabbitTopology({ vhost: '/', exchange: 'amq.topic', queue }).unroutableQueue]) await deleteQueue(s.amqpUrl, q)
  }
}

async function deleteQueue(url: string, queue: string): Promise<void> {
  const conn = await amqp.connect(url)
  conn.on('error', () => undefined)
  try {
    const ch = await conn.createChannel()
    ch.on('error', () => undefined)
    await ch.deleteQueue(queue)
  } finally {
    await conn.close().catch(() => undefined)
  }
}

/** The scale-out scenarios, after the single-process ones; each is skipped with a note when its service is missing. */
export async function clusterScenarios(s: ClusterBenchSettings): Promise<ScenarioResult[]> {
  return [...(await redisBrokers(s)), ...(await rabbitTier(s))]
}

/** The hook bench/ingest.ts calls after its single-process scenarios (PostgreSQL only). */
export async function scaleOutScenarios(c: {
  database: BenchDatabase
  fleet: Fleet
  runs: ScenarioName[]
  opts: { generators: number; deviceInflight: number; gatewayInflight: number }
  timing: RunTiming
  cfg: ClusterBenchSettings['cfg'] & Pick<Config, 'broker'>
  notes: string[]
  progress: (line: string) => void
  cleanup: { add(name: string, fn: () => Promise<void>): void }
}): Promise<ScenarioResult[]> {
  const url = c.database.url
  if (url === undefined) {
    c.notes.push('the scale-out scenarios need a PostgreSQL server (DATABASE_URL): skipped')
    return []
  }
  return clusterScenarios({
    database: { ...c.database, url },
    fleet: c.fleet,
    runs: c.runs,
    generators: c.opts.generators,
    inflight: { devices: c.opts.deviceInflight, gateways: c.opts.gatewayInflight },
    timing: c.timing,
    cfg: c.cfg,
    redisUrl: c.cfg.broker.redisUrl ?? 'redis://127.0.0.1:6379',
    // The machine's own RabbitMQ, as .ci/rabbitmq sets it up (MQTT moved off Mosquitto's 1883).
    amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
    rabbitManagementUrl: 'http://guest:guest@127.0.0.1:15672',
    rabbitMqtt: { host: '127.0.0.1', port: 11883 },
    progress: c.progress,
    notes: c.notes,
    onCleanup: (name, fn) => c.cleanup.add(name, fn),
  })
}
