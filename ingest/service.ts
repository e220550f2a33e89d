// The ingest unit: device cache, validation pipeline and group-commit writer, wired together.
import type { Config } from '../core/config.ts'
import type { Db } from '../core/db/client.ts'
import { DeviceDirectory } from '../core/device-directory.ts'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import { pruneDeadLetters } from '../core/repos/dead-letters.ts'
import { IngestPipeline } from './pipeline.ts'
import { IngestWriter } from './writer.ts'

export type IngestSettings = Pick<
  Config,
  | 'INGEST_BATCH_MAX_ROWS'
  | 'INGEST_BATCH_MAX_WAIT_MS'
  | 'INGEST_QUEUE_MAX_ROWS'
  | 'INGEST_MAX_IN_FLIGHT'
  | 'INGEST_LATEST_FLUSH_MS'
  | 'INGEST_MAX_FUTURE_SKEW_S'
  | 'DEAD_LETTER_RETENTION_DAYS'
>

const PRUNE_EVERY_MS = 60 * 60_000

export class Ingest {
  readonly directory: DeviceDirectory
  readonly writer: IngestWriter
  readonly pipeline: IngestPipeline
  private readonly stopping = new AbortController()
  private pruneTimer: NodeJS.Timeout | undefined
  private readonly log: Logger

  constructor(
    private readonly db: Db,
    private readonly settings: IngestSettings,
    log: Logger,
    metrics: Metrics,
    directory?: DeviceDirectory,
  ) {
    this.log = log.child({ module: 'ingest' })
    this.directory = directory ?? new DeviceDirectory(db)
    this.writer = new IngestWriter(
      db,
      {
        maxBatchRows: settings.INGEST_BATCH_MAX_ROWS,
        maxWaitMs: settings.INGEST_BATCH_MAX_WAIT_MS,
        maxQueueRows: settings.INGEST_QUEUE_MAX_ROWS,
        maxInFlight: settings.INGEST_MAX_IN_FLIGHT,
        latestFlushMs: settings.INGEST_LATEST_FLUSH_MS,
      },
      log.child({ module: 'ingest-writer' }),
      metrics,
    )
    this.pipeline = new IngestPipeline(
      db,
      this.directory,
      this.writer,
      { maxFutureSkewMs: settings.INGEST_MAX_FUTURE_SKEW_S * 1000, signal: this.stopping.signal },
      metrics,
      log.child({ module: 'ingest' }),
    )
  }

  start(): void {
    this.writer.start()
    // Dead letters are bounded in time; pruning runs now and every hour.
    void this.pruneDeadLetters()
    this.pruneTimer = setInterval(() => void this.pruneDeadLetters(), PRUNE_EVERY_MS)
    this.pruneTimer.unref()
  }

  async pruneDeadLetters(): Promise<number> {
    try {
      const n = await pruneDeadLetters(this.db, this.settings.DEAD_LETTER_RETENTION_DAYS)
      if (n > 0) this.log.info({ removed: n, olderThanDays: this.settings.DEAD_LETTER_RETENTION_DAYS }, 'pruned dead letters')
      return n
    } catch (err) {
      this.log.warn({ err }, 'could not prune dead letters; will try again')
      return 0
    }
  }

  async stop(timeoutMs?: number): Promise<void> {
    // Lookups still waiting for the database give up; their messages stay unacknowledged.
    this.stopping.abort()
    clearInterval(this.pruneTimer)
    await this.writer.stop(timeoutMs)
  }
}
