// The broker's other doors and shared state: MQTT over WebSocket and TLS, Redis-backed
// persistence shared by two broker instances, service logins, and slowed-down failed logins.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BrokerWithIngest } from '../../cli/stack.ts'
import { loadConfig } from '../../core/config.ts'
import { topics } from '../../core/contract.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import type { DeviceCredential } from '../../core/provision.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { REDIS_URL, createTestDatabase, freePort, hasPostgres, hasRedis } from '../helpers/services.ts'
import { seed } from '../helpers/stack.ts'

const run = promisify(execFile)
const pgUp = await hasPostgres()
const redisUp = await hasRedis()

describe.skipIf(!pgUp)('broker transports and shared state', () => {
  let db: Db
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let creds: Map<string, DeviceCredential>
  let certDir: string
  const units: BrokerWithIngest[] = []

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
    await migrate(db, { log: silentLogger })
    creds = await seed(db)
    certDir = await mkdtemp(path.join(tmpdir(), 'hb-tls-'))
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem'),
    ])
  })

  afterAll(async () => {
    for (const u of units) await u.stop()
    await db.close()
    await tdb.drop()
    await rm(certDir, { recursive: true, force: true })
  })

  async function startBroker(env: Record<string, string>) {
    const cfg = loadConfig({ HOST: '127.0.0.1', MQTT_PORT: String(await freePort()), ...env })
    const unit = new BrokerWithIngest(db, cfg, silentLogger, createMetrics({ defaults: false }))
    await unit.start()
    units.push(unit)
    return unit
  }

  const secret = (id: string) => creds.get(id)?.secret ?? ''
  /** The newest stored reading (committed before the PUBACK). */
  const latest = async (deviceId: string, metric: string) =>
    (await db.query<{ value: number }>('SELECT value FROM readings WHERE device_id = $1 AND metric = $2 ORDER BY ts DESC LIMIT 1', [deviceId, metric]))[0]?.value

  it('takes telemetry over WebSocket and over TLS', async () => {
    const unit = await startBroker({
      MQTT_WS_PORT: String(await freePort()),
      MQTT_TLS_PORT: String(await freePort()),
      TLS_CERT_FILE: path.join(certDir, 'cert.pem'),
      TLS_KEY_FILE: path.join(certDir, 'key.pem'),
    })
    const ws = await mqtt.connectAsync(`ws://127.0.0.1:${unit.address?.wsPort}`, { clientId: 'el-1', username: 'el-1', password: secret('el-1'), reconnectPeriod: 0 })
    await ws.publishAsync(topics.deviceTelemetry('el-1'), JSON.stringify({ values: { vibration_mg: 111 } }), { qos: 1 })
    expect(await latest('el-1', 'vibration_mg')).toBe(111)
    await ws.endAsync()

    const tls = await mqtt.connectAsync(`mqtts://127.0.0.1:${unit.address?.tlsPort}`, {
      clientId: 'ft-1',
      username: 'ft-1',
      password: secret('ft-1'),
      reconnectPeriod: 0,
      rejectUnauthorized: false, // self-signed test certificate
    })
    await tls.publishAsync(topics.deviceTelemetry('ft-1'), JSON.stringify({ values: { water_temp_c: 12 } }), { qos: 1 })
    expect(await latest('ft-1', 'water_temp_c')).toBe(12)
    await tls.endAsync()
  })

  it('lets a service token read all telemetry, and refuses an operator token', async () => {
    const unit = await startBroker({})
    const url = `mqtt://127.0.0.1:${unit.address?.port}`
    const service = await issueToken(db, await insertUser(db, { name: 'rules-engine', role: 'service' }))
    const operator = await issueToken(db, await insertUser(db, { name: 'watcher', role: 'operator' }))
    await expect(mqtt.connectAsync(url, { clientId: 'svc@watcher', username: 'token', password: operator.token, reconnectPeriod: 0 })).rejects.toThrow(/Not authorized/i)
    const reader = await mqtt.connectAsync(url, { clientId: 'svc@rules-engine/reader', username: 'token', password: service.token, reconnectPeriod: 0 })
    await reader.subscribeAsync(topics.allTelemetry.map((t) => t), { qos: 1 })
    const got = new Promise<string>((resolve) => reader.once('message', (topic) => resolve(topic)))
    const device = await mqtt.connectAsync(url, { clientId: 'mh-1', username: 'mh-1', password: secret('mh-1'), reconnectPeriod: 0 })
    await device.publishAsync(topics.deviceTelemetry('mh-1'), JSON.stringify({ values: { battery_pct: 70 } }), { qos: 1 })
    expect(await got).toBe(topics.deviceTelemetry('mh-1'))
    // A service may not publish device data: the broker closes the connection.
    const closed = new Promise<void>((resolve) => reader.once('close', () => resolve()))
    reader.publish(topics.deviceTelemetry('mh-1'), JSON.stringify({ values: { battery_pct: 1 } }), { qos: 1 })
    await closed
    expect(await latest('mh-1', 'battery_pct')).toBe(70)
    await Promise.all([reader.endAsync(true), device.endAsync()])
  })

  it('slows down repeated failed logins from one address', async () => {
    const unit = await startBroker({})
    const url = `mqtt://127.0.0.1:${unit.address?.port}`
    const attempt = async () => {
      const started = Date.now()
      await mqtt.connectAsync(url, { clientId: 'mh-1/guess', username: 'mh-1', password: 'guess', reconnectPeriod: 0 }).catch(() => undefined)
      return Date.now() - started
    }
    for (let i = 0; i < 4; i++) await attempt()
    // After four failures the answer is held for 250 ms × 2^(4 − 3) (see FailureThrottle).
    expect(await attempt()).toBeGreaterThanOrEqual(500)
  })

  it.skipIf(!redisUp)('shares retained status and routing between two brokers through Redis', async () => {
    const prefix = { REDIS_URL }
    const a = await startBroker(prefix)
    const b = await startBroker(prefix)
    const service = await issueToken(db, await insertUser(db, { name: 'redis-reader', role: 'service' }))
    // A subscriber on broker B sees what a device publishes on broker A.
    const reader = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.address?.port}`, { clientId: 'svc@redis-reader/1', username: 'token', password: service.token, reconnectPeriod: 0 })
    await reader.subscribeAsync(topics.deviceTelemetry('el-1'), { qos: 1 })
    const got = new Promise<string>((resolve) => reader.once('message', (_t, payload) => resolve(payload.toString())))
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${a.address?.port}`, { clientId: 'el-1/redis', username: 'el-1', password: secret('el-1'), reconnectPeriod: 0 })
    const payload = JSON.stringify({ values: { machine_room_temp_c: 31 } })
    await device.publishAsync(topics.deviceTelemetry('el-1'), payload, { qos: 1 })
    expect(await got).toBe(payload)
    // A retained status published on A is there for a new subscriber on B.
    await device.publishAsync(topics.deviceStatus('el-1'), 'online', { qos: 1, retain: true })
    const late = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.address?.port}`, { clientId: 'svc@redis-reader/2', username: 'token', password: service.token, reconnectPeriod: 0 })
    const retained = new Promise<string>((resolve) => late.once('message', (_t, p, packet) => packet.retain && resolve(p.toString())))
    await late.subscribeAsync(topics.deviceStatus('el-1'), { qos: 1 })
    expect(await retained).toBe('online')
    await Promise.all([reader.endAsync(), device.endAsync(), late.endAsync()])
  })
})
