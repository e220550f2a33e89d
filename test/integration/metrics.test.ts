// Metrics in every process (issue 17, loss 6): the split deployment as real processes — `broker`,
// a standalone `ingest` on Mosquitto, `rules` and `api` — each answering GET /metrics with its own
// figures: the readings each one stored (not the API's zeros), the rules catalogue from the rules
// process, HTTP requests by route pattern and the notification and webhook outboxes from the API.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { startService, type ServiceProcess } from '../helpers/service-process.ts'
import { MOSQUITTO, createTestDatabase, eventually, freePort, hasMosquitto, hasPostgres } from '../helpers/services.ts'
import { COMMUNITY, seed } from '../helpers/stack.ts'

const ready = (await hasPostgres()) && (await hasMosquitto())
const MOSQUITTO_URL = `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`
const METRICS_TOKEN = randomBytes(16).toString('hex')
// Device ids of this run alone: other tests publish on the shared Mosquitto, and what the ingest
// here takes of theirs is an unknown device in this database (a dead letter), never a stored reading.
const TAG = randomBytes(3).toString('hex')
const ON_BROKER = `mm-${TAG}-1`
const ON_MOSQUITTO = `mm-${TAG}-2`
const OVER_HTTP = `mt-${TAG}-3`

/** The samples of one metric on a /metrics page, by their label text (`{a="b"}`, or '' for none). */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line)
    if (m?.[1] === name) out.set(m[2] ?? '', Number(m[3]))
  }
  return out
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)

describe.skipIf(!ready)('/metrics of every process of the split deployment', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db
  let dataDir: string
  let admin: string
  let creds: Awaited<ReturnType<typeof seed>>
  const procs: ServiceProcess[] = []
  const ports = { http: 0, mqtt: 0, broker: 0, ingest: 0, rules: 0, deadEnd: 0 }
  const ingestClientId = `hb-test-metrics-${TAG}`

  const scrape = async (port: number, token?: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) })
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() }
  }
  const metric = async (port: number, name: string, token?: string) => samples((await scrape(port, token)).text, name)
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${ports.http}${url}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
    await migrate(db, { log: silentLogger })
    creds = await seed(db, [
      { id: ON_BROKER, kind: 'manhole', communityId: COMMUNITY },
      { id: ON_MOSQUITTO, kind: 'manhole', communityId: COMMUNITY },
      { id: OVER_HTTP, kind: 'fire_tank', communityId: COMMUNITY },
    ])
    admin = (await issueToken(db, await insertUser(db, { name: 'ops', role: 'admin' }))).token
    const service = (await issueToken(db, await insertUser(db, { name: `metrics-${TAG}`, role: 'service' }))).token
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hb-metrics-'))
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort()
    const env = { DATABASE_URL: tdb.url, DATA_DIR: dataDir }
    const started = await Promise.all([
      startService('api', { ...env, HTTP_PORT: String(ports.http), NOTIFY_SECRET_KEY: randomBytes(32).toString('base64'), EGRESS_ALLOW: '127.0.0.1', RATE_LIMIT_PER_MINUTE: '0' }, 'API listening'),
      startService('broker', { ...env, MQTT_PORT: String(ports.mqtt), HEALTH_PORT: String(ports.broker) }, 'broker listening'),
      startService('ingest', { ...env, MQTT_URL: MOSQUITTO_URL, INGEST_CLIENT_ID: ingestClientId, HEALTH_PORT: String(ports.ingest) }, 'standalone ingest subscribed'),
    ])
    procs.push(...started)
    procs.push(
      await startService(
        'rules',
        { ...env, API_URL: `http://127.0.0.1:${ports.http}`, API_TOKEN: service, HEALTH_PORT: String(ports.rules), METRICS_TOKEN },
        'rules engine evaluating the feed',
      ),
    )
  }, 120_000)

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill9()))
    // The ingest's persistent session on Mosquitto: a clean connect with its client id discards it.
    const c = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: ingestClientId, clean: true, reconnectPeriod: 0 })
    await c.endAsync()
    await db.close()
    await tdb.drop()
    await rm(dataDir, { recursive: true, force: true })
  }, 60_000)

  it('counts stored readings in the process that stored them: broker, ingest and API each their own', async () => {
    const now = Date.now() - 60_000
    // Three readings to the broker over MQTT, QoS 1: acknowledged after their commit.
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: ON_BROKER, username: ON_BROKER, password: creds.get(ON_BROKER)?.secret ?? '', reconnectPeriod: 0 })
    for (let i = 0; i < 3; i++) await device.publishAsync(topics.deviceTelemetry(ON_BROKER), JSON.stringify({ ts: now + i, values: { battery_pct: 50 + i } }), { qos: 1 })
    // Two to Mosquitto, where the standalone ingest takes them.
    const other = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `pub-${TAG}`, reconnectPeriod: 0 })
    for (let i = 0; i < 2; i++) await other.publishAsync(topics.deviceTelemetry(ON_MOSQUITTO), JSON.stringify({ ts: now + i, values: { battery_pct: 60 + i } }), { qos: 1 })
    await other.endAsync()
    // One through the API's HTTP device API.
    const secret = creds.get(OVER_HTTP)?.secret ?? ''
    const posted = await fetch(`http://127.0.0.1:${ports.http}/ingest/v1/devices/${OVER_HTTP}/telemetry`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${OVER_HTTP}:${secret}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ts: now, values: { water_level_m: 2.5 } }),
      signal: AbortSignal.timeout(10_000),
    })
    expect(posted.status).toBe(200)

    const stored = 'hb_ingest_readings_stored_total'
    await eventually(async () => (sum(await metric(ports.ingest, stored)) === 2 ? true : undefined), 20_000, 'the ingest process to count its two readings')
    expect(sum(await metric(ports.broker, stored))).toBe(3)
    expect(sum(await metric(ports.http, stored))).toBe(1)
    // The device alone: the rules engine reads the feed from the database, not the broker.
    expect(sum(await metric(ports.broker, 'hb_broker_clients'))).toBe(1)
    // Whichever process stored them, the rules process evaluated all six readings.
    await eventually(async () => (sum(await metric(ports.rules, 'hb_rules_samples_evaluated_total', METRICS_TOKEN)) >= 6 ? true : undefined), 20_000, 'the rules process to evaluate the six readings')
    expect((await metric(ports.rules, 'hb_rules_feed_position', METRICS_TOKEN)).get('{partition="0/1"}')).toBeGreaterThan(0)
    await device.endAsync()
  })

  it('serves the rules catalogue from the rules process, behind METRICS_TOKEN, and no ingest figures', async () => {
    const refused = await scrape(ports.rules)
    expect(refused.status).toBe(401)
    expect(JSON.parse(refused.text)).toMatchObject({ code: 'unauthorized' })
    expect((await scrape(ports.rules, 'wrong')).status).toBe(401)
    const page = await scrape(ports.rules, METRICS_TOKEN)
    expect(page.status).toBe(200)
    expect(page.type).toContain('text/plain')
    for (const name of ['hb_rules_samples_evaluated_total', 'hb_rules_alerts_raised_total', 'hb_rules_alerts_cleared_total', 'hb_rules_late_samples_total', 'hb_rules_feed_position', 'hb_rules_feed_lag_seconds']) {
      expect(page.text).toContain(`# TYPE ${name} `)
    }
    expect(page.text).not.toContain('hb_ingest_readings_stored_total')
    // The process's own figures (Node's defaults) come with it.
    expect(samples(page.text, 'hb_process_resident_memory_bytes').size).toBe(1)
    // Without METRICS_TOKEN, the other processes answer anyone (on HOST only).
    expect((await scrape(ports.broker)).status).toBe(200)
  })

  it("counts the API's requests by route pattern and status, with latency histograms", async () => {
    for (const id of ['nope-1', 'nope-2']) expect((await api('GET', `/api/v1/devices/${id}`)).status).toBe(404)
    expect((await api('GET', '/api/v1/no-such-route')).status).toBe(404)
    const requests = await metric(ports.http, 'hb_http_requests_total')
    // Two devices, one route: the pattern is the label, never the id.
    expect(requests.get('{method="GET",route="/api/v1/devices/:id",status="404"}')).toBe(2)
    expect(requests.get('{method="GET",route="unmatched",status="404"}')).toBe(1)
    expect(requests.get('{method="POST",route="/ingest/v1/devices/:id/telemetry",status="200"}')).toBe(1)
    expect([...requests.keys()].some((k) => k.includes('nope'))).toBe(false)
    const buckets = await metric(ports.http, 'hb_http_request_duration_seconds_count')
    expect(buckets.get('{method="GET",route="/api/v1/devices/:id"}')).toBe(2)
  })

  it('shows the notification and webhook outboxes: depth, age of the oldest undelivered, deliveries by channel and outcome', async () => {
    const depth = (name: string) => metric(ports.http, name).then(sum)
    expect(await depth('hb_notify_outbox_depth')).toBe(0)
    expect(await depth('hb_webhook_outbox_depth')).toBe(0)
    // The test's company has no rota: its pages would go to the office's duty officer, and the gauge says so.
    expect(await depth('hb_notify_uncovered_companies')).toBeGreaterThanOrEqual(1)
    // A company bot and a webhook, both at a port where nobody listens: every attempt fails and is retried.
    const deadEnd = `http://127.0.0.1:${ports.deadEnd}`
    expect((await api('POST', '/api/v1/notify/channels', { companyId: 'co-test', kind: 'wecom', name: 'crew bot', settings: { baseUrl: deadEnd }, secrets: { key: 'k' } })).status).toBe(201)
    expect((await api('POST', '/api/v1/webhooks', { url: `${deadEnd}/hook`, events: ['raised'] })).status).toBe(201)
    const raised = await api('POST', '/api/v1/alerts', { ruleId: `metrics-${TAG}`, deviceId: ON_BROKER, condition: 'active', source: 'operator', severity: 'critical', title: 'cover lifted' })
    expect(raised.status).toBe(200)

    await eventually(async () => {
      const notified = await metric(ports.http, 'hb_notify_deliveries_total')
      const hooked = await metric(ports.http, 'hb_webhook_deliveries_total')
      return (notified.get('{channel="wecom",outcome="retry"}') ?? 0) >= 1 && (hooked.get('{outcome="retry"}') ?? 0) >= 1 ? true : undefined
    }, 30_000, 'a failed attempt of each, to be retried')
    // The queues are read from the database at most once a second, however often /metrics is fetched.
    await new Promise((r) => setTimeout(r, 1100))
    expect(await depth('hb_notify_outbox_depth')).toBe(1)
    expect(await depth('hb_webhook_outbox_depth')).toBe(1)
    expect(await depth('hb_notify_oldest_undelivered_seconds')).toBeGreaterThanOrEqual(1)
    expect(await depth('hb_webhook_oldest_undelivered_seconds')).toBeGreaterThanOrEqual(1)
  }, 60_000)
})
