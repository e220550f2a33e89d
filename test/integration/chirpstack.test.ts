// The ChirpStack v4 integration against Mosquitto on 127.0.0.1:1883 standing in for ChirpStack's
// broker, with the events of ChirpStack's documentation and real sensor uplinks
// (test/fixtures/chirpstack, with their sources): `up` with ChirpStack's `object` or with only
// base64 `data` decoded by the device's profile, unknown DevEUIs and failing decoders
// dead-lettered while other devices keep flowing, `join` / `status` as online and battery, and
// events held (unacknowledged) while the database is unreachable.
import { randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics, type Metrics } from '../../core/metrics.ts'
import { SHIPPED_PROFILES } from '../../core/profiles/catalogue.ts'
import { profileSchema } from '../../core/profiles/schema.ts'
import { getDeviceStatus, updateDevice } from '../../core/repos/devices.ts'
import { seedProfiles, upsertProfile } from '../../core/repos/profiles.ts'
import { ChirpStackIntegration, chirpstackTopic } from '../../intake/chirpstack.ts'
import { IngestService } from '../../ingest/service.ts'
import { MOSQUITTO, createTestDatabase, eventually, hasMosquitto, hasPostgres } from '../helpers/services.ts'
import { FIXTURE_PAST_AGE, seed } from '../helpers/stack.ts'
import { tcpProxy } from '../helpers/tcp-proxy.ts'

const ready = (await hasPostgres()) && (await hasMosquitto())
const MOSQUITTO_URL = `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/chirpstack/${name}`, import.meta.url), 'utf8')) as Record<string, unknown> & { deviceInfo: Record<string, unknown> }

/** The fixture's devEui (or another), for publishing it as a given device. */
function withEui(event: ReturnType<typeof fixture>, devEui: string): ReturnType<typeof fixture> {
  return { ...event, deviceInfo: { ...event.deviceInfo, devEui } }
}

describe.skipIf(!ready)('ChirpStack v4 integration on Mosquitto', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db
  let ingest: IngestService
  let unit: ChirpStackIntegration
  let metrics: Metrics
  let pub: MqttClient
  // Its own application id and client id: other test files share the broker.
  const app = randomUUID()
  const clientId = `hb-test-chirpstack-${randomBytes(4).toString('hex')}`

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
    await migrate(db, { log: silentLogger })
    await seed(db)
    const profiles = SHIPPED_PROFILES.map((p) => profileSchema.parse(p))
    await seedProfiles(db, profiles.map((p) => ({ id: p.id, kind: p.kind, definition: p })))
    const throws = { id: 'throws', name: 'A decoder that throws', kind: 'elevator', decoder: { script: 'function decodeUplink(input) { throw new Error("boom at byte " + input.bytes[0]) }' } }
    await upsertProfile(db, { id: 'throws', kind: 'elevator', definition: throws })
    await updateDevice(db, 'mh-1', { devEui: '24e124710b423527', profileId: 'milesight-em320-tilt' })
    await updateDevice(db, 'mh-2', { devEui: '0101010101010101' })
    await updateDevice(db, 'ft-1', { devEui: 'a84041000181c7a9', profileId: 'dragino-ldds75-tank' })
    await updateDevice(db, 'el-1', { devEui: 'e1e1e1e1e1e1e1e1', profileId: 'throws' })

    metrics = createMetrics({ defaults: false })
    ingest = new IngestService(db, loadConfig({ INGEST_MAX_PAST_AGE: FIXTURE_PAST_AGE }).ingest, silentLogger, metrics)
    unit = new ChirpStackIntegration(db, ingest.pipeline, { url: MOSQUITTO_URL, clientId, applicationId: app, ackWindow: 0, maxEventBytes: 64 * 1024 }, silentLogger, metrics)
    await ingest.start()
    await unit.start()
    pub = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `hb-test-chirpstack-pub-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0 })
  })

  afterAll(async () => {
    await pub.endAsync()
    await unit.stop()
    await ingest.stop()
    // Drop the persistent session this test left in Mosquitto (a clean connect discards it).
    const c = await mqtt.connectAsync(MOSQUITTO_URL, { clientId, clean: true, reconnectPeriod: 0 })
    await c.endAsync()
    await db.close()
    await tdb.drop()
  })

  const publish = (event: ReturnType<typeof fixture>, type: string) =>
    pub.publishAsync(chirpstackTopic(app, String(event.deviceInfo.devEui), type), JSON.stringify(event), { qos: 1 })
  const readings = (id: string) => db.query<{ metric: string; value: number; ts: Date }>('SELECT metric, value, ts FROM readings WHERE device_id = $1 ORDER BY metric, ts', [id])
  const deadLetters = (id: string) => db.query<{ reason_code: string; reason: string; topic: string }>('SELECT reason_code, reason, topic FROM dead_letters WHERE device_id = $1 ORDER BY id', [id])
  const until = <T>(check: () => Promise<T[]>, n: number, what: string) => eventually(async () => ((await check()).length >= n ? check() : undefined), 15_000, what)

  it("stores a real EM320-TILT uplink from base64 `data`, decoded by the device's profile, at the event's time", async () => {
    await publish(fixture('up-em320-tilt.json'), 'up')
    const rows = await until(() => readings('mh-1'), 2, 'the EM320-TILT readings')
    const at = new Date('2022-07-18T09:34:15.775Z')
    expect(rows).toEqual([
      { metric: 'battery_pct', value: 100, ts: at },
      { metric: 'cover_tilt_deg', value: 0, ts: at },
    ])
  })

  it("stores ChirpStack's decoded `object` when the event carries one", async () => {
    await publish(fixture('up-object.json'), 'up')
    const rows = await until(() => readings('mh-2'), 2, 'the readings of the object')
    expect(rows.map((r) => [r.metric, r.value])).toEqual([
      ['battery_pct', 88],
      ['cover_tilt_deg', 12.5],
    ])
  })

  it('dead-letters an unknown DevEUI, naming it', async () => {
    await publish(withEui(fixture('up-ldds75.json'), 'ffffffffffffffff'), 'up')
    const [letter] = await until(() => deadLetters('deveui:ffffffffffffffff'), 1, 'the unknown_device dead letter')
    expect(letter).toMatchObject({ reason_code: 'unknown_device', topic: chirpstackTopic(app, 'ffffffffffffffff', 'up') })
    expect(letter?.reason).toContain('ffffffffffffffff')
  })

  it("dead-letters a decoder that throws and one that reports an error, while other devices' uplinks are stored", async () => {
    await publish(withEui(fixture('up.json'), 'e1e1e1e1e1e1e1e1'), 'up')
    await publish(fixture('up-ldds75-unknown-fport.json'), 'up')
    await publish(fixture('up-ldds75.json'), 'up')
    const [thrown] = await until(() => deadLetters('el-1'), 1, 'the dead letter of the throwing decoder')
    expect(thrown?.reason_code).toBe('decoder_failed')
    expect(thrown?.reason).toContain('boom at byte 170')
    const [fport] = await until(() => deadLetters('ft-1'), 1, 'the dead letter of the unknown fPort')
    expect(fport).toMatchObject({ reason_code: 'decoder_failed' })
    expect(fport?.reason).toContain('unknown fPort 42')
    // LDDS75 on a 4.0 m mount: 4.0 − 2.821 m of distance = 1.179 m of water.
    const rows = await until(() => readings('ft-1'), 1, 'the LDDS75 reading')
    expect(rows.map((r) => [r.metric, r.value])).toEqual([['water_level_m', 1.179]])
  })

  it('dead-letters bytes of a device without a decoding profile as no_decoder', async () => {
    await updateDevice(db, 'mh-3', { devEui: '0303030303030303' })
    await publish(withEui(fixture('up.json'), '0303030303030303'), 'up')
    const [letter] = await until(() => deadLetters('mh-3'), 1, 'the no_decoder dead letter')
    expect(letter?.reason_code).toBe('no_decoder')
  })

  it("follows a device given a profile, and the profile edited, from the next uplink (the unit's caches are dropped on the change)", async () => {
    // mh-3 meets the unit's caches without a profile first; ChirpStack's example frame is the one byte 0xAA (170).
    await updateDevice(db, 'mh-3', { devEui: '0303030303030303', profileId: null })
    const before = (await deadLetters('mh-3')).length
    await publish({ ...withEui(fixture('up.json'), '0303030303030303'), time: '2025-12-31T00:00:00Z' }, 'up')
    await until(() => deadLetters('mh-3'), before + 1, 'the no_decoder dead letter before the change')
    const batteryFrom = (offset: number) => ({ id: 'byte-battery', name: 'Battery in byte 0', kind: 'manhole', decoder: { script: `function decodeUplink(input) { return { data: { battery_pct: input.bytes[0] - ${offset} } } }` } })
    await upsertProfile(db, { id: 'byte-battery', kind: 'manhole', definition: batteryFrom(100) })
    await updateDevice(db, 'mh-3', { profileId: 'byte-battery' })
    const battery = async (value: number) => (await readings('mh-3')).some((r) => r.metric === 'battery_pct' && r.value === value)
    let t = Date.parse('2026-01-01T00:00:00Z')
    // Each attempt is a new uplink (its own time): the first after the change is decoded by the new profile.
    const uplinkUntil = (value: number, what: string) =>
      eventually(async () => {
        await publish({ ...withEui(fixture('up.json'), '0303030303030303'), time: new Date((t += 1000)).toISOString() }, 'up')
        return (await battery(value)) ? true : undefined
      }, 15_000, what)
    await uplinkUntil(70, 'the uplink decoded by the profile the device was given')
    await upsertProfile(db, { id: 'byte-battery', kind: 'manhole', definition: batteryFrom(120) })
    await uplinkUntil(50, 'the uplink decoded by the edited profile')
  })

  it('turns join into online, status into online and battery, and skips txack and log', async () => {
    await db.query("DELETE FROM device_status WHERE device_id IN ('mh-2', 'mh-1')")
    await publish(withEui(fixture('join.json'), '24e124710b423527'), 'join')
    await eventually(async () => ((await getDeviceStatus(db, 'mh-1'))?.status === 'online' ? true : undefined), 15_000, 'mh-1 online after join')
    await publish(fixture('txack.json'), 'txack')
    await publish(fixture('log.json'), 'log')
    await publish(fixture('status.json'), 'status')
    const battery = async () => (await readings('mh-2')).filter((r) => r.metric === 'battery_pct' && r.ts.getTime() === Date.parse('2022-07-18T09:35:06.927Z'))
    const [row] = await until(battery, 1, 'the battery level of the status event')
    expect(row?.value).toBeCloseTo(88.3)
    expect((await getDeviceStatus(db, 'mh-2'))?.status).toBe('online')
    // The skipped events were received (counted) and stored nothing: the status came after them.
    const counted = async (event: string) => (await metrics.chirpstackEvents.get()).values.find((v) => v.labels.event === event)?.value
    expect(await counted('txack')).toBe(1)
    expect(await counted('log')).toBe(1)
    expect(await deadLetters('mh-2')).toEqual([])
  })

  it('dead-letters an event larger than CHIRPSTACK_MAX_EVENT_BYTES', async () => {
    const big = { ...withEui(fixture('up-object.json'), '0202020202020202'), padding: 'x'.repeat(70 * 1024) }
    await publish(big, 'up')
    const [letter] = await until(() => deadLetters('deveui:0202020202020202'), 1, 'the payload_too_large dead letter')
    expect(letter?.reason_code).toBe('payload_too_large')
  })

  it('holds events while the database is unreachable and stores them when it is back', async () => {
    // A second integration whose database connections run through a proxy that can cut them.
    const proxy = tcpProxy()
    const port = await proxy.start()
    const db2 = await openDb({ url: `postgres://postgres@127.0.0.1:${port}/${tdb.name}` })
    const ingest2 = new IngestService(db2, loadConfig({ INGEST_MAX_PAST_AGE: FIXTURE_PAST_AGE }).ingest, silentLogger, createMetrics({ defaults: false }))
    const app2 = randomUUID()
    const clientId2 = `hb-test-chirpstack-${randomBytes(4).toString('hex')}`
    const unit2 = new ChirpStackIntegration(db2, ingest2.pipeline, { url: MOSQUITTO_URL, clientId: clientId2, applicationId: app2, ackWindow: 0, maxEventBytes: 64 * 1024 }, silentLogger)
    await ingest2.start()
    await unit2.start()
    try {
      proxy.cut()
      const times = ['2022-07-19T01:00:00.000Z', '2022-07-19T01:00:01.000Z', '2022-07-19T01:00:02.000Z']
      for (const time of times) {
        const event = { ...fixture('up-em320-tilt.json'), time }
        await pub.publishAsync(chirpstackTopic(app2, '24e124710b423527', 'up'), JSON.stringify(event), { qos: 1 })
      }
      const held = async () => (await readings('mh-1')).filter((r) => r.ts >= new Date(times[0] ?? ''))
      await new Promise((r) => setTimeout(r, 1500))
      expect(await held()).toEqual([])
      proxy.restore()
      // Two readings per event, all three events, once the database answers again.
      expect(await until(held, 6, 'the held events to be stored')).toHaveLength(6)
    } finally {
      proxy.restore()
      await unit2.stop()
      await ingest2.stop()
      await db2.close()
      await proxy.stop()
      const c = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: clientId2, clean: true, reconnectPeriod: 0 })
      await c.endAsync()
    }
  })

  it('dead-letters an event that is not JSON (a ChirpStack set to Protobuf)', async () => {
    await pub.publishAsync(chirpstackTopic(app, '0101010101010101', 'up'), Buffer.from([0x0a, 0x24, 0x33, 0x61]), { qos: 1 })
    const [letter] = await until(() => deadLetters('deveui:0101010101010101'), 1, 'the malformed_json dead letter')
    expect(letter?.reason_code).toBe('malformed_json')
    expect(letter?.reason).toContain('json=true')
  })
})
