// `housing-brain bench <name> [options]`: benchmarks run from the command line.
import { parseArgs } from 'node:util'
import { createLogger } from '../core/log.ts'
import type { CommandContext } from '../cli/context.ts'
import { DATABASE_KINDS, type DatabaseKind } from './database.ts'
import { ingestBench, type IngestBenchOptions } from './ingest.ts'
import type { ScenarioName } from './protocol.ts'
import { formatReport } from './report.ts'

const USAGE = `housing-brain bench ingest|integrations|alerts|notify|feed|console [options]

  integrations  every way in, in one run on one database: readings/s and p99 (push → acknowledgement)
           for MQTT (PUBACK), the HTTP device API, the OneNET and CTWing receivers (200 after
           commit) and the ChirpStack unit (through Mosquitto), next to the pipeline's own ceiling (see bench/integrations.ts: --devices
           --seconds --warmup --concurrency --generators --json)

  feed     alert events between two API processes' connection pools on one database: reports/s
           with writers on both (event ids drawn in commit order) and how long an event written
           on one takes to reach the other's bus (see bench/feed.ts: --reports --concurrency --json)

  notify   alert raised → notification outbox → SMS accepted by a local HTTP sink: pages per second
           (live, and draining a backlog) and raised → delivered p50/p99, next to the sink alone and
           the outbox's claim alone (see bench/notify.ts: --alerts --concurrency --json)

  console  the console's budgets in Chromium: first-load size, one live event on a board of 5,000
           alerts, a 43,200-point chart (see bench/console.ts)

  alerts   device publish → rules engine → alert on the live stream, under background telemetry;
           commit → evaluation lag, and the catch-up after the engine was down --down seconds
           (see bench/alerts.ts: --rate --devices --faults --warmup --down --json)

housing-brain bench ingest [options]

End-to-end MQTT → broker-embedded ingest → database throughput and PUBACK latency, with GET /health
latency of the API in the same process meanwhile and the COPY and insertReadings ceilings of the same
database, on each database in turn: embedded (the embedded PostgreSQL of \`up\`, in a temporary
directory), pglite-worker (PGlite on disk in a worker thread), pglite (PGlite on disk on the broker's
thread) and postgres (a scratch database on DATABASE_URL's server, created and dropped).
Ingest tuning comes from the environment: INGEST_BATCH_MAX_ROWS, INGEST_BATCH_MAX_WAIT_MS, INGEST_QUEUE_MAX_ROWS, INGEST_MAX_IN_FLIGHT.

  --databases LIST                 comma-separated, in order       (embedded,pglite-worker,pglite,
                                                                    and postgres with DATABASE_URL)
  --scenario all|devices|gateways  which scenarios to run                    (all)
  --devices N                      single devices                            (300)
  --gateways N                     gateways                                  (20)
  --children N                     registered children per gateway           (20)
  --seconds S                      measured interval per scenario            (10)
  --warmup S                       warm-up before it                         (3)
  --generators N                   load-generator processes                  (2)
  --inflight N                     unacknowledged publishes per client, both scenarios
  --device-inflight N              … for single devices                      (4)
  --gateway-inflight N             … for gateways                            (4)
  --no-ceilings                    skip the COPY and insertReadings ceilings
  --no-cluster                     skip the scale-out scenarios: two broker processes sharing Redis
                                   (REDIS_URL, else the local one), and RabbitMQ's MQTT plugin with two
                                   AMQP ingest workers (needs rabbitmqctl on this machine; PostgreSQL only)
  --json                           print the results as JSON on stdout (the table goes to stderr)`

/** A bad option: printed as one line with the usage, not as a stack trace. */
class UsageError extends Error {}

function isUsageError(err: unknown): err is Error {
  // node:util parseArgs reports unknown options and missing values with ERR_PARSE_ARGS_* codes.
  return err instanceof UsageError || (err instanceof Error && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS'))
}

function positive(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new UsageError(`bench: --${name} expects an integer ≥ ${min} (got "${raw}")`)
  return n
}

function databases(raw: string | undefined, hasUrl: boolean): DatabaseKind[] {
  if (raw === undefined) return DATABASE_KINDS.filter((k) => k !== 'postgres' || hasUrl)
  const list = raw.split(',').map((d) => d.trim())
  for (const d of list) {
    if (!(DATABASE_KINDS as readonly string[]).includes(d)) throw new UsageError(`bench: --databases expects a list of ${DATABASE_KINDS.join(', ')} (got "${d}")`)
    if (d === 'postgres' && !hasUrl) throw new UsageError('bench: --databases postgres needs DATABASE_URL')
  }
  return list as DatabaseKind[]
}

export function parseIngestOptions(args: string[], hasDatabaseUrl: boolean): IngestBenchOptions & { json: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      databases: { type: 'string' },
      scenario: { type: 'string' },
      devices: { type: 'string' },
      gateways: { type: 'string' },
      children: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      generators: { type: 'string' },
      inflight: { type: 'string' },
      'device-inflight': { type: 'string' },
      'gateway-inflight': { type: 'string' },
      'no-ceilings': { type: 'boolean' },
      'no-cluster': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  })
  const scenario = values.scenario ?? 'all'
  const scenarios: ScenarioName[] =
    scenario === 'all' ? ['devices', 'gateways'] : scenario === 'devices' || scenario === 'gateways' ? [scenario] : []
  if (scenarios.length === 0) throw new UsageError(`bench: --scenario expects all, devices or gateways (got "${scenario}")`)
  // 4 keeps the default fleet's in-flight readings (300 × 4 × 5, 20 × 4 × 100) to about what the
  // writer commits in 100–150 ms on a 2-core machine: more raises throughput a little and p99 a lot.
  const inflight = positive('inflight', values.inflight, 4)
  return {
    databases: databases(values.databases, hasDatabaseUrl),
    scenarios,
    devices: positive('devices', values.devices, 300),
    gateways: positive('gateways', values.gateways, 20),
    children: positive('children', values.children, 20),
    seconds: positive('seconds', values.seconds, 10),
    warmupSeconds: positive('warmup', values.warmup, 3, 0),
    generators: positive('generators', values.generators, 2),
    deviceInflight: positive('device-inflight', values['device-inflight'], inflight),
    gatewayInflight: positive('gateway-inflight', values['gateway-inflight'], inflight),
    ceilings: values['no-ceilings'] !== true,
    cluster: values['no-cluster'] !== true,
    json: values.json === true,
  }
}

async function ingest(ctx: CommandContext, args: string[]): Promise<void> {
  let opts: ReturnType<typeof parseIngestOptions>
  try {
    opts = parseIngestOptions(args, ctx.cfg.database.url !== undefined)
  } catch (err) {
    if (!isUsageError(err)) throw err
    console.error(`${err.message}\n\n${USAGE}`)
    process.exitCode = 2
    return
  }
  const report = await ingestBench(ctx, opts)
  const text = formatReport(report)
  if (opts.json) {
    console.error(text)
    console.log(JSON.stringify(report, null, 2))
  } else {
    console.log(text)
  }
}

/** Each benchmark loads only its own modules (the alerts one pulls in the API and the rules engine). */
const BENCHMARKS: Record<string, (ctx: CommandContext, args: string[]) => Promise<void>> = {
  ingest,
  alerts: async (ctx, args) => {
    const { alertsBench, parseAlertsOptions } = await import('./alerts.ts')
    await alertsBench(ctx, parseAlertsOptions(args))
  },
  feed: async (ctx, args) => {
    const { feedBench, parseFeedOptions } = await import('./feed.ts')
    await feedBench(ctx, parseFeedOptions(args))
  },
  notify: async (ctx, args) => {
    const { notifyBench, parseNotifyOptions } = await import('./notify.ts')
    await notifyBench(ctx, parseNotifyOptions(args))
  },
  console: async (ctx) => (await import('./console.ts')).consoleBench(ctx),
  integrations: async (ctx, args) => (await import('./integrations.ts')).runIntegrations(ctx, args),
}

export async function bench(ctx: CommandContext): Promise<void> {
  const [name, ...rest] = ctx.args
  const run = name !== undefined && Object.hasOwn(BENCHMARKS, name) ? BENCHMARKS[name] : undefined
  if (!run) {
    const help = name === undefined || name === 'help' || name === '--help' || name === '-h'
    console.error(help ? USAGE : `Unknown benchmark "${name}".\n\n${USAGE}`)
    if (!help || name === undefined) process.exitCode = 1
    return
  }
  if (name === 'ingest' && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(USAGE)
    return
  }
  // With --json, stdout is the result alone: the log goes to stderr.
  await run(rest.includes('--json') ? { ...ctx, log: createLogger(ctx.cfg.server.logLevel, { stderr: true }) } : ctx, rest)
}
