// Group commit: readings from every connection are gathered into one transaction, and each
// submitter's promise settles only after the transaction holding its rows has committed.
// The queue is bounded in rows; a full queue makes `submit` wait, which (inside the broker) stops
// reading that client's socket: backpressure instead of unbounded memory. A failing database is
// retried with capped exponential backoff until it comes back; nothing queued is dropped.
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import { insertDeadLetters, type DeadLetter } from '../core/repos/dead-letters.ts'
import { emptyColumns, insertReadings } from '../core/repos/readings.ts'
import type { Reading } from './validate.ts'

export interface WriterOptions {
  /** Most readings in one transaction. */
  maxBatchRows: number
  /** How long an idle writer waits for more work before committing a lone message. */
  maxWaitMs: number
  /** Most readings queued or in flight; `submit` waits beyond this. */
  maxQueueRows: number
  retryBaseMs?: number
  retryMaxMs?: number
}

export class WriterStoppedError extends Error {
  constructor() {
    super('ingest writer is stopped')
    this.name = 'WriterStoppedError'
  }
}

interface Job {
  readings: readonly Reading[]
  deadLetters: readonly DeadLetter[]
  resolve: (stored: number) => void
  reject: (err: Error) => void
}

export class IngestWriter {
  private queue: Job[] = []
  private queuedRows = 0
  private inFlightRows = 0
  private flushing: Promise<void> | undefined
  private lingerTimer: NodeJS.Timeout | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private retryDelay = 0
  private lastFailureLog = 0
  private readonly spaceWaiters: (() => void)[] = []
  private running = false

  constructor(
    private readonly db: Db,
    private readonly opts: WriterOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  start(): void {
    this.running = true
  }

  /** Readings waiting or being written. */
  get pendingRows(): number {
    return this.queuedRows + this.inFlightRows
  }

  /**
   * Queues readings and dead letters; resolves with the number of new readings once they are
   * committed. Waits while the queue is full. Rejects with WriterStoppedError after `stop()`.
   */
  async submit(readings: readonly Reading[], deadLetters: readonly DeadLetter[] = []): Promise<number> {
    if (readings.length === 0 && deadLetters.length === 0) return 0
    const rows = readings.length + deadLetters.length
    // A single oversized job is let through when the queue is empty, or it could never enter.
    while (this.running && this.pendingRows > 0 && this.pendingRows + rows > this.opts.maxQueueRows) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve))
    }
    if (!this.running) throw new WriterStoppedError()
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ readings, deadLetters, resolve, reject })
      this.queuedRows += rows
      this.metrics.queueRows.set(this.pendingRows)
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.flushing || this.retryTimer || this.lingerTimer) return
    if (this.queuedRows >= this.opts.maxBatchRows || this.opts.maxWaitMs === 0) {
      this.flushing = this.flush()
    } else {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined
        this.flushing ??= this.flush()
      }, this.opts.maxWaitMs)
    }
  }

  private takeBatch(): { jobs: Job[]; rows: number } {
    const jobs: Job[] = []
    let rows = 0
    while (this.queue.length > 0) {
      const next = this.queue[0]
      if (next === undefined) break
      const size = next.readings.length + next.deadLetters.length
      if (jobs.length > 0 && rows + size > this.opts.maxBatchRows) break
      jobs.push(next)
      rows += size
      this.queue.shift()
    }
    this.queuedRows -= rows
    return { jobs, rows }
  }

  private async flush(): Promise<void> {
    const { jobs, rows } = this.takeBatch()
    this.inFlightRows = rows
    try {
      if (jobs.length > 0) await this.commit(jobs, rows)
    } finally {
      this.inFlightRows = 0
      this.flushing = undefined
      this.metrics.queueRows.set(this.pendingRows)
      this.wakeSpaceWaiters()
      if (this.queue.length > 0 && !this.retryTimer) this.schedule()
    }
  }

  private async commit(jobs: Job[], rows: number): Promise<void> {
    const cols = emptyColumns()
    const deadLetters: DeadLetter[] = []
    for (const job of jobs) {
      for (const r of job.readings) {
        cols.deviceIds.push(r.deviceId)
        cols.metrics.push(r.metric)
        cols.ts.push(r.ts)
        cols.values.push(r.value)
      }
      deadLetters.push(...job.deadLetters)
    }
    const started = performance.now()
    let inserted: number
    try {
      inserted = await this.db.transaction(async (tx) => {
        const n = await insertReadings(tx, cols)
        await insertDeadLetters(tx, deadLetters)
        return n
      })
    } catch (err) {
      this.onFailure(err, jobs, rows)
      return
    }
    if (this.retryDelay > 0) this.log.info({ rows }, 'database writes recovered')
    this.retryDelay = 0
    this.metrics.commitSeconds.observe((performance.now() - started) / 1000)
    this.metrics.batchRows.observe(cols.ts.length)
    this.metrics.readingsStored.inc(inserted)
    this.metrics.readingsDuplicate.inc(cols.ts.length - inserted)
    // Per job, "stored" is reported as the job's own reading count: the batch-wide
    // duplicate count cannot be attributed to a job, and a duplicate is stored too.
    for (const job of jobs) job.resolve(job.readings.length)
  }

  /** Puts the batch back at the head of the queue and retries after a capped, growing delay. */
  private onFailure(err: unknown, jobs: Job[], rows: number): void {
    this.metrics.writeFailures.inc()
    this.queue.unshift(...jobs)
    this.queuedRows += rows
    const base = this.opts.retryBaseMs ?? 100
    this.retryDelay = Math.min(this.retryDelay === 0 ? base : this.retryDelay * 2, this.opts.retryMaxMs ?? 5000)
    const now = Date.now()
    // One line per failure streak step, at most every 10 s, so an outage does not flood the log.
    if (now - this.lastFailureLog > 10_000) {
      this.lastFailureLog = now
      this.log.error({ err, queuedRows: this.queuedRows, retryInMs: this.retryDelay }, 'batch commit failed; retrying')
    }
    if (!this.running) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.flushing ??= this.flush()
    }, this.retryDelay)
  }

  private wakeSpaceWaiters(): void {
    for (const wake of this.spaceWaiters.splice(0)) wake()
  }

  /**
   * Stops taking work and tries to commit what is queued within `timeoutMs`.
   * Whatever is still queued then is rejected: those messages were never acknowledged, so their
   * senders will deliver them again.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    this.running = false
    this.wakeSpaceWaiters()
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer)
      this.lingerTimer = undefined
    }
    const deadline = Date.now() + timeoutMs
    while (this.queue.length > 0 || this.flushing) {
      if (Date.now() >= deadline) break
      if (this.retryTimer) {
        // A failing database during shutdown: keep trying until the deadline.
        clearTimeout(this.retryTimer)
        this.retryTimer = undefined
      }
      this.flushing ??= this.flush()
      await Promise.race([this.flushing, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))])
      if (this.queue.length > 0 && this.retryDelay > 0) {
        await new Promise((r) => setTimeout(r, Math.min(this.retryDelay, Math.max(0, deadline - Date.now()))))
      }
    }
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    for (const job of this.queue.splice(0)) job.reject(new WriterStoppedError())
    this.queuedRows = 0
  }
}
