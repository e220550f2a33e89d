// The database goes away under load: acknowledgements stop, memory stays bounded, and the
// ingest recovers by itself when the database is back.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { PG_ADMIN_URL, createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { startStack, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('database outage', () => {
  // Both halves of the path wait out the outage: device lookups (cold cache) and batch commits.
  let stack: TestStack
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL })

  beforeAll(async () => {
    tdb = await createTestDatabase()
    stack = await startStack(tdb.url, { INGEST_QUEUE_MAX_ROWS: '20', INGEST_BATCH_MAX_WAIT_MS: '1' })
    await admin.connect()
  })

  afterAll(async () => {
    await admin.query(`ALTER DATABASE ${tdb.name} ALLOW_CONNECTIONS true`).catch(() => undefined)
    await admin.end()
    await stack.stop()
    await tdb.drop()
  })

  it('holds PUBACKs while the database is unreachable, bounds the queue, and recovers without a restart', async () => {
    const clients = await Promise.all(['mh-1', 'ft-1', 'el-1'].map((id) => stack.connect(id)))
    // One message each first, so the devices are known and the outage hits the writes.
    await Promise.all(clients.map((c, i) => c.publishAsync(topics.deviceTelemetry(['mh-1', 'ft-1', 'el-1'][i] ?? ''), '{"values":{"battery_pct":99}}', { qos: 1 })))
    // Take the database away: no new connections, existing ones killed.
    await admin.query(`ALTER DATABASE ${tdb.name} ALLOW_CONNECTIONS false`)
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [tdb.name])

    const base = Date.UTC(2026, 2, 1)
    let acked = 0
    const metricOf: Record<string, string> = { 'mh-1': 'battery_pct', 'ft-1': 'battery_pct', 'el-1': 'car_load_kg' }
    const publishes = clients.flatMap((client, c) =>
      Array.from({ length: 20 }, (_, i) => {
        const id = ['mh-1', 'ft-1', 'el-1'][c] ?? ''
        const payload = JSON.stringify({ ts: base + i * 1000, values: { [metricOf[id] ?? '']: 10 + i } })
        return client.publishAsync(topics.deviceTelemetry(id), payload, { qos: 1 }).then(() => {
          acked++
        })
      }),
    )
    let maxPending = 0
    const watch = setInterval(() => {
      maxPending = Math.max(maxPending, stack.unit.ingest.writer.pendingRows)
    }, 10)
    await new Promise((r) => setTimeout(r, 2000))
    expect(acked).toBe(0)
    // Bounded: the queue limit (20 rows) plus at most one message that entered an empty queue.
    expect(stack.unit.ingest.writer.pendingRows).toBeLessThanOrEqual(20)

    await admin.query(`ALTER DATABASE ${tdb.name} ALLOW_CONNECTIONS true`)
    await Promise.all(publishes)
    clearInterval(watch)
    expect(acked).toBe(60)
    expect(maxPending).toBeLessThanOrEqual(20)
    const [count] = await stack.db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE ts >= $1 AND ts < $2', [new Date(base), new Date(base + 60_000)])
    expect(count?.n).toBe(60)
    const failures = (await stack.metrics.writeFailures.get()).values[0]?.value ?? 0
    expect(failures).toBeGreaterThan(0)
  })

  it('serves normally after the outage', async () => {
    const client = await stack.connect('mh-1', { clientId: 'mh-1/after' })
    await client.publishAsync(topics.deviceTelemetry('mh-1'), JSON.stringify({ values: { gas_lel_pct: 3 } }), { qos: 1 })
    await eventually(async () => {
      const rows = await stack.db.query("SELECT 1 FROM latest WHERE device_id = 'mh-1' AND metric = 'gas_lel_pct'")
      return rows.length === 1 ? true : undefined
    })
  })
})
