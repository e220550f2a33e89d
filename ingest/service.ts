// The ingest unit: device cache, validation pipeline and group-commit writer, wired together.
import type { Config } from '../core/config.ts'
import type { Db } from '../core/db/client.ts'
import { DeviceDirectory } from '../core/device-directory.ts'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import { IngestPipeline } from './pipeline.ts'
import { IngestWriter } from './writer.ts'

export type IngestSettings = Pick<
  Config,
  'INGEST_BATCH_MAX_ROWS' | 'INGEST_BATCH_MAX_WAIT_MS' | 'INGEST_QUEUE_MAX_ROWS' | 'INGEST_MAX_FUTURE_SKEW_S'
>

export class Ingest {
  readonly directory: DeviceDirectory
  readonly writer: IngestWriter
  readonly pipeline: IngestPipeline
  private readonly stopping = new AbortController()

  constructor(db: Db, settings: IngestSettings, log: Logger, metrics: Metrics, directory?: DeviceDirectory) {
    this.directory = directory ?? new DeviceDirectory(db)
    this.writer = new IngestWriter(
      db,
      {
        maxBatchRows: settings.INGEST_BATCH_MAX_ROWS,
        maxWaitMs: settings.INGEST_BATCH_MAX_WAIT_MS,
        maxQueueRows: settings.INGEST_QUEUE_MAX_ROWS,
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
  }

  async stop(timeoutMs?: number): Promise<void> {
    // Lookups still waiting for the database give up; their messages stay unacknowledged.
    this.stopping.abort()
    await this.writer.stop(timeoutMs)
  }
}
