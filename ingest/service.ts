// The ingest service unit: device cache, the TelemetrySink (ingest/pipeline.ts, the one pipeline
// behind every receiver; intake/telemetry-sink.ts) and the group-commit writer, wired together.
// It also tells whether ingestion is keeping up (`stallReason`), for the health endpoints.
import type { Config } from '../core/config.ts'
import type { Db } from '../core/db/client.ts'
import { DeviceDirectory } from '../core/device-directory.ts'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import { pruneDeadLetters } from '../core/repos/dead-letters.ts'
import type { Unit } from '../core/units.ts'
import { IngestPipeline } from './pipeline.ts'
import { IngestWriter } from './writer.ts'

/** The `ingest` section (core/settings.ts). */
export type IngestSettings = Config['ingest']

const PRUNE_EVERY_MS = 60 * 60_000

export class IngestService implements Unit {
  readonly name = 'ingest'
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
        maxBatchRows: settings.batchMaxRows,
        maxWaitMs: settings.batchMaxWaitMs,
        maxQueueRows: settings.queueMaxRows,
        maxInFlight: settings.maxInFlight,
        latestFlushMs: settings.latestFlushMs,
      },
      log.child({ module: 'ingest-writer' }),
      metrics,
    )
    this.pipeline = new IngestPipeline(
      db,
      this.directory,
      this.writer,
      {
        limits: {
          maxEntries: settings.maxEntries,
          maxValuesPerEntry: settings.maxValuesPerEntry,
          maxRejections: settings.maxDeadLettersPerMessage,
          maxFutureSkewMs: settings.maxFutureSkewMs,
          maxPastAgeMs: settings.maxPastAgeMs,
        },
        signal: this.stopping.signal,
      },
      metrics,
      log.child({ module: 'ingest' }),
    )
  }

  start(): Promise<void> {
    this.writer.start()
    // Dead letters are bounded in time; pruning runs now and every hour.
    void this.pruneDeadLetters()
    this.pruneTimer = setInterval(() => void this.pruneDeadLetters(), PRUNE_EVERY_MS)
    this.pruneTimer.unref()
    return Promise.resolve()
  }

  /**
   * Why ingestion counts as stalled, or undefined: the oldest message not yet committed (so not
   * yet acknowledged) has waited longer than INGEST_STALL_AFTER — the database is down or slow,
   * or the writer is stuck. Devices see it as missing PUBACKs; the health check says it aloud.
   */
  stallReason(now = Date.now()): string | undefined {
    const waited = this.writer.oldestPendingMs(now)
    if (waited <= this.settings.stallAfterMs) return undefined
    return `ingest stalled: the oldest unacknowledged message has waited ${Math.round(waited / 1000)} s (limit ${Math.round(this.settings.stallAfterMs / 1000)} s), ${this.writer.pendingRows} rows pending`
  }

  async pruneDeadLetters(): Promise<number> {
    try {
      const before = new Date(Date.now() - this.settings.deadLetterRetentionMs)
      const n = await pruneDeadLetters(this.db, before)
      if (n > 0) this.log.info({ removed: n, olderThan: before.toISOString() }, 'pruned dead letters')
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
