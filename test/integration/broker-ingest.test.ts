// The data path against real parts: MQTT.js clients → Aedes → ingest → the PostgreSQL server.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import mqtt from 'mqtt'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { eventually, createTestDatabase, hasPostgres } from '../helpers/services.ts'
import { startStack, type TestStack } from '../helpers/stack.ts'

const run = promisify(execFile)
const pgUp = await hasPostgres()

interface Row {
  device_id: string
  metric: string
  ts: Date
  value: number
}

describe.skipIf(!pgUp)('broker + ingest on PostgreSQL', () => {
  let stack: TestStack
  let dropDb: () => Promise<void>
  let dbUrl: string

  beforeAll(async () => {
    const tdb = await createTestDatabase()
    dropDb = tdb.drop
    dbUrl = tdb.url
    stack = await startStack(tdb.url, { INGEST_BATCH_MAX_WAIT: '2ms' })
  })

  afterAll(async () => {
    await stack.stop()
    await dropDb()
  })

  const readings = (deviceId: string) =>
    stack.db.query<Row>('SELECT device_id, metric, ts, value FROM readings WHERE device_id = $1 ORDER BY metric, ts', [deviceId])
  const deadLetters = (deviceId: string) =>
    stack.db.query<{ reason_code: string; reason: string; payload_excerpt: string | null }>(
      'SELECT reason_code, reason, payload_excerpt FROM dead_letters WHERE device_id = $1 ORDER BY id',
      [deviceId],
    )

  it('stores every reading of an acknowledged message exactly once, and updates latest', async () => {
    const client = await stack.connect('mh-1')
    const ts = Date.UTC(2026, 0, 1, 8, 0, 0)
    await client.publishAsync(topics.deviceTelemetry('mh-1'), JSON.stringify({ ts, values: { water_level_cm: 12.5, cover_open: false, battery_pct: 88 } }), { qos: 1 })
    // PUBACK received means committed: no polling needed.
    const rows = await readings('mh-1')
    expect(rows.map((r) => [r.metric, r.value, r.ts.getTime()])).toEqual([
      ['battery_pct', 88, ts],
      ['cover_open', 0, ts],
      ['water_level_cm', 12.5, ts],
    ])
    // latest is derived and written at most INGEST_LATEST_FLUSH (1s) after the commit.
    const latest = () => stack.db.query<{ metric: string; value: number }>('SELECT metric, value FROM latest WHERE device_id = $1 ORDER BY metric', ['mh-1'])
    await expect.poll(latest, { timeout: 3000 }).toEqual([
      { metric: 'battery_pct', value: 88 },
      { metric: 'cover_open', value: 0 },
      { metric: 'water_level_cm', value: 12.5 },
    ])
  })

  it('a resend after a lost PUBACK (same readings again, DUP) is stored once', async () => {
    const client = await stack.connect('ft-1')
    const payload = JSON.stringify({ ts: Date.UTC(2026, 0, 1, 9), values: { water_level_m: 3.2 } })
    await client.publishAsync(topics.deviceTelemetry('ft-1'), payload, { qos: 1 })
    // The device did not see the PUBACK and sends the same message again, flagged DUP.
    await client.publishAsync(topics.deviceTelemetry('ft-1'), payload, { qos: 1, dup: true })
    await client.publishAsync(topics.deviceTelemetry('ft-1'), payload, { qos: 1 })
    const rows = await readings('ft-1')
    expect(rows).toHaveLength(1)
    const duplicates = (await stack.metrics.readingsDuplicate.get()).values[0]?.value
    expect(duplicates).toBe(2)
  })

  it('sends no PUBACK before the commit: a locked table holds it back, release lets it through', async () => {
    const client = await stack.connect('el-1')
    const holder = new pg.Client({ connectionString: dbUrl })
    await holder.connect()
    await holder.query('BEGIN')
    await holder.query('LOCK TABLE readings IN ACCESS EXCLUSIVE MODE')
    let acked = false
    const ts = Date.UTC(2026, 0, 1, 10)
    const publishing = client.publishAsync(topics.deviceTelemetry('el-1'), JSON.stringify({ ts, values: { car_load_kg: 640 } }), { qos: 1 }).then(() => {
      acked = true
    })
    await new Promise((r) => setTimeout(r, 1000))
    expect(acked).toBe(false)
    const seen = await holder.query('SELECT count(*)::int AS n FROM readings WHERE device_id = $1', ['el-1'])
    expect(seen.rows[0]).toEqual({ n: 0 })
    await holder.query('COMMIT')
    await holder.end()
    await publishing
    expect(acked).toBe(true)
    expect((await readings('el-1')).map((r) => [r.metric, r.value])).toEqual([['car_load_kg', 640]])
  })

  it('puts each kind of bad input in dead letters with its reason, stores the good part, keeps serving', async () => {
    const client = await stack.connect('mh-1')
    const t = topics.deviceTelemetry('mh-1')
    const now = Date.now()
    await client.publishAsync(t, '{"values": {', { qos: 1 })
    await client.publishAsync(t, JSON.stringify({ values: { water_level_cm: 'high' } }), { qos: 1 })
    await client.publishAsync(t, JSON.stringify({ ts: now, values: { speed_mps: 1 } }), { qos: 1 })
    await client.publishAsync(t, JSON.stringify({ ts: now, values: { gas_lel_pct: 250 } }), { qos: 1 })
    await client.publishAsync(t, JSON.stringify({ ts: now + 3_600_000, values: { gas_lel_pct: 1 } }), { qos: 1 })
    await client.publishAsync(t, JSON.stringify({ ts: Math.floor(now / 1000), values: { gas_lel_pct: 1 } }), { qos: 1 })
    // A batch with one bad entry: the other two are stored.
    await client.publishAsync(
      t,
      JSON.stringify([
        { ts: now - 2000, values: { rssi_dbm: -80 } },
        { ts: now - 1000, values: { rssi_dbm: 40 } },
        { ts: now, values: { rssi_dbm: -82 } },
      ]),
      { qos: 1 },
    )
    const dl = await deadLetters('mh-1')
    expect(dl.map((d) => d.reason_code)).toEqual([
      'malformed_json',
      'schema_violation',
      'unknown_metric',
      'out_of_range',
      'future_timestamp',
      'invalid_timestamp',
      'out_of_range',
    ])
    expect(dl[1]?.reason).toContain('values.water_level_cm')
    expect(dl[2]?.reason).toContain('"speed_mps" for a manhole')
    expect(dl[3]?.reason).toContain('gas_lel_pct = 250, expected 0..100')
    expect(dl[5]?.reason).toContain('looks like seconds')
    expect(dl[6]?.payload_excerpt).toBe('{"rssi_dbm":40}')
    const rssi = (await readings('mh-1')).filter((r) => r.metric === 'rssi_dbm').map((r) => r.value)
    expect(rssi).toEqual([-80, -82])
    // Still serving: the same connection publishes a good reading afterwards.
    await client.publishAsync(t, JSON.stringify({ values: { battery_pct: 50 } }), { qos: 1 })
    const stored = await stack.db.query<{ value: number }>("SELECT value FROM readings WHERE device_id = 'mh-1' AND metric = 'battery_pct' ORDER BY ts DESC LIMIT 1")
    expect(stored[0]?.value).toBe(50)
  })

  it('a gateway batch stores its children readings; a non-child lands in dead letters', async () => {
    const gw = await stack.connect('gw-1')
    const ts = Date.UTC(2026, 0, 2)
    await gw.publishAsync(
      topics.gatewayTelemetry('gw-1'),
      JSON.stringify({
        'mh-2': [{ ts, values: { water_level_cm: 5 } }, { ts: ts + 1000, values: { water_level_cm: 6 } }],
        'mh-3': [{ ts, values: { cover_tilt_deg: 2 } }],
        'mh-1': [{ ts, values: { cover_tilt_deg: 3 } }],
        'nope-9': [{ ts, values: { cover_tilt_deg: 3 } }],
      }),
      { qos: 1 },
    )
    expect((await readings('mh-2')).map((r) => r.value)).toEqual([5, 6])
    expect((await readings('mh-3')).map((r) => r.value)).toEqual([2])
    expect((await readings('mh-1')).filter((r) => r.ts.getTime() === ts)).toEqual([])
    expect((await deadLetters('mh-1')).at(-1)?.reason_code).toBe('not_a_child')
    expect((await deadLetters('nope-9')).map((d) => d.reason_code)).toEqual(['unknown_device'])
  })

  it('records the retained status and the Last Will', async () => {
    const client = await stack.connect('el-1', {
      clientId: 'el-1/will',
      will: { topic: topics.deviceStatus('el-1'), payload: Buffer.from('offline'), qos: 1, retain: true },
    })
    await client.publishAsync(topics.deviceStatus('el-1'), 'online', { qos: 1, retain: true })
    const status = async () => (await stack.db.query<{ status: string }>("SELECT status FROM device_status WHERE device_id = 'el-1'"))[0]?.status
    expect(await status()).toBe('online')
    // An unclean end (socket destroyed without DISCONNECT) makes the broker publish the will.
    client.stream.destroy()
    await eventually(async () => ((await status()) === 'offline' ? true : undefined), 5000, 'offline status')
  })

  it('refuses a wrong secret and an unknown device', async () => {
    const wrong = mqtt.connectAsync(stack.url, { clientId: 'mh-1/x1', username: 'mh-1', password: 'not-the-secret', reconnectPeriod: 0 })
    await expect(wrong).rejects.toThrow(/Bad username or password/i)
    const unknown = mqtt.connectAsync(stack.url, { clientId: 'ghost/x2', username: 'ghost', password: 'whatever', reconnectPeriod: 0 })
    await expect(unknown).rejects.toThrow(/Bad username or password/i)
  })

  it("refuses publishing outside one's own topics (connection closed, nothing stored)", async () => {
    const client = await stack.connect('mh-1', { clientId: 'mh-1/acl' })
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    client.publish(topics.deviceTelemetry('ft-1'), JSON.stringify({ ts: Date.UTC(2026, 0, 3), values: { water_level_m: 9 } }), { qos: 1 })
    await closed
    const rows = await stack.db.query("SELECT 1 FROM readings WHERE device_id = 'ft-1' AND ts = $1", [new Date(Date.UTC(2026, 0, 3))])
    expect(rows).toEqual([])
  })

  it("refuses subscribing to another device's data", async () => {
    const client = await stack.connect('mh-1', { clientId: 'mh-1/sub' })
    // SUBACK return code 0x80 = failure (MQTT 3.1.1 §3.9.3); MQTT.js rejects with the packet.
    await expect(client.subscribeAsync(topics.deviceTelemetry('ft-1'), { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } })
    await expect(client.subscribeAsync('hb/v1/devices/+/telemetry', { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } })
    await expect(client.subscribeAsync('hb/v1/#', { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } })
    const own = await client.subscribeAsync('hb/v1/devices/mh-1/commands', { qos: 1 })
    expect(own[0]?.qos).toBe(1)
  })

  it('takes a large batch, and cuts a connection that announces an oversized packet', async () => {
    const client = await stack.connect('ft-1', { clientId: 'ft-1/big' })
    const start = Date.UTC(2026, 0, 5)
    // About 0.5 MB: 8,000 entries, under the 1 MiB payload limit.
    const batch = Array.from({ length: 8000 }, (_, i) => ({ ts: start + i * 1000, values: { outlet_pressure_kpa: 300 + (i % 50) } }))
    await client.publishAsync(topics.deviceTelemetry('ft-1'), JSON.stringify(batch), { qos: 1 })
    const [count] = await stack.db.query<{ n: number }>("SELECT count(*)::int AS n FROM readings WHERE device_id = 'ft-1' AND metric = 'outlet_pressure_kpa'")
    expect(count?.n).toBe(8000)

    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    client.publish(topics.deviceTelemetry('ft-1'), Buffer.alloc(3 * 1024 * 1024, 0x20), { qos: 1 })
    await closed
    const refused = (await stack.metrics.authFailures.get()).values.find((v) => v.labels.reason === 'packet_too_large')
    expect(refused?.value).toBe(1)
  })

  it('stores a reading sent with the Debian mosquitto_pub client', async () => {
    const cred = stack.creds.get('ft-1')
    const ts = Date.UTC(2026, 0, 4)
    await run('mosquitto_pub', [
      '-h', '127.0.0.1', '-p', String(stack.unit.address?.port), '-q', '1',
      '-i', 'ft-1/cli', '-u', 'ft-1', '-P', cred?.secret ?? '',
      '-t', topics.deviceTelemetry('ft-1'), '-m', JSON.stringify({ ts, values: { water_temp_c: 7.5 } }),
    ])
    const rows = await readings('ft-1')
    expect(rows.find((r) => r.ts.getTime() === ts)).toMatchObject({ metric: 'water_temp_c', value: 7.5 })
  })
})
