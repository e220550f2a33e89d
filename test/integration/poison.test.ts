// One device's message, however malformed, cannot stop ingestion for everyone (issue 7, items 1,
// 5, 15 and 17): it is stored or dead-lettered with a reason, acknowledged, and the connection and
// every other device carry on. Against the PostgreSQL server, which refuses U+0000 in text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'
import { startStack, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

/** Resolves with 'acked', or 'not acked' when no PUBACK came within a generous bound. */
function acked(p: Promise<unknown>): Promise<'acked' | 'not acked'> {
  return Promise.race([p.then(() => 'acked' as const), new Promise<'not acked'>((r) => setTimeout(() => r('not acked'), 8000))])
}

describe.skipIf(!pgUp)('poisonous messages', () => {
  let stack: TestStack
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>

  beforeAll(async () => {
    tdb = await createTestDatabase()
    stack = await startStack(tdb.url, { INGEST_BATCH_MAX_WAIT: '2ms' })
  })

  afterAll(async () => {
    await stack.stop()
    await tdb.drop()
  })

  const deadLetters = (deviceId: string) =>
    stack.db.query<{ reason_code: string; reason: string; payload_excerpt: string | null }>(
      'SELECT reason_code, reason, payload_excerpt FROM dead_letters WHERE device_id = $1 ORDER BY id',
      [deviceId],
    )

  it('dead-letters a metric name holding U+0000 and keeps acknowledging every device', async () => {
    const bad = await stack.connect('mh-1')
    const good = await stack.connect('ft-1')
    expect(await acked(bad.publishAsync(topics.deviceTelemetry('mh-1'), '{"values":{"a\\u0000b":1}}', { qos: 1 }))).toBe('acked')
    expect(await acked(good.publishAsync(topics.deviceTelemetry('ft-1'), JSON.stringify({ ts: Date.now(), values: { battery_pct: 77 } }), { qos: 1 }))).toBe('acked')
    const rows = await stack.db.query('SELECT 1 FROM readings WHERE device_id = $1', ['ft-1'])
    expect(rows).toHaveLength(1)
    const [letter] = await deadLetters('mh-1')
    expect(letter?.reason_code).toBe('unknown_metric')
    expect(letter?.reason).toContain('a\\u0000b')
    await Promise.all([bad.endAsync(), good.endAsync()])
  })

  it('dead-letters a payload nested 10,000 levels deep, acknowledges it and keeps the connection', async () => {
    const client = await stack.connect('el-1')
    let closed = false
    client.on('close', () => (closed = true))
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`
    expect(await acked(client.publishAsync(topics.deviceTelemetry('el-1'), deep, { qos: 1 }))).toBe('acked')
    // The good message behind it is stored and acknowledged on the same connection.
    expect(await acked(client.publishAsync(topics.deviceTelemetry('el-1'), JSON.stringify({ ts: Date.now(), values: { speed_mps: 1 } }), { qos: 1 }))).toBe('acked')
    expect(closed).toBe(false)
    const letters = await deadLetters('el-1')
    expect(letters.map((l) => l.reason_code)).toEqual(['too_deep'])
    expect(letters[0]?.payload_excerpt?.length).toBeLessThanOrEqual(520)
    await client.endAsync()
  })

  it('records a gateway message of 10,000 invalid entries in at most 100 dead letters, the last summing up the rest', async () => {
    const gw = await stack.connect('gw-1')
    const entries = Array.from({ length: 10_000 }, (_, i) => ({ ts: Date.now(), values: { [`bogus_${i}`]: 1 } }))
    expect(await acked(gw.publishAsync(topics.gatewayTelemetry('gw-1'), JSON.stringify({ 'mh-2': entries }), { qos: 1 }))).toBe('acked')
    const letters = await deadLetters('mh-2')
    expect(letters).toHaveLength(100)
    expect(letters[99]?.reason).toMatch(/^9901 more rejections in this message \(unknown_metric\)/)
    await gw.endAsync()
  })

  it('stores an entry with ts once however often it is redelivered, and an entry without ts once per delivery', async () => {
    // A QoS 1 redelivery (PUBACK lost) is the same payload arriving again. Without `ts` the
    // receive time stamps the reading, so each delivery is a reading of its own (README, "Ingest").
    const client = await stack.connect('mh-3', { clientId: 'mh-3' })
    const withTs = JSON.stringify({ ts: Date.now() - 1000, seq: 1, values: { water_level_cm: 10 } })
    const withoutTs = JSON.stringify({ seq: 2, values: { gas_lel_pct: 1 } })
    for (let i = 0; i < 2; i++) {
      await client.publishAsync(topics.deviceTelemetry('mh-3'), withTs, { qos: 1 })
      await client.publishAsync(topics.deviceTelemetry('mh-3'), withoutTs, { qos: 1 })
      await new Promise((r) => setTimeout(r, 5))
    }
    const rows = await stack.db.query<{ metric: string; n: number }>('SELECT metric, count(*)::int AS n FROM readings WHERE device_id = $1 GROUP BY metric ORDER BY metric', ['mh-3'])
    expect(rows).toEqual([
      { metric: 'gas_lel_pct', n: 2 },
      { metric: 'water_level_cm', n: 1 },
    ])
    await client.endAsync()
  })
})
