// Several broker processes sharing Redis (issue 11), as separate real processes killed for real:
// a device may connect to either; routing and retained status cross between them; a client id
// moves from one to the other; a QoS 1 publisher whose broker is kill -9'd resends to the other
// and every PUBACKed reading is stored exactly once; a persistent subscriber whose broker is
// killed resumes its session on the other and gets what was queued meanwhile; and a dead
// broker's Last Wills are published (and stored) by a survivor, except for a device that has
// already come back. The counts are printed.
import { randomBytes } from 'node:crypto'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { getDeviceStatus } from '../../core/repos/devices.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { clearRedisTag, startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.ts'
import { SeqPublisher, checkStored } from '../helpers/seq-publisher.ts'
import { REDIS_URL, createTestDatabase, eventually, hasPostgres, hasRedis } from '../helpers/services.ts'

const up = (await hasPostgres()) && (await hasRedis())

// Keys and topics of this run carry a tag of their own, so runs sharing the Redis server do not
// meet. (Redis pub/sub ignores the database number, so a database of its own would not be enough.)
const TAG = randomBytes(3).toString('hex')
const id = (name: string) => `${name}-${TAG}`
const DEVICES = ['takeover', 'publisher', 'queued', 'will-gone', 'will-back'].map(id)
const METRIC = 'machine_room_temp_c'

describe.skipIf(!up)('two broker processes sharing Redis', () => {
  let db: Db
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  const secrets = new Map<string, string>()
  let serviceToken: string
  const brokers: BrokerProcess[] = []
  const clients: MqttClient[] = []
  let a: BrokerProcess
  let b: BrokerProcess

  const start = async () => {
    // A heartbeat of 1 s: a dead broker's Wills follow within 3–7 s instead of 15–35 s.
    const p = await startBrokerProcess({ DATABASE_URL: tdb.url, REDIS_URL, MQTT_CLUSTER_HEARTBEAT: '1s' })
    brokers.push(p)
    return p
  }

  /**
   * A connection that reports its end instead of failing the test (its broker may be killed).
   * `onMessage` is attached before CONNACK: a resumed session's queued messages may arrive in the
   * same read as the CONNACK, before an `await` on the connection returns.
   */
  const connect = async (url: string, opts: IClientOptions, onMessage?: (topic: string, payload: Buffer) => void) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 30_000, ...opts })
    client.on('error', () => undefined)
    if (onMessage) client.on('message', onMessage)
    clients.push(client)
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('close', () => reject(new Error(`no connection to ${url}`)))
    })
    return client
  }
  const device = (url: string, deviceId: string, extra: IClientOptions = {}) =>
    connect(url, { clientId: deviceId, username: deviceId, password: secrets.get(deviceId) ?? '', ...extra })
  const service = (url: string, name: string, extra: IClientOptions = {}, onMessage?: (topic: string, payload: Buffer) => void) =>
    connect(url, { clientId: `svc@cluster-${TAG}/${name}`, username: 'token', password: serviceToken, ...extra }, onMessage)
  const offlineWill = (deviceId: string) => ({ topic: topics.deviceStatus(deviceId), payload: Buffer.from('offline'), qos: 1 as const, retain: true })

  /** The retained status of a device as a new subscriber on `url` receives it. */
  async function retainedStatus(url: string, deviceId: string): Promise<string> {
    const reader = await service(url, `status-${randomBytes(3).toString('hex')}`)
    const got = new Promise<string>((resolve) => reader.once('message', (_t, p) => resolve(p.toString())))
    await reader.subscribeAsync(topics.deviceStatus(deviceId), { qos: 1 })
    const status = await got
    await reader.endAsync()
    return status
  }

  const storedStatus = async (deviceId: string) => (await getDeviceStatus(db, deviceId))?.status
  const storedTs = async (deviceId: string) =>
    (await db.query<{ ts: Date }>('SELECT ts FROM readings WHERE device_id = $1 AND metric = $2', [deviceId, METRIC])).map((r) => r.ts.getTime())

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
    await migrate(db, { log: silentLogger })
    await provisionCommunity(db, { id: 'co-cluster', name: 'Cluster Co.' }, { id: 'cm-cluster', name: 'Cluster Community' })
    for (const c of await provisionDevices(db, DEVICES.map((d) => ({ id: d, kind: 'elevator' as const, communityId: 'cm-cluster' })))) secrets.set(c.id, c.secret)
    serviceToken = (await issueToken(db, await insertUser(db, { name: `cluster-${TAG}`, role: 'service' }))).token
    ;[a, b] = await Promise.all([start(), start()])
  }, 120_000)

  afterAll(async () => {
    for (const c of clients) c.end(true)
    await Promise.all(brokers.map((p) => p.stop()))
    await db.close()
    await tdb.drop()
    // What this run left in Redis: its sessions, Wills and retained statuses.
    await clearRedisTag(TAG)
  }, 60_000)

  it('routes and retains across brokers, and a client id moves from one to the other without going offline', async () => {
    const deviceId = id('takeover')
    const reader = await service(b.url, 'reader')
    await reader.subscribeAsync(topics.deviceTelemetry(deviceId), { qos: 1 })
    const received = new Promise<string>((resolve) => reader.once('message', (_t, p) => resolve(p.toString())))

    const first = await device(a.url, deviceId, { will: offlineWill(deviceId) })
    await first.publishAsync(topics.deviceStatus(deviceId), 'online', { qos: 1, retain: true })
    const payload = JSON.stringify({ ts: Date.now(), values: { [METRIC]: 30 } })
    await first.publishAsync(topics.deviceTelemetry(deviceId), payload, { qos: 1 })
    expect(await received).toBe(payload)
    expect(await retainedStatus(a.url, deviceId)).toBe('online')
    expect(await retainedStatus(b.url, deviceId)).toBe('online')
    expect(await storedStatus(deviceId)).toBe('online')

    // The same client id on broker B: broker A closes its connection, and the device, which
    // simply moved, is not reported offline by A's Will.
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()))
    const second = await device(b.url, deviceId, { will: offlineWill(deviceId) })
    await firstClosed
    const ts = Date.now()
    await second.publishAsync(topics.deviceTelemetry(deviceId), JSON.stringify({ ts, values: { [METRIC]: 31 } }), { qos: 1 })
    expect(await storedTs(deviceId)).toContain(ts)
    expect(await retainedStatus(a.url, deviceId)).toBe('online')
    expect(await storedStatus(deviceId)).toBe('online')
  })

  it('a QoS 1 publisher whose broker is kill -9\'d resends to the other: every PUBACKed reading stored exactly once', async () => {
    const deviceId = id('publisher')
    const client = mqtt.connect({
      servers: [a, b].map((p) => ({ host: '127.0.0.1', port: p.port })),
      clientId: deviceId,
      username: deviceId,
      password: secrets.get(deviceId),
      clean: false,
      reconnectPeriod: 200,
      connectTimeout: 30_000,
    })
    client.on('error', () => undefined)
    clients.push(client)
    await new Promise<void>((resolve) => client.once('connect', () => resolve()))
    const baseTs = Date.now() - 3_600_000
    const pub = new SeqPublisher(client, { deviceId, metric: METRIC, baseTs, intervalMs: 2, window: 20, value: (n) => n % 60, reconnects: true })
    pub.start()
    await eventually(() => (pub.acked.size >= 300 ? true : undefined), 60_000, '300 PUBACKs from broker A')
    const ackedBeforeKill = pub.acked.size
    const sentBeforeKill = pub.sent
    await a.kill9()
    await eventually(() => (pub.acked.size >= ackedBeforeKill + 300 ? true : undefined), 90_000, '300 more PUBACKs from broker B')
    const unacked = await pub.stop(30_000)
    const stored = await storedTs(deviceId)
    const check = checkStored(pub, baseTs, stored)
    console.log(
      `cluster publisher: sent ${pub.sent} (${sentBeforeKill} before the kill), PUBACKed ${pub.acked.size} (${ackedBeforeKill} before), ` +
        `unacknowledged ${unacked}, stored ${stored.length}, PUBACKed but missing ${check.missing.length}, stored twice ${check.duplicated.length}`,
    )
    expect(unacked).toBe(0)
    expect(check).toEqual({ missing: [], duplicated: [], foreign: [] })
    expect(stored.length).toBe(pub.sent)
    client.end(true)
  }, 180_000)

  it('a persistent subscriber whose broker is kill -9\'d gets its queued messages on the other; the dead broker\'s Wills follow', async () => {
    const survivor = await start() // in place of A, killed above
    const queued = id('queued')
    const [gone, back] = [id('will-gone'), id('will-back')]

    const subOpts = { clean: false }
    const received: number[] = []
    const collect = (_t: string, p: Buffer) => received.push((JSON.parse(p.toString()) as { seq: number }).seq)
    const sub = await service(b.url, 'subscriber', subOpts, collect)
    await sub.subscribeAsync(topics.deviceTelemetry(queued), { qos: 1 })
    for (const deviceId of [gone, back]) {
      const c = await device(b.url, deviceId, { will: offlineWill(deviceId) })
      await c.publishAsync(topics.deviceStatus(deviceId), 'online', { qos: 1, retain: true })
    }
    const publisher = await device(survivor.url, queued)
    const send = async (seq: number) =>
      publisher.publishAsync(topics.deviceTelemetry(queued), JSON.stringify({ ts: Date.now(), seq, values: { [METRIC]: 20 } }), { qos: 1 })
    for (let seq = 0; seq < 5; seq++) await send(seq)
    await eventually(() => (received.length >= 5 ? true : undefined), 20_000, 'live deliveries across brokers')

    await b.kill9()
    // One device comes back at once on the survivor; the other stays away.
    const returned = await device(survivor.url, back, { will: offlineWill(back) })
    await returned.publishAsync(topics.deviceStatus(back), 'online', { qos: 1, retain: true })
    // Published (and PUBACKed) while the subscriber has no connection.
    for (let seq = 5; seq < 105; seq++) await send(seq)

    await service(survivor.url, 'subscriber', subOpts, collect)
    await eventually(() => (new Set(received).size >= 105 ? true : undefined), 60_000, 'the queued messages on the survivor').catch((err: unknown) => {
      throw new Error(`${String(err)}; received ${JSON.stringify(received)}`)
    })
    const redelivered = received.length - new Set(received).size
    console.log(`cluster subscriber: 100 published while away, ${new Set(received).size - 5} received after resuming on the survivor, ${redelivered} delivered twice`)
    expect([...new Set(received)].sort((x, y) => x - y)).toEqual(Array.from({ length: 105 }, (_, i) => i))

    // The dead broker's Will for the device that did not come back: published by the survivor
    // (retained) and stored. The device that came back stays online.
    await eventually(async () => ((await storedStatus(gone)) === 'offline' ? true : undefined), 60_000, `${gone} stored offline`)
    expect(await retainedStatus(survivor.url, gone)).toBe('offline')
    expect(await retainedStatus(survivor.url, back)).toBe('online')
    expect(await storedStatus(back)).toBe('online')
    console.log(`cluster wills: ${gone} offline after its broker died; ${back}, back on the survivor, online`)
  }, 180_000)
})
