// One end-to-end scenario against the running broker: load generators publish, and throughput is
// what the ingest *committed* during the measured interval (the delta of its stored-readings
// counter, which moves only after COMMIT), not what was sent.
import type { BrokerWithIngest } from '../cli/stack.ts'
import type { Metrics } from '../core/metrics.ts'
import { machineBusyMs } from './cpu.ts'
import { peakRssKiB } from './rss.ts'
import { pgCpuMsBetween, type PgCpuSample } from './pgcpu.ts'
import { runGenerators, type RunTiming } from './generators.ts'
import { HealthProbe, type HealthResult } from './health-probe.ts'
import { LatencyHistogram } from './histogram.ts'
import type { LoadClient, LoadgenResult, ScenarioName } from './protocol.ts'
import { split } from './fleet.ts'

export interface ScenarioSettings {
  name: ScenarioName
  url: string
  clients: LoadClient[]
  generators: number
  inflight: number
  timing: RunTiming
  /** CPU of the database server's processes, when they are visible from here. */
  sampleDbCpu: () => Promise<PgCpuSample | undefined>
  /** The API's GET /health in this process, asked throughout the measured interval. */
  healthUrl?: string | undefined
}

export interface ScenarioResult {
  name: ScenarioName
  /** How it ran, when not the single broker process (bench/ingest-cluster.ts). */
  label?: string
  clients: number
  inflight: number
  generators: number
  measuredS: number
  /** Readings committed during the measured interval, and per second. */
  committed: number
  readingsPerS: number
  /** Messages published in the interval and acknowledged, per second. */
  messagesPerS: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  errors: number
  firstError: string | undefined
  unacked: number
  /** Group-commit behaviour in the interval: mean readings per transaction and mean commit time. */
  avgBatchRows: number
  avgCommitMs: number
  /**
   * CPU use over the interval in % of one core (200 % = both cores of a 2-core machine busy):
   * this process (broker + ingest), the load generators, PostgreSQL (when local), everything else.
   */
  cpu: { broker: number; generators: number; postgres: number | undefined; other: number; machine: number }
  brokerMaxRssMiB: number
  generatorMaxRssMiB: number
  /** GET /health latency during the measured interval, when an API ran beside the broker. */
  health: HealthResult | undefined
}

interface Snapshot {
  at: number
  stored: number
  batchRowsSum: number
  batches: number
  commitSecondsSum: number
  cpu: NodeJS.CpuUsage
  machineBusyMs: number
  pg: PgCpuSample | undefined
}

async function counterValue(metric: { get(): Promise<{ values: { value: number; metricName?: string }[] }> }, suffix?: string): Promise<number> {
  const { values } = await metric.get()
  const hit = suffix === undefined ? values[0] : values.find((v) => v.metricName?.endsWith(suffix))
  return hit?.value ?? 0
}

async function snapshot(metrics: Metrics, sampleDbCpu: ScenarioSettings['sampleDbCpu']): Promise<Snapshot> {
  const pg = await sampleDbCpu()
  return {
    pg,
    at: performance.now(),
    cpu: process.cpuUsage(),
    machineBusyMs: machineBusyMs(),
    stored: await counterValue(metrics.readingsStored),
    batchRowsSum: await counterValue(metrics.batchRows, '_sum'),
    batches: await counterValue(metrics.batchRows, '_count'),
    commitSecondsSum: await counterValue(metrics.commitSeconds, '_sum'),
  }
}

const MiB = (kib: number) => kib / 1024

/** Waits until the writer has committed everything queued, so scenarios do not overlap. */
async function drained(unit: BrokerWithIngest, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (unit.ingest.writer.pendingRows > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
}

export async function runScenario(unit: BrokerWithIngest, metrics: Metrics, s: ScenarioSettings): Promise<ScenarioResult> {
  let start: Snapshot | undefined
  let end: Snapshot | undefined
  const configs = split(s.clients, s.generators).map((clients) => ({
    url: s.url,
    scenario: s.name,
    clients,
    inflight: s.inflight,
    drainMs: Math.max(0, s.timing.graceMs - 10_000),
  }))
  let probe: HealthProbe | undefined
  let health: HealthResult | undefined
  try {
    const results = await runGenerators(configs, s.timing, {
      onMeasureStart: async () => {
        start = await snapshot(metrics, s.sampleDbCpu)
        if (s.healthUrl) probe = HealthProbe.start(s.healthUrl)
      },
      onMeasureEnd: async () => {
        end = await snapshot(metrics, s.sampleDbCpu)
        health = await probe?.stop()
        probe = undefined
      },
    })
    await drained(unit, 30_000)
    if (!start || !end) throw new Error('bench: the measured interval was not observed')
    return { ...summarise(s, start, end, results), health }
  } finally {
    await probe?.stop()
  }
}

/** What the load generators saw over `seconds`: acknowledged messages/s, PUBACK latency, errors. */
export function generatorTotals(results: LoadgenResult[], seconds: number): Pick<ScenarioResult, 'messagesPerS' | 'p50Ms' | 'p99Ms' | 'maxMs' | 'errors' | 'firstError' | 'unacked'> {
  const latency = new LatencyHistogram()
  for (const r of results) latency.merge(r.latency)
  return {
    messagesPerS: results.reduce((n, r) => n + r.acked, 0) / seconds,
    p50Ms: latency.quantile(0.5),
    p99Ms: latency.quantile(0.99),
    maxMs: latency.maxMs,
    errors: results.reduce((n, r) => n + r.errors, 0),
    firstError: results.find((r) => r.firstError !== undefined)?.firstError,
    unacked: results.reduce((n, r) => n + r.unacked, 0),
  }
}

function summarise(s: ScenarioSettings, start: Snapshot, end: Snapshot, results: LoadgenResult[]): Omit<ScenarioResult, 'health'> {
  const seconds = (end.at - start.at) / 1000
  const wallMs = end.at - start.at
  const committed = end.stored - start.stored
  const batches = end.batches - start.batches
  const brokerCpuMs = (end.cpu.user - start.cpu.user + end.cpu.system - start.cpu.system) / 1000
  const generatorCpuMs = results.reduce((n, r) => n + r.cpuMs, 0)
  const machineMs = end.machineBusyMs - start.machineBusyMs
  const pgMs = pgCpuMsBetween(start.pg, end.pg)
  const pct = (ms: number) => (ms / wallMs) * 100
  return {
    name: s.name,
    clients: s.clients.length,
    inflight: s.inflight,
    generators: results.length,
    measuredS: seconds,
    committed,
    readingsPerS: committed / seconds,
    ...generatorTotals(results, seconds),
    avgBatchRows: batches > 0 ? (end.batchRowsSum - start.batchRowsSum) / batches : 0,
    avgCommitMs: batches > 0 ? ((end.commitSecondsSum - start.commitSecondsSum) / batches) * 1000 : 0,
    cpu: {
      broker: pct(brokerCpuMs),
      generators: pct(generatorCpuMs),
      postgres: pgMs === undefined ? undefined : pct(pgMs),
      // Other processes on the machine (and PostgreSQL too, when its processes are not visible).
      other: Math.max(0, pct(machineMs - brokerCpuMs - generatorCpuMs - (pgMs ?? 0))),
      machine: pct(machineMs),
    },
    brokerMaxRssMiB: MiB(peakRssKiB()),
    generatorMaxRssMiB: MiB(Math.max(0, ...results.map((r) => r.maxRssKiB))),
  }
}
