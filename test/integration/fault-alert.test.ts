// Every committed fault raises its alert (issue 17). Each case here was a loss found on the
// README's own topologies: a fault stored and never alerted. The property asserted is the user's:
// the fault raises exactly one alert (and its clear, where it cleared), at the fault's device time.
// - a backlog drained in a burst: receive times milliseconds apart, device times seconds apart;
// - a reading that commits after a newer one of the same device (two workers, a split batch);
// - the rules engine restarted: a transient fault while it was away, and one that persists;
// - a device imported a moment before its first fault;
// - a profile change that leaves the rule unchanged keeps a pending `for`;
// - ChirpStack through the standalone ingest (no rules engine listens on ChirpStack's broker).
import { randomBytes, randomUUID } from 'node:crypto'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { topics } from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { SHIPPED_PROFILES } from '../../core/profiles/catalogue.ts'
import { profileSchema } from '../../core/profiles/schema.ts'
import { provisionDevices } from '../../core/provision.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { seedProfiles } from '../../core/repos/profiles.ts'
import { ruleRow, seedRules, upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { ChirpStackIntegration, chirpstackTopic } from '../../intake/chirpstack.ts'
import { IngestService } from '../../ingest/service.ts'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'
import { ruleDefinitionSchema } from '../../rules/definitions.ts'
import type { RulesEngine } from '../../rules/engine.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { startRulesEngine } from '../helpers/rules.ts'
import { MOSQUITTO, eventually, hasMosquitto, hasPostgres } from '../helpers/services.ts'
import { COMMUNITY, FIXTURE_PAST_AGE } from '../helpers/stack.ts'

const pgUp = await hasPostgres()
const mosquittoUp = await hasMosquitto()
const MOSQUITTO_URL = `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`
const COVER = 'manhole-cover-displaced'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface AlertRow {
  id: number
  condition: string
  raised_at: Date
}

describe.skipIf(!pgUp)('every committed fault raises its alert', () => {
  let receivers: ReceiverStack
  let engine: RulesEngine | undefined
  let token: string

  beforeAll(async () => {
    receivers = await startReceivers()
    const db = receivers.stack.db
    await seedRules(db, DEFAULT_RULES.map(ruleRow))
    await seedProfiles(db, SHIPPED_PROFILES.map((p) => profileSchema.parse(p)).map((p) => ({ id: p.id, kind: p.kind, definition: p })))
    // A fire tank whose level must stay low for 4 s: a `for` that is pending while the profile changes.
    await upsertRule(db, ruleRow(ruleDefinitionSchema.parse({ id: 'test-tank-low', name: 'Tank low', description: 'test rule', severity: 'major', type: 'threshold', scope: { deviceId: 'ft-hold' }, params: { metric: 'water_level_m', op: '<', value: 1, for: '4s' } })))
    await upsertRule(db, ruleRow(ruleDefinitionSchema.parse({ id: 'test-quiet', name: 'Quiet', description: 'test rule', severity: 'major', type: 'nodata', scope: { deviceId: 'el-quiet' }, autoResolve: false, params: { after: '2s' } })))
    const manhole = (id: string) => ({ id, kind: 'manhole' as const, communityId: COMMUNITY })
    const added = await provisionDevices(db, [manhole('mh-burst'), manhole('mh-late'), manhole('mh-away'), manhole('mh-stays'), manhole('mh-before'), { id: 'ft-hold', kind: 'fire_tank' as const, communityId: COMMUNITY }, { id: 'el-quiet', kind: 'elevator' as const, communityId: COMMUNITY }])
    for (const c of added) receivers.stack.creds.set(c.id, c)
    token = (await issueToken(db, await insertUser(db, { name: 'fault-rules', role: 'service' }))).token
    engine = await startRulesEngine(db, receivers.base, token)
  })

  afterAll(async () => {
    await engine?.stop()
    await receivers.stop()
  })

  const alertsOf = (ruleId: string, deviceId: string) =>
    receivers.stack.db.query<AlertRow>('SELECT id, condition, raised_at FROM alerts WHERE rule_id = $1 AND device_id = $2 ORDER BY id', [ruleId, deviceId])
  /** Waits for the first alert, then a moment more: a second one would have come by then. */
  const settled = async (ruleId: string, deviceId: string, timeoutMs = 15_000) => {
    await eventually(async () => ((await alertsOf(ruleId, deviceId)).length > 0 ? true : undefined), timeoutMs, `${ruleId} on ${deviceId}`)
    await sleep(1500)
    return alertsOf(ruleId, deviceId)
  }
  const send = async (deviceId: string, entries: { ts: number; values: Record<string, number> }[]) => {
    const c = await receivers.stack.connect(deviceId, { clientId: `${deviceId}/${randomBytes(3).toString('hex')}` })
    await c.publishAsync(topics.deviceTelemetry(deviceId), JSON.stringify(entries), { qos: 1 })
    await c.endAsync()
  }

  it('a backlog drained in a burst (received milliseconds apart, device times seconds apart) raises the transient fault it holds, once', async () => {
    const t0 = Date.now() - 60_000
    const c = await receivers.stack.connect('mh-burst', { clientId: `mh-burst/${randomBytes(3).toString('hex')}` })
    const tilt = (ts: number, deg: number) => ({ ts, values: { cover_tilt_deg: deg } })
    // A queue drains: two messages of three readings each, one right after the other.
    await Promise.all([
      c.publishAsync(topics.deviceTelemetry('mh-burst'), JSON.stringify([tilt(t0, 2), tilt(t0 + 5000, 2), tilt(t0 + 10_000, 2)]), { qos: 1 }),
      c.publishAsync(topics.deviceTelemetry('mh-burst'), JSON.stringify([tilt(t0 + 15_000, 45), tilt(t0 + 20_000, 2), tilt(t0 + 25_000, 2)]), { qos: 1 }),
    ])
    await c.endAsync()
    const alerts = await settled(COVER, 'mh-burst')
    expect(alerts).toHaveLength(1)
    expect(alerts[0]?.raised_at.getTime()).toBe(t0 + 15_000)
    await eventually(async () => ((await alertsOf(COVER, 'mh-burst'))[0]?.condition === 'cleared' ? true : undefined), 10_000, 'the clear at 2°')
  })

  it('a reading that commits after a newer one of the same device is placed at its own time: the fault it shows is raised and cleared', async () => {
    const t0 = Date.now() - 60_000
    await send('mh-late', [{ ts: t0, values: { cover_tilt_deg: 2 } }])
    await send('mh-late', [{ ts: t0 + 20_000, values: { cover_tilt_deg: 2 } }])
    await sleep(500)
    // Ten seconds before the newest reading the engine has seen: within RULES_LATENESS (2 min).
    await send('mh-late', [{ ts: t0 + 10_000, values: { cover_tilt_deg: 45 } }])
    const alerts = await settled(COVER, 'mh-late')
    expect(alerts).toHaveLength(1)
    expect(alerts[0]?.raised_at.getTime()).toBe(t0 + 10_000)
    expect(alerts[0]?.condition).toBe('cleared')
  })

  it('a rules engine that was away raises what happened meanwhile — a transient fault and a persistent one — once, and nothing it had raised before', async () => {
    const db = receivers.stack.db
    await send('mh-before', [{ ts: Date.now(), values: { cover_tilt_deg: 50 } }])
    expect(await settled(COVER, 'mh-before')).toHaveLength(1)
    await engine?.stop()
    engine = undefined
    const t1 = Date.now() - 1000
    await send('mh-away', [{ ts: t1 - 2000, values: { cover_tilt_deg: 2 } }])
    await send('mh-away', [{ ts: t1, values: { cover_tilt_deg: 45 } }])
    await send('mh-away', [{ ts: t1 + 500, values: { cover_tilt_deg: 2 } }])
    await send('mh-stays', [{ ts: t1, values: { cover_tilt_deg: 45 } }])
    await sleep(1000)
    expect(await alertsOf(COVER, 'mh-away')).toHaveLength(0)
    engine = await startRulesEngine(db, receivers.base, token)
    const away = await settled(COVER, 'mh-away')
    expect(away).toHaveLength(1)
    expect(away[0]?.raised_at.getTime()).toBe(t1)
    expect(away[0]?.condition).toBe('cleared')
    const stays = await settled(COVER, 'mh-stays')
    expect(stays.map((a) => a.condition)).toEqual(['active'])
    expect(await alertsOf(COVER, 'mh-before')).toHaveLength(1)
  })

  it('a device imported a moment before its first fault is evaluated: its fault raises at once', async () => {
    const [added] = await provisionDevices(receivers.stack.db, [{ id: `mh-new-${randomBytes(3).toString('hex')}`, kind: 'manhole', communityId: COMMUNITY }])
    if (!added) throw new Error('provisioning returned nothing')
    receivers.stack.creds.set(added.id, added)
    await send(added.id, [{ ts: Date.now(), values: { cover_tilt_deg: 45 } }])
    expect(await settled(COVER, added.id, 5000)).toHaveLength(1)
  })

  it('a profile change that leaves the rule unchanged keeps its pending `for`', async () => {
    const t = Date.now()
    await send('ft-hold', [{ ts: t, values: { water_level_m: 0.5 } }])
    await sleep(1500)
    // A profile with no override of this rule: the rule as it applies to the device is the same.
    await updateDevice(receivers.stack.db, 'ft-hold', { profileId: 'dragino-ldds75-tank' })
    const alerts = await settled('test-tank-low', 'ft-hold', 10_000)
    expect(alerts).toHaveLength(1)
    expect(alerts[0]?.raised_at.getTime()).toBe(t + 4000)
  })

  it('a device silent past its no-data bound raises once, and clears when it is heard from again', async () => {
    await send('el-quiet', [{ ts: Date.now(), values: { running: 1 } }])
    const raised = await settled('test-quiet', 'el-quiet', 10_000)
    expect(raised.map((a) => a.condition)).toEqual(['active'])
    await send('el-quiet', [{ ts: Date.now(), values: { running: 1 } }])
    await eventually(async () => ((await alertsOf('test-quiet', 'el-quiet'))[0]?.condition === 'cleared' ? true : undefined), 10_000, 'the clear once heard from')
    expect(await alertsOf('test-quiet', 'el-quiet')).toHaveLength(1)
  })

  it.skipIf(!mosquittoUp)('a LoRaWAN fault through ChirpStack and the standalone ingest raises its alert', async () => {
    const db = receivers.stack.db
    const [added] = await provisionDevices(db, [{ id: `mh-lora-${randomBytes(3).toString('hex')}`, kind: 'manhole', communityId: COMMUNITY }])
    if (!added) throw new Error('provisioning returned nothing')
    const devEui = randomBytes(8).toString('hex')
    await updateDevice(db, added.id, { devEui })
    // `housing-brain ingest` with CHIRPSTACK_MQTT_URL: its own ingest, on ChirpStack's broker.
    const metrics = createMetrics({ defaults: false })
    const ingest = new IngestService(db, loadConfig({ INGEST_MAX_PAST_AGE: FIXTURE_PAST_AGE }).ingest, silentLogger, metrics)
    const app = randomUUID()
    const clientId = `hb-test-fault-cs-${randomBytes(4).toString('hex')}`
    const unit = new ChirpStackIntegration(db, ingest.pipeline, { url: MOSQUITTO_URL, clientId, applicationId: app, ackWindow: 0, maxEventBytes: 64 * 1024 }, silentLogger, metrics)
    await ingest.start()
    await unit.start()
    const pub = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `${clientId}-pub`, reconnectPeriod: 0 })
    try {
      const event = { deduplicationId: randomUUID(), time: new Date().toISOString(), deviceInfo: { applicationId: app, devEui }, fPort: 1, data: 'AA==', object: { cover_tilt_deg: 45 } }
      await pub.publishAsync(chirpstackTopic(app, devEui, 'up'), JSON.stringify(event), { qos: 1 })
      expect(await settled(COVER, added.id)).toHaveLength(1)
    } finally {
      await pub.endAsync()
      await unit.stop()
      await ingest.stop()
      const c = await mqtt.connectAsync(MOSQUITTO_URL, { clientId, clean: true, reconnectPeriod: 0 })
      await c.endAsync()
    }
  })
})
