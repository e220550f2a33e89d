// History retention, once at start and then every hour, in bounded batches (in the leader among
// API processes: core/leader.ts):
// - alert history: the events (alert_events) of an alert resolved more than
//   ALERT_HISTORY_RETENTION ago are deleted. Unresolved alerts keep their whole history. The
//   alert rows themselves stay: the ranking (core/repos/evaluation.ts) is computed from their
//   columns, never from their events, so every period and its previous period can still be
//   ranked; what goes is the trail (who acknowledged with which note, repeats, escalations) and
//   the live stream's replay of it.
// - the audit log (api/plugins/audit.ts): entries older than AUDIT_RETENTION;
// - the commit-ordered feed (core/feed.ts): rows older than FEED_RETENTION, when given. A rules
//   partition away longer than that misses what was pruned, and says so when it starts.
import { deleteResolvedHistory } from '../core/repos/alerts.ts'
import { pruneAudit } from '../core/repos/audit.ts'
import { pruneFeed } from '../core/repos/feed.ts'
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import { Pump } from '../core/pump.ts'
import type { Unit } from '../core/units.ts'

const EVERY_MS = 3_600_000
/** Rows deleted per statement: keeps each transaction and its locks short. */
const BATCH = 5000
/** Batches per pass and table: a pass stays bounded; what remains goes in the next one. */
const MAX_BATCHES = 200

/** Runs `step` (deleting at most BATCH rows) until it deletes fewer, at most MAX_BATCHES times. */
async function inBatches(step: (limit: number) => Promise<number>): Promise<number> {
  let removed = 0
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await step(BATCH)
    removed += n
    if (n < BATCH) break
  }
  return removed
}

export class AlertHistoryRetention implements Unit {
  readonly name = 'alert-history-retention'
  private readonly pump: Pump

  constructor(
    private readonly db: Db,
    /** From the `retention` section: an age left undefined leaves that table alone. */
    private readonly keep: { alertHistoryMs: number; auditMs?: number | undefined; feedMs?: number | undefined },
    private readonly log: Logger,
  ) {
    this.pump = new Pump(async () => {
      await this.prune()
      await this.pruneAudit()
      await this.pruneFeed()
    }, EVERY_MS, log, 'history pruning')
  }

  start(): Promise<void> {
    this.pump.start()
    return Promise.resolve()
  }

  stop(): Promise<void> {
    return this.pump.stop()
  }

  /** Deletes the expired alert history as of `now`; returns how many events went. */
  async prune(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.keep.alertHistoryMs)
    const removed = await inBatches((limit) => deleteResolvedHistory(this.db, before, limit))
    if (removed > 0) this.log.info({ removed, olderThan: before.toISOString() }, 'pruned alert history')
    return removed
  }

  /** Deletes the audit log entries expired as of `now`; returns how many went. */
  async pruneAudit(now = new Date()): Promise<number> {
    if (this.keep.auditMs === undefined) return 0
    const before = new Date(now.getTime() - this.keep.auditMs)
    const removed = await inBatches((limit) => pruneAudit(this.db, before, limit))
    if (removed > 0) this.log.info({ removed, olderThan: before.toISOString() }, 'pruned audit log')
    return removed
  }

  /** Deletes the feed rows older than FEED_RETENTION as of `now`; returns how many went. */
  async pruneFeed(now = new Date()): Promise<number> {
    if (this.keep.feedMs === undefined) return 0
    const before = new Date(now.getTime() - this.keep.feedMs)
    const removed = await inBatches((limit) => pruneFeed(this.db, before, limit))
    if (removed > 0) this.log.info({ removed, olderThan: before.toISOString() }, 'pruned the feed')
    return removed
  }
}
