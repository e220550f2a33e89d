// The rules engine as a unit of a process: its section of the configuration (`cfg.rules`), its
// reporter to the API and its figures. It reads the feed from the database (core/feed.ts).
import type { Config } from '../core/config.ts'
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import type { RulesMetrics } from '../core/metrics.ts'
import { RulesEngine, type RulesEngineMetrics } from './engine.ts'
import { ApiReporter } from './reporter.ts'

/** Reports queued for the API while it is slow or away; at the bound the engine reads no more of the feed until they drain. */
const MAX_QUEUED_REPORTS = 10_000

/** The engine's observations as the process's Prometheus figures, labelled by partition. */
function engineMetrics(m: RulesMetrics, partition: string): RulesEngineMetrics {
  return {
    evaluated: (n) => m.samplesEvaluated.inc(n),
    reported: (kind) => (kind === 'raise' ? m.alertsRaised : m.alertsCleared).inc(),
    late: (outcome) => m.lateSamples.inc({ outcome }),
    position: (row, lagSeconds) => {
      m.feedPosition.set({ partition }, row)
      m.feedLagSeconds.set({ partition }, lagSeconds)
    },
  }
}

export function rulesUnit(
  db: Db,
  cfg: Pick<Config, 'rules'>,
  log: Logger,
  conn: { apiUrl: string; token: string; metrics?: RulesMetrics | undefined; observe?: RulesEngineMetrics | undefined },
): RulesEngine {
  const rlog = log.child({ module: 'rules' })
  const { index, count } = cfg.rules.partition
  const metrics = conn.observe ?? (conn.metrics && engineMetrics(conn.metrics, `${index}/${count}`))
  const reporter = new ApiReporter({ apiUrl: conn.apiUrl, token: conn.token, maxQueued: MAX_QUEUED_REPORTS }, rlog)
  return new RulesEngine(db, reporter, { ...cfg.rules, metrics }, rlog)
}
