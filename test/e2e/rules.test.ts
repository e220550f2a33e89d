// The whole loop with the simulators' fault injection: devices → broker/ingest → PostgreSQL →
// rules engine → API → live stream. Default rules, with a few durations shortened so the test runs
// in seconds (the shortened values are set below; the catalogue's own are asserted separately).
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer, BrokerWithIngest, openDatabase, rulesUnit, type Database } from '../../cli/stack.ts'
import { loadConfig, type Config } from '../../core/config.ts'
import { topics } from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { provisionCommunity, provisionDevices, type DeviceCredential } from '../../core/provision.ts'
import { getRule, ruleRow, upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'
import { ruleDefinitionSchema } from '../../rules/definitions.ts'
import type { RulesEngine } from '../../rules/engine.ts'
import { Fleet } from '../../simulators/index.ts'
import { createTestDatabase, eventually, freePort, hasPostgres } from '../helpers/services.ts'
import { openStream, type StreamClient, type StreamEvent } from '../../alerts/stream-client.ts'

const pgUp = await hasPostgres()

/** Test-speed versions of some default rules. */
const FAST: Record<string, Record<string, unknown>> = {
  'fire-tank-below-reserve': { params: { for: 2000 } },
  'fire-tank-reserve-forecast': { params: { window: 15_000, minSamples: 5 } },
  'elevator-entrapment': { ackDeadline: 2000, resolveDeadline: 60_000 },
  'manhole-cover-displaced': { rearmAfter: 2000 },
  'elevator-vibration': { params: { for: 6000 } },
}

describe.skipIf(!pgUp)('rules engine end to end', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let database: Database
  let cfg: Config
  let broker: BrokerWithIngest
  let api: ApiServer
  let engine: RulesEngine
  let fleet: Fleet
  let stream: StreamClient
  let creds: Map<string, DeviceCredential>
  let adminToken: string
  let serviceToken: string
  const mqttUrl = () => `mqtt://127.0.0.1:${broker.address?.port ?? 0}`
  const apiUrl = () => `http://127.0.0.1:${api.port ?? 0}`
  const startEngine = async () => {
    engine = rulesUnit(database.db, cfg, silentLogger, { apiUrl: apiUrl(), token: serviceToken })
    await engine.start()
    await engine.whenRunning()
  }

  beforeAll(async () => {
    tdb = await createTestDatabase()
    cfg = loadConfig({
      DATABASE_URL: tdb.url,
      HOST: '127.0.0.1',
      MQTT_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
      ALERT_CHECK_EVERY: '200ms',
      ALERT_REMIND_EVERY: '1s',
      RULES_TICK: '200ms',
      RULES_REPEAT_EVERY: '1s',
    })
    database = await openDatabase(cfg, silentLogger, 'e2e')
    const db = database.db
    for (const [id, change] of Object.entries(FAST)) {
      const base = DEFAULT_RULES.find((r) => r.id === id)
      if (!base) throw new Error(`no default rule ${id}`)
      const params = { ...base.params, ...(change.params as object | undefined) }
      await upsertRule(db, ruleRow(ruleDefinitionSchema.parse({ ...base, ...change, params })))
    }
    await provisionCommunity(db, { id: 'co-e2e', name: 'E2E Property Co.' }, { id: 'cm-e2e', name: 'E2E Community' })
    const spec = (id: string, kind: 'manhole' | 'fire_tank' | 'elevator' | 'gateway', gatewayId: string | null = null) => ({ id, kind, communityId: 'cm-e2e', gatewayId, expectedIntervalS: 1 })
    creds = new Map(
      (
        await provisionDevices(db, [
          spec('gw-1', 'gateway'),
          spec('mh-1', 'manhole'),
          spec('mh-2', 'manhole', 'gw-1'),
          spec('mh-3', 'manhole', 'gw-1'),
          spec('mh-4', 'manhole'),
          spec('ft-1', 'fire_tank'),
          spec('el-1', 'elevator'),
          spec('el-2', 'elevator'),
          spec('el-3', 'elevator'),
        ])
      ).map((c) => [c.id, c]),
    )
    adminToken = (await issueToken(db, await insertUser(db, { name: 'e2e-admin', role: 'admin' }))).token
    serviceToken = (await issueToken(db, await insertUser(db, { name: 'rules-engine', role: 'service' }))).token

    const metrics = createMetrics({ defaults: false })
    broker = new BrokerWithIngest(db, cfg, silentLogger, metrics)
    await broker.start()
    api = new ApiServer({ ...database, metrics }, cfg, silentLogger)
    await api.start()
    await startEngine()
    stream = await openStream(api.port ?? 0, adminToken)
    // el-2 is driven by the tests directly; every other device by the simulator.
    fleet = new Fleet({
      devices: [...creds.values()].filter((c) => c.id !== 'el-2'),
      brokerUrl: mqttUrl(),
      rate: 2,
      scenario: 'normal',
      log: silentLogger,
      model: { leakRateMPerMin: 6 },
    })
    await fleet.start()
    await eventually(() => (fleet.progress().connected === fleet.progress().connections ? true : undefined), 10_000, 'fleet connected')
  })

  afterAll(async () => {
    stream.close()
    await fleet.stop()
    await engine.stop()
    await api.stop()
    await broker.stop()
    await database.db.close()
    await tdb.drop()
  })

  const raisedFor = (ruleId: string, deviceId: string) => stream.events.filter((e) => e.type === 'raised' && e.data.alert.ruleId === ruleId && e.data.alert.deviceId === deviceId)
  const waitFor = (what: string, pick: () => StreamEvent | undefined, timeoutMs: number) => eventually(pick, timeoutMs, what)
  const latest = async (deviceId: string, metric: string) =>
    (await database.db.query<{ value: number }>('SELECT value FROM latest WHERE device_id = $1 AND metric = $2', [deviceId, metric]))[0]?.value
  const post = (path: string, body: unknown) =>
    fetch(`${apiUrl()}${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })

  it('keeps the catalogue values the tests shorten: entrapment acknowledge 5 min, resolve 30 min', () => {
    const entrapment = DEFAULT_RULES.find((r) => r.id === 'elevator-entrapment')
    expect(entrapment).toMatchObject({ severity: 'critical', ackDeadline: 300_000, resolveDeadline: 1_800_000, autoResolve: false })
  })

  it('cover displaced → one critical alert on the stream within 5 s', async () => {
    const injected = Date.now()
    fleet.inject('mh-1', 'cover_displaced')
    const e = await waitFor('cover alert', () => raisedFor('manhole-cover-displaced', 'mh-1')[0], 5000)
    expect(e.receivedAt - injected).toBeLessThan(5000)
    expect(e.data.alert.severity).toBe('critical')
    await new Promise((r) => setTimeout(r, 1500))
    expect(raisedFor('manhole-cover-displaced', 'mh-1')).toHaveLength(1)
  })

  it('a manual resolve while the cover is still displaced leads to a new alert after the re-arm delay', async () => {
    const first = raisedFor('manhole-cover-displaced', 'mh-1')[0]
    if (!first) throw new Error('no alert to resolve')
    const res = await post(`/api/v1/alerts/${first.data.alert.id}/resolve`, { note: 'cover looked fine from the road' })
    expect(res.status).toBe(200)
    const resolvedAt = Date.now()
    const again = await waitFor('re-raised cover alert', () => raisedFor('manhole-cover-displaced', 'mh-1')[1], 8000)
    expect(again.receivedAt - resolvedAt).toBeGreaterThanOrEqual(1900) // rearmAfter 2 s in this test
    expect(again.data.alert.reraiseOf).toBe(first.data.alert.id)
    fleet.clear('mh-1', 'cover_displaced')
  })

  it('tank leak → forecast warning before the level crosses the reserve, then critical', { timeout: 120_000 }, async () => {
    fleet.inject('ft-1', 'tank_leak')
    const warning = await waitFor('forecast warning', () => raisedFor('fire-tank-reserve-forecast', 'ft-1')[0], 60_000)
    const levelAtWarning = await latest('ft-1', 'water_level_m')
    expect(warning.data.alert.severity).toBe('warning')
    expect(levelAtWarning).toBeGreaterThan(1.5)
    expect(Date.parse(warning.data.alert.predictedAt ?? '')).toBeGreaterThan(warning.receivedAt - 5000)
    const critical = await waitFor('below-reserve alert', () => raisedFor('fire-tank-below-reserve', 'ft-1')[0], 90_000)
    expect(critical.data.alert.severity).toBe('critical')
    expect(critical.receivedAt).toBeGreaterThan(warning.receivedAt)
    fleet.clear('ft-1', 'tank_leak')
  })

  it('entrapment → critical with its acknowledge deadline, escalated when it is missed', async () => {
    fleet.inject('el-1', 'entrapment')
    const raised = await waitFor('entrapment alert', () => raisedFor('elevator-entrapment', 'el-1')[0], 5000)
    expect(raised.data.alert.severity).toBe('critical')
    // Deadlines count from when the report reached the API (the stream client's type predates the field).
    const { notifiedAt } = raised.data.alert as { notifiedAt?: string }
    expect(Date.parse(raised.data.alert.ackDeadline) - Date.parse(notifiedAt ?? '')).toBe(2000)
    const escalated = await waitFor(
      'escalation',
      () => stream.events.find((e) => e.type === 'escalated' && e.data.alert.id === raised.data.alert.id),
      6000,
    )
    expect(escalated.data.note).toBe('not acknowledged within 2s')
    fleet.clear('el-1', 'entrapment')
  })

  it('a device going silent → offline alert that resolves itself when it returns', async () => {
    fleet.inject('el-3', 'silent')
    const raised = await waitFor('offline alert', () => raisedFor('elevator-offline', 'el-3')[0], 10_000)
    fleet.clear('el-3', 'silent')
    await waitFor('auto-resolve', () => stream.events.find((e) => e.type === 'resolved' && e.data.alert.id === raised.data.alert.id), 10_000)
  })

  it('a gateway going silent → one alert, not one per child', async () => {
    fleet.inject('gw-1', 'silent')
    const raised = await waitFor('gateway alert', () => raisedFor('gateway-offline', 'gw-1')[0], 10_000)
    await new Promise((r) => setTimeout(r, 5000))
    expect(raisedFor('gateway-offline', 'gw-1')).toHaveLength(1)
    expect(raisedFor('manhole-offline', 'mh-2')).toHaveLength(0)
    expect(raisedFor('manhole-offline', 'mh-3')).toHaveLength(0)
    fleet.clear('gw-1', 'silent')
    await waitFor('gateway back', () => stream.events.find((e) => e.type === 'resolved' && e.data.alert.id === raised.data.alert.id), 10_000)
    await new Promise((r) => setTimeout(r, 2000))
    expect(raisedFor('manhole-offline', 'mh-2')).toHaveLength(0)
  })

  it('restarting the engine in the middle of a "for" window neither loses nor duplicates the alert', async () => {
    const device = await mqtt.connectAsync(mqttUrl(), { clientId: 'el-2', username: 'el-2', password: creds.get('el-2')?.secret ?? '', reconnectPeriod: 0 })
    const publish = () => device.publishAsync(topics.deviceTelemetry('el-2'), JSON.stringify({ values: { vibration_mg: 2200, running: true, speed_mps: 1 } }), { qos: 1 })
    const timer = setInterval(() => void publish(), 400)
    try {
      const started = Date.now()
      await publish()
      // Half-way through the 6 s window the engine goes down and comes back.
      await new Promise((r) => setTimeout(r, 3000))
      await engine.stop()
      await new Promise((r) => setTimeout(r, 500))
      await startEngine()
      const raised = await waitFor('vibration alert', () => raisedFor('elevator-vibration', 'el-2')[0], 10_000)
      expect(raised.receivedAt - started).toBeGreaterThanOrEqual(5500)
      // A second restart after the raise does not raise it again.
      await engine.stop()
      await startEngine()
      await new Promise((r) => setTimeout(r, 3000))
      expect(raisedFor('elevator-vibration', 'el-2')).toHaveLength(1)
      const stored = await getRule(database.db, 'elevator-vibration')
      expect(stored?.definition).toMatchObject({ params: { for: 6000 } })
    } finally {
      clearInterval(timer)
      await device.endAsync()
    }
  })
})
