// The commit-ordered feed end to end (issues 10, 11 and 17): readings from every entry point — the
// HTTP device API, a OneNET push, MQTT, an API process with its own ingest — reach the rules engine
// and raise alerts; two rules engines splitting the buckets (RULES_PARTITION 0/2 and 1/2) raise
// each fault exactly once, and a gateway going silent with its children still gives one gateway
// alert; devices cannot inject readings; a device reporting only over HTTP shows online; a
// profile's rule override moves the alarm angle of its devices only; an engine cut off from the
// database raises what committed meanwhile once it is back.
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { onenetSignature } from '../../intake/http/onenet.ts'
import { ApiServer, rulesUnit } from '../../cli/stack.ts'
import { createMetrics } from '../../core/metrics.ts'
import { loadConfig } from '../../core/config.ts'
import { topics } from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { SHIPPED_PROFILES } from '../../core/profiles/catalogue.ts'
import { profileSchema } from '../../core/profiles/schema.ts'
import { provisionDevices } from '../../core/provision.ts'
import { bucketOf } from '../../core/feed.ts'
import { openDb } from '../../core/db/client.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { upsertProfile } from '../../core/repos/profiles.ts'
import { ruleRow, seedRules, upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'
import { ruleDefinitionSchema } from '../../rules/definitions.ts'
import type { RulesEngine } from '../../rules/engine.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { eventually, freePort, hasPostgres } from '../helpers/services.ts'
import { tcpProxy } from '../helpers/tcp-proxy.ts'
import { COMMUNITY, FIXTURE_PAST_AGE, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()
const PUSH_TOKEN = 'hb-bus-test-push-token'
const fixture = (name: string) => readFileSync(new URL(`../fixtures/onenet/${name}`, import.meta.url), 'utf8').trim()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Manholes of their own (no gateway), named so that some fall in each of the two partitions. */
const SPREAD = Array.from({ length: 8 }, (_, i) => `pa-${i}`)
const inPartition = (index: number) => SPREAD.filter((id) => bucketOf({ id, gatewayId: null }) % 2 === index)

describe.skipIf(!pgUp)('commit-ordered feed → rules engine', () => {
  let receivers: ReceiverStack
  let stack: TestStack
  let base: string
  let admin: string
  const engines: RulesEngine[] = []
  let startEngines: () => Promise<void>
  let serviceToken: string
  const devices: MqttClient[] = []

  beforeAll(async () => {
    receivers = await startReceivers({ onenetPushToken: PUSH_TOKEN })
    stack = receivers.stack
    base = receivers.base
    const db = stack.db
    await seedRules(db, DEFAULT_RULES.map(ruleRow))
    // A hot-water rule for the manual's OneNET device, which reports "temperature" (mapped to water_temp_c).
    await upsertRule(db, ruleRow(ruleDefinitionSchema.parse({ id: 'test-tank-hot', name: 'Tank water hot', description: 'test rule', severity: 'major', type: 'threshold', scope: { deviceId: '2016617' }, params: { metric: 'water_temp_c', op: '>', value: 40 } })))
    const manhole = (id: string, more: object = {}) => ({ id, kind: 'manhole' as const, communityId: COMMUNITY, ...more })
    const added = await provisionDevices(db, [
      manhole('mh-http'),
      manhole('mh-mqtt'),
      manhole('mh-api'),
      manhole('mh-gap'),
      manhole('mh-live', { expectedIntervalS: 1 }),
      manhole('mh-tilt'),
      manhole('mh-plain'),
      ...SPREAD.map((id) => manhole(id)),
      { id: 'gw-s', kind: 'gateway', communityId: COMMUNITY, expectedIntervalS: 1 },
      manhole('cs-1', { gatewayId: 'gw-s', expectedIntervalS: 1 }),
      manhole('cs-2', { gatewayId: 'gw-s', expectedIntervalS: 1 }),
      { id: '2016617', kind: 'fire_tank', communityId: COMMUNITY },
    ])
    for (const c of added) stack.creds.set(c.id, c)
    const onenet = { id: 'onenet-tank', name: 'Tank on OneNET', kind: 'fire_tank', decoder: { fields: [{ metric: 'water_temp_c', path: 'datapoints.temperature', optional: true }] } }
    await upsertProfile(db, { id: onenet.id, kind: 'fire_tank', definition: onenet })
    await updateDevice(db, '2016617', { profileId: 'onenet-tank', platformIdFallback: true })
    // The Milesight tilt sensor's profile alarms at 20° (the rule's own angle is 30°).
    const tilt = profileSchema.parse(SHIPPED_PROFILES.find((p) => p.id === 'milesight-em320-tilt'))
    expect(tilt.ruleOverrides).toEqual({ 'manhole-cover-displaced': { value: 20 } })
    await upsertProfile(db, { id: tilt.id, kind: tilt.kind, definition: tilt })
    await updateDevice(db, 'mh-tilt', { profileId: tilt.id })

    admin = (await issueToken(db, await insertUser(db, { name: 'bus-admin', role: 'admin' }))).token
    const service = (serviceToken = (await issueToken(db, await insertUser(db, { name: 'bus-rules', role: 'service' }))).token)
    startEngines = async () => {
      for (const partition of ['0/2', '1/2']) {
        const cfg = loadConfig({ RULES_TICK: '200ms', RULES_REPEAT_EVERY: '1s', RULES_PARTITION: partition })
        const engine = rulesUnit(db, cfg, silentLogger, { apiUrl: base, token: service })
        await engine.start()
        await engine.whenRunning()
        engines.push(engine)
      }
    }
    await startEngines()
  })

  afterAll(async () => {
    for (const d of devices) await d.endAsync(true).catch(() => undefined)
    for (const e of engines) await e.stop()
    await receivers.stop()
  })

  const alerts = async (ruleId: string, deviceId: string) =>
    (await stack.db.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts WHERE rule_id = $1 AND device_id = $2', [ruleId, deviceId]))[0]?.n ?? 0
  const raised = (ruleId: string, deviceId: string, timeoutMs = 10_000) =>
    eventually(async () => ((await alerts(ruleId, deviceId)) > 0 ? true : undefined), timeoutMs, `${ruleId} on ${deviceId}`)
  const basic = (id: string) => `Basic ${Buffer.from(`${id}:${stack.creds.get(id)?.secret ?? ''}`).toString('base64')}`
  const postTelemetry = (id: string, body: unknown) =>
    fetch(`${base}/ingest/v1/devices/${id}/telemetry`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: basic(id) } })
  const device = async (id: string) => {
    const c = await stack.connect(id)
    devices.push(c)
    return c
  }
  const publish = async (id: string, values: Record<string, number | boolean>) => {
    const c = await device(id)
    await c.publishAsync(topics.deviceTelemetry(id), JSON.stringify({ values }), { qos: 1 })
  }
  const get = async (path: string) => (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${admin}` } })).json() as Promise<Record<string, unknown>>

  it('splits the devices between the two engines, a gateway with its children', () => {
    expect(inPartition(0).length).toBeGreaterThan(0)
    expect(inPartition(1).length).toBeGreaterThan(0)
    const [a, b] = engines
    // Every enabled device is held by exactly one engine.
    expect((a?.deviceCount ?? 0) + (b?.deviceCount ?? 0)).toBe(stack.creds.size)
    expect(a?.deviceCount).toBeGreaterThan(0)
    expect(b?.deviceCount).toBeGreaterThan(0)
    expect(bucketOf({ id: 'cs-1', gatewayId: 'gw-s' })).toBe(bucketOf({ id: 'gw-s', gatewayId: null }))
  })

  it('a reading POSTed to the HTTP device API that crosses a threshold raises an alert', async () => {
    const res = await postTelemetry('mh-http', { values: { cover_tilt_deg: 45 } })
    expect(res.status).toBe(200)
    await raised('manhole-cover-displaced', 'mh-http')
  })

  it('a OneNET data point push raises an alert', async () => {
    const msg = fixture('datapoint.json') // temperature 42 for device 2016617
    const nonce = 'abcdefgh'
    const body = `{"msg":${msg},"msg_signature":"${onenetSignature(PUSH_TOKEN, nonce, msg)}","nonce":"${nonce}"}`
    const res = await fetch(`${base}/ingest/v1/onenet`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(200)
    await raised('test-tank-hot', '2016617')
  })

  it('a reading POSTed to an API process with its own ingest (no broker anywhere in its settings) raises an alert', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'hb-feed-api-'))
    const cfg = loadConfig({ HOST: '127.0.0.1', HTTP_PORT: String(await freePort()), DATA_DIR: dataDir, INGEST_MAX_PAST_AGE: FIXTURE_PAST_AGE })
    const metrics = createMetrics({ defaults: false })
    const api = new ApiServer({ db: stack.db, features: { timescale: undefined }, metrics }, cfg, silentLogger)
    await api.start()
    try {
      const res = await fetch(`http://127.0.0.1:${api.port ?? 0}/ingest/v1/devices/mh-api/telemetry`, { method: 'POST', body: JSON.stringify({ values: { cover_tilt_deg: 40 } }), headers: { 'content-type': 'application/json', authorization: basic('mh-api') } })
      expect(res.status).toBe(200)
      await raised('manhole-cover-displaced', 'mh-api')
      expect(await alerts('manhole-cover-displaced', 'mh-api')).toBe(1)
    } finally {
      await api.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it("a OneNET offline message reaches the engine as the device's status", async () => {
    const msg = fixture('status.json') // device 2016617 offline (status 0)
    const nonce = 'ijklmnop'
    const body = `{"msg":${msg},"msg_signature":"${onenetSignature(PUSH_TOKEN, nonce, msg)}","nonce":"${nonce}"}`
    const res = await fetch(`${base}/ingest/v1/onenet`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(200)
    await raised('fire-tank-offline', '2016617')
  })

  it('MQTT telemetry still raises one', async () => {
    await publish('mh-mqtt', { cover_tilt_deg: 50 })
    await raised('manhole-cover-displaced', 'mh-mqtt')
  })

  it('faults on devices of both partitions each raise exactly one alert', async () => {
    const both = [inPartition(0)[0], inPartition(1)[0]].filter((id): id is string => id !== undefined)
    for (const id of both) await publish(id, { cover_tilt_deg: 60 })
    for (const id of both) await raised('manhole-cover-displaced', id)
    // Repeats of the fault, and time for a second engine to report it too if it held the device.
    for (const id of both) await publish(id, { cover_tilt_deg: 61 })
    await sleep(1500)
    for (const id of both) expect(await alerts('manhole-cover-displaced', id)).toBe(1)
  })

  it('a gateway going silent with its children gives one gateway alert, none per child', async () => {
    const gw = await device('gw-s')
    for (let i = 0; i < 6; i++) {
      await gw.publishAsync(topics.deviceTelemetry('gw-s'), JSON.stringify({ values: { rssi_dbm: -70 } }), { qos: 1 })
      await gw.publishAsync(topics.gatewayTelemetry('gw-s'), JSON.stringify({ 'cs-1': [{ values: { battery_pct: 80 } }], 'cs-2': [{ values: { battery_pct: 81 } }] }), { qos: 1 })
      await sleep(300)
    }
    // Silence: the gateway's no-data rule (3 × 1 s) raises; its children's are held under it.
    await raised('gateway-offline', 'gw-s', 15_000)
    await sleep(4000)
    expect(await alerts('gateway-offline', 'gw-s')).toBe(1)
    expect(await alerts('manhole-offline', 'cs-1')).toBe(0)
    expect(await alerts('manhole-offline', 'cs-2')).toBe(0)
  })

  it('a device reporting only over HTTP shows online on its status and on the map', async () => {
    const report = async (times: number) => {
      for (let i = 0; i < times; i++) {
        expect((await postTelemetry('mh-live', { values: { battery_pct: 90 } })).status).toBe(200)
        await sleep(400)
      }
    }
    await report(3)
    // The engines restart: their rebuild reads the device's last report from the database.
    for (const e of engines.splice(0)) await e.stop()
    await startEngines()
    // Every 400 ms for 5 s, against an expected interval of 1 s: the engine must hear each one,
    // or its no-data rule (3 s) raises and the device shows offline.
    await report(12)
    expect(await alerts('manhole-offline', 'mh-live')).toBe(0)
    expect(await get('/api/v1/devices/mh-live/status')).toMatchObject({ connectivity: 'online', basis: 'readings' })
    const map = (await get('/api/v1/map')) as { devices: { id: string; connectivity: string }[] }
    expect(map.devices.find((d) => d.id === 'mh-live')).toMatchObject({ connectivity: 'online' })
  })

  it("a device of a profile with a tilt override alarms at the profile's angle, another at the rule's", async () => {
    await publish('mh-tilt', { cover_tilt_deg: 25 })
    await publish('mh-plain', { cover_tilt_deg: 25 })
    await raised('manhole-cover-displaced', 'mh-tilt')
    await sleep(1000)
    expect(await alerts('manhole-cover-displaced', 'mh-plain')).toBe(0)
    await publish('mh-plain', { cover_tilt_deg: 35 })
    await raised('manhole-cover-displaced', 'mh-plain')
  })

  it('a device cannot inject readings for another device on a topic outside the contract', async () => {
    const spy = await device('mh-1')
    await expect(spy.subscribeAsync(['hb/v1/readings/#', 'hb/v1/readings/3'], { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128, 128] } })
    // A refused publication closes the connection (MQTT 3.1.1 has no negative PUBACK), and no alert follows.
    const closed = new Promise<void>((resolve) => spy.once('close', () => resolve()))
    spy.publish('hb/v1/readings/0', JSON.stringify([{ d: 'mh-2', m: 'cover_tilt_deg', ts: Date.now(), v: 80, at: Date.now() }]), { qos: 1 })
    await closed
    await sleep(1000)
    expect(await alerts('manhole-cover-displaced', 'mh-2')).toBe(0)
  })

  it('an engine cut off from the database raises what committed meanwhile once it is back, and nothing twice', async () => {
    for (const e of engines.splice(0)) await e.stop()
    const proxy = tcpProxy({ host: '127.0.0.1', port: Number(new URL(stack.dbUrl ?? '').port) })
    const port = await proxy.start()
    const url = new URL(stack.dbUrl ?? '')
    url.port = String(port)
    const db = await openDb({ url: url.toString() })
    const cfg = loadConfig({ RULES_TICK: '200ms', RULES_REPEAT_EVERY: '1s' })
    const engine = rulesUnit(db, cfg, silentLogger, { apiUrl: base, token: serviceToken })
    await engine.start()
    await engine.whenRunning()
    try {
      proxy.cut()
      expect((await postTelemetry('mh-gap', { values: { cover_tilt_deg: 70 } })).status).toBe(200)
      await sleep(1500)
      expect(await alerts('manhole-cover-displaced', 'mh-gap')).toBe(0)
      proxy.restore()
      await raised('manhole-cover-displaced', 'mh-gap', 20_000)
      // The alerts raised before the cut stay raised once.
      await sleep(1500)
      for (const id of ['mh-gap', 'mh-http', 'mh-mqtt']) expect(await alerts('manhole-cover-displaced', id)).toBe(1)
    } finally {
      await engine.stop()
      await db.close()
      await proxy.stop()
    }
  })
})
