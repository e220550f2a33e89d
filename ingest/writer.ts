// Group commit: readings from every connection are gathered into transactions, and each
// submitter's promise settles only after the transaction holding its rows has committed.
//
// - Up to `maxInFlight` transactions run at once, so the next batch forms and travels while the
//   previous one commits. A batch is whatever queued while the writer was busy (at most
//   `maxBatchRows`); an idle writer waits `maxWaitMs` for company before writing a lone message.
// - The queue is bounded in rows; a full queue makes `submit` wait, which (inside the broker)
//   stops reading that client's socket: backpressure instead of unbounded memory.
// - A transient failure (connection lost, server restarting, deadlock, … — core/db/errors.ts) is
//   retried with capped exponential backoff until the database comes back; nothing queued is
//   dropped. A data error (the same rows would fail every time) is never retried as a whole:
//   the batch is split in halves until the message that fails is alone; the others commit, and
//   that message is recorded as a dead letter `rejected_by_database` instead of its rows. One
//   poisonous message once stopped every device's acknowledgements (issue 7, item 1).
// - `oldestPendingMs` tells how long the oldest unacknowledged submission has waited; the health
//   check turns unhealthy when it grows past INGEST_STALL_AFTER.
// - `latest` (newest value per device and metric) is derived data: it is coalesced in memory and
//   written at most every `latestFlushMs` in its own transaction, off the acknowledgement path
//   (bench/ingest.ts measured the per-batch upsert at a third of the commit time). So it may lag
//   the readings by up to that long, and a crash can leave it behind until the next reading.
// - The readings a batch stores new (not a redelivery's duplicates) go on the commit-ordered feed
//   in the same transaction, one row per batch (core/feed.ts): the rules engine evaluates exactly
//   what committed, and a rolled-back batch never reaches it.
import type { Db } from '../core/db/client.ts'
import { classifyDbError, errorCode } from '../core/db/errors.ts'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import { insertDeadLetters, type DeadLetter } from '../core/repos/dead-letters.ts'
import { emptyColumns, upsertLatest, writeReadings, type ReadingColumns } from '../core/repos/readings.ts'
import { bucketOf, FeedBatch } from '../core/feed.ts'
import { appendFeed, beginFeedWrite } from '../core/repos/feed.ts'
import { REJECT_REASONS } from '../core/contract.ts'
import type { Reading } from '../core/telemetry.ts'

export interface WriterOptions {
  /** Most readings in one transaction. */
  maxBatchRows: number
  /** How long an idle writer waits for more work before committing a lone message. */
  maxWaitMs: number
  /** Most readings queued or in flight; `submit` waits beyond this. */
  maxQueueRows: number
  /** Transactions in flight at once. */
  maxInFlight?: number
  /** How often `latest` is brought up to date; 0 = in each batch's own transaction. */
  latestFlushMs?: number
  retryBaseMs?: number
  retryMaxMs?: number
}

export class WriterStoppedError extends Error {
  constructor() {
    super('ingest writer is stopped')
    this.name = 'WriterStoppedError'
  }
}

/** Where a submission came from, for the dead letter written if the database refuses its rows. */
export interface JobOrigin {
  topic: string
  clientId: string | null
  deviceId: string | null
  receivedAt: Date
  /** The feed bucket of each reading's device (core/feed.ts): its gateway's, or its own. */
  bucketOf?: (deviceId: string) => number
}

interface Job {
  readings: readonly Reading[]
  deadLetters: readonly DeadLetter[]
  origin: JobOrigin | undefined
  queuedAt: number
  resolve: (stored: number) => void
  reject: (err: Error) => void
}

/** The feed row of a batch: its new readings per device, in the order they were submitted. */
function feedOf(jobs: readonly Job[], isNew: (i: number) => boolean): FeedBatch {
  const feed = new FeedBatch()
  let i = 0
  for (const job of jobs) {
    const at = job.origin?.receivedAt.getTime() ?? job.queuedAt
    const bucket = job.origin?.bucketOf ?? ((id: string) => bucketOf({ id, gatewayId: null }))
    let device = { id: '', bucket: 0 }
    for (const r of job.readings) {
      if (isNew(i++)) {
        if (r.deviceId !== device.id) device = { id: r.deviceId, bucket: bucket(r.deviceId) }
        feed.reading(device, at, r.metric, r.ts, r.value)
      }
    }
  }
  return feed
}

const rowsOf = (jobs: readonly Job[]) => jobs.reduce((n, j) => n + j.readings.length + j.deadLetters.length, 0)

/** Series (device × metric) whose newest value waits for the next `latest` write; beyond it, write now. */
const MAX_PENDING_LATEST = 200_000

export class IngestWriter {
  private queue: Job[] = []
  private queuedRows = 0
  private inFlightRows = 0
  private readonly inFlight = new Set<Promise<void>>()
  private lingerTimer: NodeJS.Timeout | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private retryDelay = 0
  private lastFailureLog = 0
  private readonly spaceWaiters: (() => void)[] = []
  /** Every submission not yet settled, oldest first (a Set keeps insertion order). */
  private readonly unsettled = new Set<Job>()
  private running = false
  private readonly latestPending = new Map<string, { deviceId: string; metric: string; ts: number; value: number }>()
  private latestTimer: NodeJS.Timeout | undefined
  private latestWrite: Promise<void> | undefined

  constructor(
    private readonly db: Db,
    private readonly opts: WriterOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  private get maxInFlight(): number {
    return this.opts.maxInFlight ?? 2
  }

  private get latestFlushMs(): number {
    return this.opts.latestFlushMs ?? 1000
  }

  start(): void {
    this.running = true
    if (this.latestFlushMs > 0) {
      this.latestTimer = setInterval(() => void this.flushLatest(), this.latestFlushMs)
      this.latestTimer.unref()
    }
  }

  /** Readings waiting or being written. */
  get pendingRows(): number {
    return this.queuedRows + this.inFlightRows
  }

  /** How long the oldest submission not yet committed has waited (0 when none waits). */
  oldestPendingMs(now = Date.now()): number {
    for (const job of this.unsettled) return now - job.queuedAt
    return 0
  }

  /**
   * Queues readings and dead letters; resolves with the number of readings once they are
   * committed. Waits while the queue is full. Rejects with WriterStoppedError after `stop()`.
   */
  async submit(readings: readonly Reading[], deadLetters: readonly DeadLetter[] = [], origin?: JobOrigin): Promise<number> {
    if (readings.length === 0 && deadLetters.length === 0) return 0
    const rows = readings.length + deadLetters.length
    // A single oversized job is let through when the queue is empty, or it could never enter.
    while (this.running && this.pendingRows > 0 && this.pendingRows + rows > this.opts.maxQueueRows) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve))
    }
    if (!this.running) throw new WriterStoppedError()
    return new Promise<number>((resolve, reject) => {
      const job: Job = {
        readings,
        deadLetters,
        origin,
        queuedAt: Date.now(),
        resolve: (n) => {
          this.unsettled.delete(job)
          resolve(n)
        },
        reject: (err) => {
          this.unsettled.delete(job)
          reject(err)
        },
      }
      this.unsettled.add(job)
      this.queue.push(job)
      this.queuedRows += rows
      this.metrics.queueRows.set(this.pendingRows)
      this.schedule()
    })
  }

  /** Starts transactions while there is work and room; an idle writer lingers `maxWaitMs` first. */
  private schedule(): void {
    if (this.retryTimer || this.lingerTimer) return
    while (this.queue.length > 0 && this.inFlight.size < this.maxInFlight) {
      // Busy: what queued meanwhile is a batch already. Idle: wait a moment for company.
      if (this.running && this.inFlight.size === 0 && this.opts.maxWaitMs > 0 && this.queuedRows < this.opts.maxBatchRows) {
        this.lingerTimer = setTimeout(() => {
          this.lingerTimer = undefined
          this.launch()
          this.schedule()
        }, this.opts.maxWaitMs)
        return
      }
      this.launch()
    }
  }

  private launch(): void {
    if (this.queue.length === 0 || this.inFlight.size >= this.maxInFlight) return
    const flush = this.flush()
    this.inFlight.add(flush)
    void flush.finally(() => {
      this.inFlight.delete(flush)
      this.metrics.queueRows.set(this.pendingRows)
      this.wakeSpaceWaiters()
      this.schedule()
    })
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
    this.inFlightRows += rows
    try {
      if (jobs.length > 0) await this.commit(jobs, rows)
    } finally {
      this.inFlightRows -= rows
    }
  }

  private async commit(jobs: Job[], rows: number): Promise<void> {
    const err = await this.tryCommit(jobs)
    if (err === undefined) return
    if (classifyDbError(err) === 'transient') {
      this.onFailure(err, jobs, rows)
      return
    }
    const retry: Job[] = []
    const transient = await this.isolate(jobs, err, retry)
    // Requeued at once and in their order, so the queue never counts a job twice meanwhile.
    if (transient !== undefined) this.onFailure(transient, retry, rowsOf(retry))
  }

  /** Commits the jobs in one transaction and settles them; returns the error instead of throwing. */
  private async tryCommit(jobs: readonly Job[]): Promise<unknown> {
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
        const writer = await beginFeedWrite(tx)
        const written = await writeReadings(tx, cols)
        // What this transaction stored goes on the feed in the same transaction (core/feed.ts):
        // the rules engine evaluates exactly what committed, a redelivered duplicate not again.
        const feed = feedOf(jobs, written.isNew)
        if (!feed.empty) await appendFeed(writer, feed.row())
        await insertDeadLetters(tx, deadLetters)
        if (this.latestFlushMs === 0) await upsertLatest(tx, cols)
        return written.inserted
      })
    } catch (err) {
      return err
    }
    if (this.retryDelay > 0) this.log.info({ rows: cols.ts.length + deadLetters.length }, 'database writes recovered')
    this.retryDelay = 0
    this.metrics.commitSeconds.observe((performance.now() - started) / 1000)
    this.metrics.batchRows.observe(cols.ts.length)
    this.metrics.readingsStored.inc(inserted)
    this.metrics.readingsDuplicate.inc(cols.ts.length - inserted)
    if (this.latestFlushMs > 0) this.noteLatest(cols)
    // Per job, "stored" is reported as the job's own reading count: the batch-wide
    // duplicate count cannot be attributed to a job, and a duplicate is stored too.
    for (const job of jobs) job.resolve(job.readings.length)
    return undefined
  }

  /**
   * A data error: commits the halves apart until the failing job is alone, so the others are not
   * held back by it. A transient error on the way stops the search: what is left goes to `retry`,
   * and the error is returned for the caller to requeue them.
   */
  private async isolate(jobs: Job[], err: unknown, retry: Job[]): Promise<unknown> {
    const [only] = jobs
    if (jobs.length === 1 && only) return this.refuse(only, err, retry)
    const mid = Math.ceil(jobs.length / 2)
    const halves = [jobs.slice(0, mid), jobs.slice(mid)]
    for (let h = 0; h < halves.length; h++) {
      const half = halves[h] ?? []
      const failure = await this.tryCommit(half)
      if (failure === undefined) continue
      const transient = classifyDbError(failure) === 'transient' ? failure : await this.isolate(half, failure, retry)
      if (transient !== undefined) {
        if (classifyDbError(failure) === 'transient') retry.push(...half)
        retry.push(...halves.slice(h + 1).flat())
        return transient
      }
    }
    return undefined
  }

  /**
   * One message whose rows the database refuses: its readings and dead letters are replaced by one
   * dead letter saying so, and the message is acknowledged. If even that row cannot be stored the
   * database itself is failing, not the message: it is retried like a transient error, so nothing
   * is ever acknowledged without a record of it.
   */
  private async refuse(job: Job, err: unknown, retry: Job[]): Promise<unknown> {
    const code = errorCode(err) ?? 'none'
    const message = err instanceof Error ? err.message : String(err)
    this.metrics.rejected.inc({ reason: 'rejected_by_database' })
    this.log.warn({ err, topic: job.origin?.topic, clientId: job.origin?.clientId, rows: job.readings.length }, 'the database refused a message; dead-lettered')
    const replacement: Job = {
      ...job,
      readings: [],
      deadLetters: [
        {
          receivedAt: job.origin?.receivedAt ?? new Date(job.queuedAt),
          clientId: job.origin?.clientId ?? null,
          topic: job.origin?.topic ?? '',
          deviceId: job.origin?.deviceId ?? job.readings[0]?.deviceId ?? null,
          reasonCode: 'rejected_by_database',
          reason: `${REJECT_REASONS.rejected_by_database} (SQLSTATE ${code}): ${message}`,
          payloadExcerpt: null,
        },
      ],
      resolve: () => job.resolve(0),
    }
    const failure = await this.tryCommit([replacement])
    if (failure === undefined) return undefined
    retry.push(job)
    return failure
  }

  /** Keeps the newest committed value per series for the next `latest` write. */
  private noteLatest(cols: ReadingColumns): void {
    for (let i = 0; i < cols.ts.length; i++) {
      const deviceId = cols.deviceIds[i] ?? ''
      const metric = cols.metrics[i] ?? ''
      const ts = cols.ts[i] ?? 0
      const key = `${deviceId}\u0000${metric}`
      const known = this.latestPending.get(key)
      if (!known || known.ts <= ts) this.latestPending.set(key, { deviceId, metric, ts, value: cols.values[i] ?? 0 })
    }
    if (this.latestPending.size > MAX_PENDING_LATEST) void this.flushLatest()
  }

  /** Writes the pending newest values; on failure they are kept (newer values win) for the next try. */
  private flushLatest(): Promise<void> {
    if (this.latestWrite || this.latestPending.size === 0) return this.latestWrite ?? Promise.resolve()
    const batch = [...this.latestPending.values()]
    this.latestPending.clear()
    const cols = emptyColumns()
    for (const r of batch) {
      cols.deviceIds.push(r.deviceId)
      cols.metrics.push(r.metric)
      cols.ts.push(r.ts)
      cols.values.push(r.value)
    }
    this.latestWrite = upsertLatest(this.db, cols)
      .catch((err: unknown) => {
        for (const r of batch) {
          const key = `${r.deviceId}\u0000${r.metric}`
          const newer = this.latestPending.get(key)
          if (!newer || newer.ts < r.ts) this.latestPending.set(key, r)
        }
        this.log.warn({ err, series: batch.length }, 'could not update latest values; will retry')
      })
      .finally(() => (this.latestWrite = undefined))
    return this.latestWrite
  }

  /** Puts the batch back at the head of the queue and retries after a capped, growing delay. */
  private onFailure(err: unknown, jobs: Job[], rows: number): void {
    this.metrics.writeFailures.inc()
    this.queue.unshift(...jobs)
    this.queuedRows += rows
    const base = this.opts.retryBaseMs ?? 100
    this.retryDelay = Math.min(this.retryDelay === 0 ? base : this.retryDelay * 2, this.opts.retryMaxMs ?? 5000)
    const now = Date.now()
    // One line at most every 10 s, so an outage does not flood the log.
    if (now - this.lastFailureLog > 10_000) {
      this.lastFailureLog = now
      this.log.error({ err, queuedRows: this.queuedRows, retryInMs: this.retryDelay }, 'batch commit failed; retrying')
    }
    if (!this.running || this.retryTimer) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.schedule()
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
    clearTimeout(this.lingerTimer)
    this.lingerTimer = undefined
    const deadline = Date.now() + timeoutMs
    while ((this.queue.length > 0 || this.inFlight.size > 0) && Date.now() < deadline) {
      if (this.retryTimer) {
        // A failing database during shutdown: keep trying until the deadline.
        clearTimeout(this.retryTimer)
        this.retryTimer = undefined
      }
      this.schedule()
      const remaining = Math.max(0, deadline - Date.now())
      await Promise.race([Promise.all(this.inFlight), new Promise((r) => setTimeout(r, remaining))])
      if (this.queue.length > 0 && this.retryDelay > 0) {
        await new Promise((r) => setTimeout(r, Math.min(this.retryDelay, Math.max(0, deadline - Date.now()))))
      }
    }
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    clearInterval(this.latestTimer)
    await this.flushLatest()
    for (const job of this.queue.splice(0)) job.reject(new WriterStoppedError())
    this.queuedRows = 0
  }
}
