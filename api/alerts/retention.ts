// Alert history retention: the events (alert_events) of an alert resolved more than
// ALERT_HISTORY_RETENTION_DAYS ago are deleted, once at start and then every hour, in bounded
// batches (in the leader among API processes: core/leader.ts). Unresolved alerts keep their whole history. The alert rows themselves stay: the
// ranking (core/repos/evaluation.ts) is computed from their columns, never from their events, so
// every period and its previous period can still be ranked; what goes is the audit trail
// (who acknowledged with which note, repeats, escalations) and the live stream's replay of it.
import { deleteResolvedHistory } from '../../core/repos/alerts.ts'
import type { Db } from '../../core/db/client.ts'
import type { Logger } from '../../core/log.ts'
import { Pump } from '../../core/pump.ts'
import type { Unit } from '../../core/units.ts'

const DAY_MS = 86_400_000
const EVERY_MS = 3_600_000
/** Events deleted per statement: keeps each transaction and its locks short. */
const BATCH = 5000
/** Batches per pass: a pass stays bounded; what remains goes in the next one. */
const MAX_BATCHES = 200

export class AlertHistoryRetention implements Unit {
  readonly name = 'alert-history-retention'
  private readonly pump: Pump

  constructor(
    private readonly db: Db,
    private readonly retentionDays: number,
    private readonly log: Logger,
  ) {
    this.pump = new Pump(async () => {
      await this.prune()
    }, EVERY_MS, log, 'alert history pruning')
  }

  start(): Promise<void> {
    this.pump.start()
    return Promise.resolve()
  }

  stop(): Promise<void> {
    return this.pump.stop()
  }

  /** Deletes the expired history as of `now`; returns how many events went. */
  async prune(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.retentionDays * DAY_MS)
    let removed = 0
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await deleteResolvedHistory(this.db, before, BATCH)
      removed += n
      if (n < BATCH) break
    }
    if (removed > 0) this.log.info({ removed, olderThanDays: this.retentionDays }, 'pruned alert history')
    return removed
  }
}
