// A device that publishes large messages faster than they commit must be held back by TCP, not
// buffered by the broker: only a bounded number of its publications may be in the broker at once,
// whatever their size. (Found by the chaos suite: a firehose of 256 KiB messages during a database
// outage took the broker from 274 MiB to 650 MiB; see broker/read-gate.ts for the cause.)
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'
import { startStack, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('backpressure on large publications', () => {
  let stack: TestStack
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>

  beforeAll(async () => {
    tdb = await createTestDatabase()
    stack = await startStack(tdb.url, { INGEST_BATCH_MAX_WAIT: '1ms' })
  })

  afterAll(async () => {
    await stack.stop()
    await tdb.drop()
  })

  it('stops reading a connection whose publications wait for a commit, however large they are', { timeout: 120_000 }, async () => {
    const client = await stack.connect('mh-1')
    // One message first, so the device is known and only the commits are held up.
    await client.publishAsync(topics.deviceTelemetry('mh-1'), '{"values":{"battery_pct":99}}', { qos: 1 })
    const db = new pg.Client({ connectionString: tdb.url })
    db.on('error', () => undefined)
    await db.connect()
    await db.query('BEGIN')
    await db.query('LOCK TABLE readings IN ACCESS EXCLUSIVE MODE')

    // 400 valid batches of 4,000 readings (about 190 KiB each, 75 MiB in all), sent without
    // waiting for their PUBACKs.
    const count = 400
    const base = Date.now() - 3_600_000
    const batch = (i: number) => JSON.stringify(Array.from({ length: 4000 }, (_, k) => ({ ts: base + i * 4000 + k, values: { battery_pct: k % 100 } })))
    const size = Buffer.byteLength(batch(0))
    const acks: Promise<unknown>[] = []
    for (let i = 0; i < count; i++) acks.push(client.publishAsync(topics.deviceTelemetry('mh-1'), batch(i), { qos: 1 }).catch(() => undefined))

    // What the broker has read, seen from its side. With the commits held, it may read what one
    // socket read brings (the packets of a read are handled together), not the 80 MiB on offer.
    const received = async () => (await stack.metrics.receivedBytes.get()).values[0]?.value ?? 0
    const before = await received()
    let peak = 0
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 300))
      peak = Math.max(peak, (await received()) - before)
    }
    console.log(`the broker read ${(peak / 2 ** 20).toFixed(1)} MiB of ${((count * size) / 2 ** 20).toFixed(1)} MiB while the commits were held`)
    expect(peak).toBeLessThan(16 * 2 ** 20)
    expect(peak).toBeGreaterThan(0)

    await db.query('ROLLBACK')
    await db.end()
    await Promise.all(acks)
    await client.endAsync()
  })
})
