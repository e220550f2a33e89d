// SQL for readings and the latest-value table.
import type { Queryable, Transaction } from '../db/client.ts'

/** Readings in columns, the shape the bulk insert sends (one array per column). */
export interface ReadingColumns {
  deviceIds: string[]
  metrics: string[]
  /** epoch milliseconds */
  ts: number[]
  values: number[]
}

export function emptyColumns(): ReadingColumns {
  return { deviceIds: [], metrics: [], ts: [], values: [] }
}

/**
 * Writes readings; a reading already stored (a redelivered QoS 1 message) is skipped by the
 * primary key. Returns how many were new.
 *
 * The batch goes in with COPY, 2–3 times faster than INSERT for the batch sizes ingest forms
 * (bench/ingest.ts, README "Benchmarks"). COPY cannot skip conflicts, so it runs under a savepoint;
 * when the batch holds a reading that is already stored (SQLSTATE 23505, a redelivery), the
 * savepoint is rolled back and the batch is written again with INSERT … ON CONFLICT DO NOTHING.
 */
export interface Written {
  inserted: number
  /** Whether the i-th reading was stored now (false: the same device, metric and time was there already). */
  isNew: (i: number) => boolean
}

const allNew = (n: number): Written => ({ inserted: n, isNew: () => true })

export async function writeReadings(tx: Transaction, cols: ReadingColumns): Promise<Written> {
  const n = cols.ts.length
  if (n === 0) return allNew(0)
  await tx.exec('SAVEPOINT readings_copy')
  try {
    await tx.copyFrom('readings (device_id, metric, ts, value)', copyText(cols))
    await tx.exec('RELEASE SAVEPOINT readings_copy')
    return allNew(n)
  } catch (err) {
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err
    await tx.exec('ROLLBACK TO SAVEPOINT readings_copy')
    return insertNewReadings(tx, cols)
  }
}

/** INSERT … ON CONFLICT DO NOTHING that tells which readings were new (a redelivery's are not; a reading twice in one batch counts once). */
export async function insertNewReadings(db: Queryable, cols: ReadingColumns): Promise<Written> {
  const rows = await db.query<{ d: string; m: string; t: number }>(
    `INSERT INTO readings (device_id, metric, ts, value)
     SELECT d, m, 'epoch'::timestamptz + t * INTERVAL '1 millisecond', v
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[]) AS u(d, m, t, v)
     ON CONFLICT (device_id, metric, ts) DO NOTHING
     RETURNING device_id AS d, metric AS m, (extract(epoch FROM ts) * 1000)::bigint AS t`,
    [cols.deviceIds, cols.metrics, cols.ts, cols.values],
  )
  const fresh = new Set(rows.map((r) => `${r.d}\u0000${r.m}\u0000${r.t}`))
  const marks = cols.ts.map((t, i) => fresh.delete(`${cols.deviceIds[i] ?? ''}\u0000${cols.metrics[i] ?? ''}\u0000${t}`))
  return { inserted: rows.length, isNew: (i) => marks[i] === true }
}

const UNIQUE_VIOLATION = '23505'

/**
 * COPY text format: one line per reading, tab-separated. Device ids and metric names cannot hold a
 * tab, newline or backslash (core/contract.ts: ID_PATTERN and the metric catalogue), so nothing
 * needs escaping; numbers print as PostgreSQL's float8 input reads them.
 */
function copyText(cols: ReadingColumns): string {
  const lines: string[] = new Array<string>(cols.ts.length)
  for (let i = 0; i < cols.ts.length; i++) {
    lines[i] = `${cols.deviceIds[i] ?? ''}\t${cols.metrics[i] ?? ''}\t${new Date(cols.ts[i] ?? 0).toISOString()}\t${cols.values[i] ?? 0}\n`
  }
  return lines.join('')
}

/** The same with INSERT … ON CONFLICT DO NOTHING: skips what is already stored. */
export async function insertReadings(db: Queryable, cols: ReadingColumns): Promise<number> {
  if (cols.ts.length === 0) return 0
  const [row] = await db.query<{ inserted: number }>(
    `WITH ins AS (
       INSERT INTO readings (device_id, metric, ts, value)
       SELECT d, m, 'epoch'::timestamptz + t * INTERVAL '1 millisecond', v
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[]) AS u(d, m, t, v)
       ON CONFLICT (device_id, metric, ts) DO NOTHING
       RETURNING 1
     )
     SELECT count(*)::int AS inserted FROM ins`,
    [cols.deviceIds, cols.metrics, cols.ts, cols.values],
  )
  return row?.inserted ?? 0
}

/**
 * Moves `latest` forward to the given values (one per device and metric), never backwards. Rows
 * are written in key order, so two writers cannot deadlock on them.
 */
export async function upsertLatest(db: Queryable, cols: ReadingColumns): Promise<void> {
  if (cols.ts.length === 0) return
  await db.query(
    `INSERT INTO latest (device_id, metric, ts, value)
     SELECT DISTINCT ON (d, m) d, m, 'epoch'::timestamptz + t * INTERVAL '1 millisecond', v
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[]) AS u(d, m, t, v)
     ORDER BY d, m, t DESC
     ON CONFLICT (device_id, metric) DO UPDATE
       SET ts = EXCLUDED.ts, value = EXCLUDED.value, received_at = now()
       WHERE latest.ts <= EXCLUDED.ts`,
    [cols.deviceIds, cols.metrics, cols.ts, cols.values],
  )
}

export interface LatestValue {
  metric: string
  ts: Date
  value: number
  receivedAt: Date
}

export async function latestFor(db: Queryable, deviceId: string): Promise<LatestValue[]> {
  return db.query<LatestValue>(
    'SELECT metric, ts, value, received_at AS "receivedAt" FROM latest WHERE device_id = $1 ORDER BY metric',
    [deviceId],
  )
}

export const AGGREGATES = ['avg', 'min', 'max', 'last', 'count'] as const
export type Aggregate = (typeof AGGREGATES)[number]

export interface BucketQuery {
  deviceId: string
  metric: string
  from: Date
  to: Date
  bucketMs: number
  agg: Aggregate
  limit: number
}

export interface Bucket {
  bucket: Date
  value: number
  count: number
}

/**
 * Buckets are aligned to 2000-01-03T00:00Z, the origin TimescaleDB's time_bucket uses for
 * intervals without months, so date_bin (plain PostgreSQL) and the continuous aggregates return
 * the same bucket boundaries for the same data.
 */
const ORIGIN = `'2000-01-03T00:00:00Z'::timestamptz`

const RAW_EXPR: Record<Aggregate, string> = {
  avg: 'avg(value)',
  min: 'min(value)',
  max: 'max(value)',
  last: '(array_agg(value ORDER BY ts DESC))[1]',
  count: 'count(*)::float8',
}

/** The same aggregates over a continuous aggregate's pre-computed buckets. */
const ROLLUP_EXPR: Record<Aggregate, string> = {
  avg: 'sum(sum) / sum(n)',
  min: 'min(min)',
  max: 'max(max)',
  last: '(array_agg(last ORDER BY bucket DESC))[1]',
  count: 'sum(n)::float8',
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE

/** Picks the coarsest continuous aggregate whose buckets tile the request exactly, if any. */
function rollupFor(q: BucketQuery): 'readings_1h' | 'readings_1m' | undefined {
  const aligned = (unit: number) =>
    q.bucketMs % unit === 0 && q.from.getTime() % unit === 0 && q.to.getTime() % unit === 0
  if (aligned(HOUR)) return 'readings_1h'
  if (aligned(MINUTE)) return 'readings_1m'
  return undefined
}

export async function bucketedReadings(db: Queryable, q: BucketQuery, timescale: boolean): Promise<Bucket[]> {
  const view = timescale ? rollupFor(q) : undefined
  const params = [q.deviceId, q.metric, q.from, q.to, `${q.bucketMs} milliseconds`, q.limit]
  const sql =
    view === undefined
      ? `SELECT date_bin($5::interval, ts, ${ORIGIN}) AS bucket, ${RAW_EXPR[q.agg]} AS value, count(*)::int AS count
         FROM readings
         WHERE device_id = $1 AND metric = $2 AND ts >= $3 AND ts < $4
         GROUP BY 1 ORDER BY 1 LIMIT $6`
      : `SELECT date_bin($5::interval, bucket, ${ORIGIN}) AS bucket, ${ROLLUP_EXPR[q.agg]} AS value, sum(n)::int AS count
         FROM ${view}
         WHERE device_id = $1 AND metric = $2 AND bucket >= $3 AND bucket < $4
         GROUP BY 1 ORDER BY 1 LIMIT $6`
  return db.query<Bucket>(sql, params)
}

export interface RawReading {
  ts: Date
  value: number
}

export async function rawReadings(
  db: Queryable,
  q: { deviceId: string; metric: string; from: Date; to: Date; limit: number },
): Promise<RawReading[]> {
  return db.query<RawReading>(
    `SELECT ts, value FROM readings WHERE device_id = $1 AND metric = $2 AND ts >= $3 AND ts < $4
     ORDER BY ts LIMIT $5`,
    [q.deviceId, q.metric, q.from, q.to, q.limit],
  )
}

/** Readings of some metrics since a time, oldest first (the rules engine's replay after a restart). */
export async function recentReadings(
  db: Queryable,
  metrics: readonly string[] | 'any',
  since: Date,
  limit: number,
  /** Only these devices (a rules engine's partition); undefined = all. */
  deviceIds?: readonly string[],
): Promise<{ deviceId: string; metric: string; ts: Date; value: number }[]> {
  return db.query(
    `SELECT device_id AS "deviceId", metric, ts, value FROM readings
     WHERE ts >= $1 AND ($2::text[] IS NULL OR metric = ANY($2)) AND ($4::text[] IS NULL OR device_id = ANY($4))
     ORDER BY ts LIMIT $3`,
    [since, metrics === 'any' ? null : metrics, limit, deviceIds ?? null],
  )
}

/**
 * When each device was last heard from, by the server's clock (the latest-value table's receive
 * time, not the device's own timestamp: the rules engine's no-data rules run on server time).
 */
export async function lastReportPerDevice(db: Queryable): Promise<{ deviceId: string; ts: Date }[]> {
  return db.query('SELECT device_id AS "deviceId", max(received_at) AS ts FROM latest GROUP BY device_id')
}
