// `housing-brain bench feed`: the cost of several API processes sharing one live feed (issue 11,
// alerts/feed.ts). Two alert services on two connection pools of one scratch database stand
// for two API processes; `--concurrency` writers, half on each, raise `--reports` alerts. Printed:
// reports per second (event-writing transactions commit one at a time from their first event on,
// so ids follow commit order), and the time from an event reaching its writer's bus (at commit)
// to reaching the other service's bus (the NOTIFY, or a catch-up read), p50/p99.
import { parseArgs } from 'node:util'
import { AlertService, DEFAULT_DEADLINES } from '../alerts/service.ts'
import type { CommandContext } from '../cli/context.ts'
import { openDb } from '../core/db/client.ts'
import { silentLogger } from '../core/log.ts'
import { provisionCommunity, provisionDevices } from '../core/provision.ts'
import { openBenchDatabase } from './database.ts'
import { LatencyHistogram } from './histogram.ts'

export interface FeedBenchOptions {
  reports: number
  concurrency: number
  json: boolean
}

export function parseFeedOptions(args: string[]): FeedBenchOptions {
  const { values } = parseArgs({ args, options: { reports: { type: 'string' }, concurrency: { type: 'string' }, json: { type: 'boolean' } }, strict: true })
  const int = (raw: string | undefined, fallback: number) => {
    const n = raw === undefined ? fallback : Number(raw)
    if (!Number.isInteger(n) || n < 1) throw new Error(`bench feed: expected a positive integer (got "${raw ?? ''}")`)
    return n
  }
  return { reports: int(values.reports, 2000), concurrency: int(values.concurrency, 20), json: values.json === true }
}

export async function feedBench(ctx: CommandContext, opts: FeedBenchOptions): Promise<void> {
  // Two pools of one server, as two API processes have: a PostgreSQL server on DATABASE_URL.
  if (!ctx.cfg.database.url) throw new Error('bench feed: set DATABASE_URL to a PostgreSQL server')
  const bench = await openBenchDatabase('postgres', ctx.cfg.database.url, ctx.log)
  if (bench.url === undefined) {
    await bench.close()
    throw new Error('bench feed: the scratch database has no URL for a second pool')
  }
  const other = await openDb({ url: bench.url, applicationName: 'housing-brain bench feed' })
  const a = new AlertService(bench.db, DEFAULT_DEADLINES, silentLogger)
  const b = new AlertService(other, DEFAULT_DEADLINES, silentLogger)
  try {
    await provisionCommunity(bench.db, { id: 'co-bench', name: 'Bench Co.' }, { id: 'cm-bench', name: 'Bench Community' })
    await provisionDevices(bench.db, [{ id: 'mh-bench', kind: 'manhole', communityId: 'cm-bench' }])
    await a.feed.start()
    await b.feed.start()
    // Each event's time on its writer's bus, then its delay to the other bus.
    const onBus = [new Map<number, number>(), new Map<number, number>()] as const
    const delays = new LatencyHistogram()
    const track = (mine: Map<number, number>, theirs: Map<number, number>) => (e: { event: { id: number } }) => {
      const now = performance.now()
      const at = theirs.get(e.event.id)
      if (at === undefined) mine.set(e.event.id, now)
      else delays.record(now - at)
    }
    a.bus.on('event', track(onBus[0], onBus[1]))
    b.bus.on('event', track(onBus[1], onBus[0]))
    let next = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: opts.concurrency }, async (_, w) => {
        const svc = w % 2 === 0 ? a : b
        for (let i = next++; i < opts.reports; i = next++) {
          await svc.report({ ruleId: `bench-${i}`, deviceId: 'mh-bench', condition: 'active', source: 'operator', severity: 'minor', title: 'bench' }, 'bench')
        }
      }),
    )
    const seconds = (performance.now() - started) / 1000
    const waitUntil = Date.now() + 10_000
    while (delays.count < opts.reports && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 50))
    const result = {
      reports: opts.reports,
      concurrency: opts.concurrency,
      engine: bench.engine,
      reportsPerSecond: Math.round(opts.reports / seconds),
      seenByBoth: delays.count,
      otherBusDelayMs: { p50: Number(delays.quantile(0.5).toFixed(1)), p99: Number(delays.quantile(0.99).toFixed(1)) },
    }
    if (opts.json) console.log(JSON.stringify(result))
    else
      console.log(
        `bench feed (${result.engine}): ${result.reports} reports by ${result.concurrency} writers on two pools: ${result.reportsPerSecond}/s; ` +
          `${result.seenByBoth} events on both buses, the other bus p50 ${result.otherBusDelayMs.p50} ms, p99 ${result.otherBusDelayMs.p99} ms after the writer's`,
      )
  } finally {
    await a.feed.stop()
    await b.feed.stop()
    await other.close()
    await bench.close()
  }
}
