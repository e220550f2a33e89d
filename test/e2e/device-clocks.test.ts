// The rules run on server time (issue 7, item 10): a device whose clock runs 4 min ahead, or one
// reading stamped 4 min ahead, does not hold a "for 2 s" threshold back, and a device whose clock
// lags 10 min but reports every 300 ms is not "silent". Devices → broker/ingest → rules engine →
// API, on PostgreSQL.
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer, BrokerWithIngest, openDatabase, rulesUnit, type Database } from '../../cli/stack.ts'
import { loadConfig, type Config } from '../../core/config.ts'
import { topics } from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { provisionCommunity, provisionDevices, type DeviceCredential } from '../../core/provision.ts'
import { ruleRow, upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { ruleDefinitionSchema } from '../../rules/definitions.ts'
import type { RulesEngine } from '../../rules/engine.ts'
import { createTestDatabase, eventually, freePort, hasPostgres } from '../helpers/services.ts'

const pgUp = await hasPostgres()
const MINUTE = 60_000

describe.skipIf(!pgUp)('device clocks', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let database: Database
  let cfg: Config
  let broker: BrokerWithIngest
  let api: ApiServer
  let engine: RulesEngine
  let creds: Map<string, DeviceCredential>
  let adminToken: string
  const clients: MqttClient[] = []
  const timers: NodeJS.Timeout[] = []
  const mqttUrl = () => `mqtt://127.0.0.1:${broker.address?.port ?? 0}`

  beforeAll(async () => {
    tdb = await createTestDatabase()
    cfg = loadConfig({
      DATABASE_URL: tdb.url,
      HOST: '127.0.0.1',
      MQTT_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
      RULES_TICK: '100ms',
    })
    database = await openDatabase(cfg, silentLogger, 'clocks')
    const db = database.db
    const rule = (input: Record<string, unknown>) => upsertRule(db, ruleRow(ruleDefinitionSchema.parse({ description: 'test', severity: 'major', ...input })))
    await rule({ id: 'tilt-2s', name: 'Tilt for 2 s', type: 'threshold', scope: { kind: 'manhole' }, params: { metric: 'cover_tilt_deg', op: '>', value: 30, for: '2s' } })
    await rule({ id: 'silent-3s', name: 'Silent for 3 s', type: 'nodata', scope: { kind: 'fire_tank' }, params: { after: '3s' } })
    await provisionCommunity(db, { id: 'co-c', name: 'Clock Property Co.' }, { id: 'cm-c', name: 'Clock Community' })
    const spec = (id: string, kind: 'manhole' | 'fire_tank') => ({ id, kind, communityId: 'cm-c', gatewayId: null, expectedIntervalS: 60 })
    creds = new Map((await provisionDevices(db, [spec('mh-ahead', 'manhole'), spec('mh-jump', 'manhole'), spec('ft-lag', 'fire_tank'), spec('ft-quiet', 'fire_tank')])).map((c) => [c.id, c]))
    adminToken = (await issueToken(db, await insertUser(db, { name: 'clock-admin', role: 'admin' }))).token
    const serviceToken = (await issueToken(db, await insertUser(db, { name: 'rules-engine', role: 'service' }))).token
    const metrics = createMetrics({ defaults: false })
    broker = new BrokerWithIngest(db, cfg, silentLogger, metrics)
    await broker.start()
    api = new ApiServer({ ...database, metrics }, cfg, silentLogger)
    await api.start()
    engine = rulesUnit(db, cfg, silentLogger, { apiUrl: `http://127.0.0.1:${api.port ?? 0}`, token: serviceToken })
    await engine.start()
    await engine.whenRunning()
  })

  afterAll(async () => {
    for (const t of timers) clearInterval(t)
    await Promise.all(clients.map((c) => c.endAsync()))
    await engine.stop()
    await api.stop()
    await broker.stop()
    await database.db.close()
    await tdb.drop()
  })

  /** Publishes `values` every 300 ms (or once), stamped with the device's clock (the server's + `skewMs`). */
  async function device(id: string, skewMs: number, values: Record<string, number>, once = false): Promise<void> {
    const client = await mqtt.connectAsync(mqttUrl(), { clientId: id, username: id, password: creds.get(id)?.secret ?? '', reconnectPeriod: 0 })
    const publish = () => client.publishAsync(topics.deviceTelemetry(id), JSON.stringify({ ts: new Date(Date.now() + skewMs).toISOString(), values }), { qos: 1 })
    await publish()
    if (once) return client.endAsync()
    clients.push(client)
    timers.push(setInterval(() => void publish().catch(() => undefined), 300))
  }

  const alertsOf = async (ruleId: string, deviceId: string) => {
    const res = await fetch(`http://127.0.0.1:${api.port ?? 0}/api/v1/alerts?rule=${ruleId}&device=${deviceId}`, { headers: { authorization: `Bearer ${adminToken}` } })
    return (await res.json()) as { items: { raisedAt: string; state: string }[] }
  }

  it('trips a "for 2 s" threshold 2 s after the readings of a device 4 min ahead arrive, not 4 min later', async () => {
    const first = Date.now()
    await device('mh-ahead', 4 * MINUTE, { cover_tilt_deg: 40 })
    const [alert] = await eventually(async () => {
      const { items } = await alertsOf('tilt-2s', 'mh-ahead')
      return items.length > 0 ? items : undefined
    }, 15_000, 'threshold alert')
    const raisedAt = new Date(alert?.raisedAt ?? 0).getTime()
    // Raised on the server's time line: no sooner than the 2 s held, never at the device's future time.
    expect(raisedAt).toBeGreaterThanOrEqual(first + 2000 - 50)
    expect(raisedAt).toBeLessThanOrEqual(Date.now())
  })

  it('is not blinded by one reading stamped 4 min ahead: the correctly stamped ones after it still count', async () => {
    // Before its clock was set right, the device sent one reading 4 min ahead.
    await device('mh-jump', 4 * MINUTE, { cover_tilt_deg: 10 }, true)
    const first = Date.now()
    await device('mh-jump', 0, { cover_tilt_deg: 40 })
    await eventually(async () => ((await alertsOf('tilt-2s', 'mh-jump')).items.length > 0 ? true : undefined), 15_000, 'threshold alert after the clock jump')
    const { items } = await alertsOf('tilt-2s', 'mh-jump')
    expect(new Date(items[0]?.raisedAt ?? 0).getTime()).toBeGreaterThanOrEqual(first + 2000 - 50)
  })

  it('raises no "no data" for a device 10 min behind that reports every 300 ms (a silent one does raise)', async () => {
    await device('ft-lag', -10 * MINUTE, { water_level_m: 3 })
    // The control: a fire tank with a right clock that reports once is silent for 3 s and raises.
    await device('ft-quiet', 0, { water_level_m: 3 }, true)
    await eventually(async () => ((await alertsOf('silent-3s', 'ft-quiet')).items.length > 0 ? true : undefined), 15_000, 'no-data alert for the silent tank')
    // By then the lagging tank has reported for longer than the rule's 3 s; let it send 10 more
    // readings (another 3 s) before looking.
    const stored = async () => (await database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM readings WHERE device_id = 'ft-lag'"))[0]?.n ?? 0
    const before = await stored()
    await eventually(async () => ((await stored()) >= before + 10 ? true : undefined), 15_000, 'ten more readings')
    expect((await alertsOf('silent-3s', 'ft-lag')).items).toEqual([])
  })
})
