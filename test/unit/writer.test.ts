// The group-commit writer on the embedded database: many submitters share few transactions,
// redelivered readings are stored once (COPY falls back to INSERT … ON CONFLICT), `latest` follows
// within its flush interval, and a full queue makes submitters wait.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics, type Metrics } from '../../core/metrics.ts'
import { IngestWriter, WriterStoppedError, type WriterOptions } from '../../ingest/writer.ts'
import type { Reading } from '../../core/telemetry.ts'

let db: Db
let metrics: Metrics
const T0 = Date.UTC(2026, 1, 1)

beforeAll(async () => {
  db = await openDb({})
  await migrate(db, { log: silentLogger })
})
afterAll(async () => {
  await db.close()
})
beforeEach(async () => {
  await db.exec('TRUNCATE readings, latest, dead_letters')
  metrics = createMetrics({ defaults: false })
})

const reading = (device: string, i: number, value = i): Reading => ({ deviceId: device, metric: 'battery_pct', ts: T0 + i * 1000, value })
const count = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings'))[0]?.n
const writer = (opts: Partial<WriterOptions> = {}) => {
  const w = new IngestWriter(db, { maxBatchRows: 10_000, maxWaitMs: 0, maxQueueRows: 100_000, latestFlushMs: 50, ...opts }, silentLogger, metrics)
  w.start()
  return w
}
const histogramCount = async () => (await metrics.batchRows.get()).values.find((v) => v.metricName === 'hb_ingest_batch_rows_count')?.value ?? 0

describe('ingest writer', () => {
  it('commits 200 concurrent submitters in a handful of transactions, every reading once', async () => {
    const w = writer()
    await Promise.all(Array.from({ length: 200 }, (_, i) => w.submit([reading(`d${i % 20}`, i)])))
    expect(await count()).toBe(200)
    // Two transactions in flight; everything that queued meanwhile rode along.
    expect(await histogramCount()).toBeLessThan(20)
    await w.stop()
  })

  it('stores a redelivered batch once, also when the duplicate is inside one batch', async () => {
    const w = writer()
    const batch = Array.from({ length: 50 }, (_, i) => reading('dup', i))
    await w.submit(batch)
    expect(await w.submit([...batch, reading('dup', 99)])).toBe(51)
    await w.submit([reading('dup', 200), reading('dup', 200)])
    expect(await count()).toBe(52)
    const dupes = (await metrics.readingsDuplicate.get()).values[0]?.value
    expect(dupes).toBe(51)
    await w.stop()
  })

  it('moves latest forward within its flush interval, never backwards', async () => {
    const w = writer({ latestFlushMs: 50 })
    await w.submit([reading('lt', 10, 80)])
    await w.submit([reading('lt', 5, 20)]) // older: must not win
    const latest = () => db.query<{ value: number }>("SELECT value FROM latest WHERE device_id = 'lt'")
    await expect.poll(latest, { timeout: 2000 }).toEqual([{ value: 80 }])
    await w.submit([reading('lt', 11, 75)])
    await expect.poll(latest, { timeout: 2000 }).toEqual([{ value: 75 }])
    await w.stop()
  })

  it('writes latest in the batch transaction when the flush interval is 0', async () => {
    const w = writer({ latestFlushMs: 0 })
    await w.submit([reading('now', 1, 33)])
    expect(await db.query("SELECT value FROM latest WHERE device_id = 'now'")).toEqual([{ value: 33 }])
    await w.stop()
  })

  it('makes submitters wait while the queue is full, and rejects new work after stop', async () => {
    const w = writer({ maxQueueRows: 10, maxInFlight: 1 })
    let peak = 0
    const watch = setInterval(() => (peak = Math.max(peak, w.pendingRows)), 1)
    await Promise.all(Array.from({ length: 30 }, (_, i) => w.submit([reading('bp', i), reading('bp', i + 1000)])))
    clearInterval(watch)
    expect(peak).toBeLessThanOrEqual(10)
    expect(await count()).toBe(60)
    await w.stop()
    await expect(w.submit([reading('bp', 5000)])).rejects.toBeInstanceOf(WriterStoppedError)
  })
})

describe('ingest writer: a message the database refuses', () => {
  /** Settles with the values, or with 'stalled' when they have not settled within a generous bound. */
  const settled = <T>(p: Promise<T>) => Promise.race([p, new Promise<'stalled'>((r) => setTimeout(() => r('stalled'), 10_000))])

  it('commits every other message of the batch and dead-letters the refused one instead of retrying it forever', async () => {
    const w = writer({ maxWaitMs: 5 })
    const origin = { topic: 'hb/v1/devices/bad/telemetry', clientId: 'bad\u0000client', deviceId: 'bad', receivedAt: new Date(T0) }
    // U+0000 reaches the writer only through a bug upstream; PostgreSQL refuses it (22021) every time.
    const poison = w.submit([{ deviceId: 'bad', metric: 'a\u0000b', ts: T0, value: 1 }], [], origin)
    const good = Array.from({ length: 40 }, (_, i) => w.submit([reading(`g${i % 4}`, i)]))
    const results = await settled(Promise.all([poison, ...good]))
    expect(results).not.toBe('stalled')
    expect(results).toEqual([0, ...good.map(() => 1)])
    expect(await count()).toBe(40)
    const rows = await db.query<{ reason_code: string; reason: string; client_id: string }>('SELECT reason_code, reason, client_id FROM dead_letters')
    expect(rows).toHaveLength(1)
    expect(rows[0]?.reason_code).toBe('rejected_by_database')
    expect(rows[0]?.reason).toMatch(/SQLSTATE 22021/)
    expect(rows[0]?.client_id).toBe('bad\\u0000client')
    // The writer keeps serving afterwards.
    expect(await settled(w.submit([reading('after', 1)]))).toBe(1)
    await w.stop()
  })

  it('stores dead letters whose device-supplied text holds NUL or lone surrogates, escaped and bounded', async () => {
    const w = writer()
    const letter = {
      receivedAt: new Date(T0),
      clientId: 'c\u0000',
      topic: 'hb/v1/devices/x/telemetry',
      deviceId: 'x',
      reasonCode: 'unknown_metric' as const,
      reason: `"a\u0000b\ud800" ${'x'.repeat(100_000)}`,
      payloadExcerpt: '{"a\u0000b":1}',
    }
    expect(await settled(w.submit([], [letter]))).toBe(0)
    const [row] = await db.query<{ reason: string; payload_excerpt: string }>('SELECT reason, payload_excerpt FROM dead_letters')
    expect(row?.reason.startsWith('"a\\u0000b\\ud800"')).toBe(true)
    expect(row?.reason.length).toBeLessThanOrEqual(1000)
    expect(row?.payload_excerpt).toBe('{"a\\u0000b":1}')
    await w.stop()
  })
})
