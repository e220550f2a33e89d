// Readiness, liveness and graceful drain of real service processes (issue 11): readiness follows
// the database (cut and restored through a TCP proxy) while liveness stays up; a SIGTERM in the
// middle of a QoS 1 stream keeps every acknowledgement the broker gave and exits within
// SHUTDOWN_TIMEOUT; a drain that cannot finish in time, or a second signal, exits at once with a
// log line naming what was abandoned.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { createTestDatabase, eventually, freePort, hasPostgres } from '../helpers/services.ts'
import { startService } from '../helpers/service-process.ts'
import { seed } from '../helpers/stack.ts'
import { checkStored, SeqPublisher } from '../helpers/seq-publisher.ts'
import { tcpProxy } from '../helpers/tcp-proxy.ts'

const pgUp = await hasPostgres()

async function probe(port: number, url: string): Promise<{ status: number; body: { problems?: string[] } }> {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, { signal: AbortSignal.timeout(5000) })
  return { status: res.status, body: (await res.json()) as { problems?: string[] } }
}

describe.skipIf(!pgUp)('health endpoints and drain of the service processes', () => {
  const proxy = tcpProxy()
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db
  let creds: Awaited<ReturnType<typeof seed>>
  let dataDir: string
  let token: string

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
    await migrate(db, { log: silentLogger })
    creds = await seed(db)
    token = (await issueToken(db, await insertUser(db, { name: 'ops', role: 'admin' }))).token
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hb-health-'))
  })

  afterAll(async () => {
    await db.close()
    await proxy.stop()
    await tdb.drop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('is unready while the database is away and ready again after, live all along (API and broker)', async () => {
    const proxyPort = await proxy.start()
    const url = `postgres://postgres@127.0.0.1:${proxyPort}/${tdb.name}`
    const [httpPort, mqttPort, healthPort] = [await freePort(), await freePort(), await freePort()]
    const api = await startService('api', { DATABASE_URL: url, HTTP_PORT: String(httpPort), DATA_DIR: dataDir }, 'API listening')
    const broker = await startService('broker', { DATABASE_URL: url, MQTT_PORT: String(mqttPort), HEALTH_PORT: String(healthPort) }, 'broker listening')
    try {
      const ports = [httpPort, healthPort]
      for (const port of ports) expect((await probe(port, '/readyz')).status).toBe(200)
      proxy.cut()
      for (const port of ports) {
        const down = await eventually(async () => {
          const r = await probe(port, '/readyz')
          return r.status === 503 ? r : undefined
        }, 20_000, `port ${port} to turn unready`)
        expect(down.body.problems).toContain('database is not answering')
        expect((await probe(port, '/livez')).status).toBe(200)
      }
      proxy.restore()
      for (const port of ports) await eventually(async () => ((await probe(port, '/readyz')).status === 200 ? true : undefined), 30_000, `port ${port} to be ready again`)
    } finally {
      proxy.restore()
      await api.kill9()
      await broker.kill9()
    }
  }, 120_000)

  it('on SIGTERM amid QoS 1 publishes keeps every acknowledged reading and exits within SHUTDOWN_TIMEOUT', async () => {
    const mqttPort = await freePort()
    const broker = await startService('broker', { DATABASE_URL: tdb.url, MQTT_PORT: String(mqttPort), SHUTDOWN_TIMEOUT: '10s' }, 'broker listening')
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'mh-2', username: 'mh-2', password: creds.get('mh-2')?.secret ?? '', reconnectPeriod: 0 })
    client.on('error', () => undefined)
    const base = Date.now()
    const pub = new SeqPublisher(client, { deviceId: 'mh-2', metric: 'battery_pct', baseTs: base, intervalMs: 1, window: 20, value: () => 50 })
    pub.start()
    try {
      await eventually(() => (pub.acked.size >= 200 ? true : undefined), 30_000, 'acknowledged publishes before the signal')
      const ended = await broker.terminate()
      // Ending the client settles the publications the dead connection left waiting.
      client.end(true)
      await pub.stop(0)
      expect(ended.code, broker.output().slice(-3000)).toBe(0)
      expect(broker.output()).toContain('shutting down: draining')
      expect(broker.output()).not.toContain('timed out')
      const rows = await db.query<{ ts: Date }>('SELECT ts FROM readings WHERE device_id = $1 AND metric = $2 AND ts >= $3', ['mh-2', 'battery_pct', new Date(base)])
      const stored = rows.map((r) => r.ts.getTime())
      // Every PUBACKed reading is stored, once (the unique key), and nothing else.
      expect(checkStored(pub, base, stored)).toEqual({ missing: [], duplicated: [], foreign: [] })
      console.log(`SIGTERM amid QoS 1: ${pub.sent} sent, ${pub.acked.size} acknowledged, ${stored.length} stored`)
    } finally {
      client.end(true)
      await broker.kill9()
    }
  }, 120_000)

  it('answers /readyz with 503 while still serving for SHUTDOWN_READY_DELAY, then exits 0', async () => {
    const port = await freePort()
    const api = await startService('api', { DATABASE_URL: tdb.url, HTTP_PORT: String(port), DATA_DIR: dataDir, SHUTDOWN_READY_DELAY: '10s', SHUTDOWN_TIMEOUT: '30s' }, 'API listening')
    try {
      expect((await probe(port, '/readyz')).status).toBe(200)
      api.child.kill('SIGTERM')
      const draining = await eventually(async () => {
        const r = await probe(port, '/readyz')
        return r.status === 503 ? r : undefined
      }, 10_000, '/readyz to turn 503 on SIGTERM')
      expect(draining.body.problems).toContain('shutting down (draining)')
      // Unready, yet still answering: liveness and requests are served until the listener closes.
      expect((await probe(port, '/livez')).status).toBe(200)
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/alerts`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) })
      expect(res.status).toBe(200)
      const ended = await api.exited
      expect(ended.code, api.output().slice(-3000)).toBe(0)
    } finally {
      await api.kill9()
    }
  }, 90_000)

  describe('a drain that cannot finish', () => {
    // A webhook receiver that takes the request and never answers: the dispatcher's pass stays in flight.
    const hanging = http.createServer(() => undefined)
    let hookUrl = ''
    const opened: unknown[] = []
    hanging.on('request', (req) => opened.push(req))

    beforeAll(async () => {
      await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
      const addr = hanging.address()
      hookUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`
    })

    afterAll(async () => {
      hanging.closeAllConnections()
      await new Promise<void>((resolve) => hanging.close(() => resolve()))
    })

    async function apiWithHangingDelivery(shutdownTimeout: string) {
      const port = await freePort()
      const env = { DATABASE_URL: tdb.url, HTTP_PORT: String(port), DATA_DIR: dataDir, NOTIFY_SECRET_KEY: randomBytes(32).toString('base64'), EGRESS_ALLOW: '127.0.0.1', SHUTDOWN_TIMEOUT: shutdownTimeout }
      const api = await startService('api', env, 'API listening')
      const call = (method: string, url: string, body: unknown) =>
        fetch(`http://127.0.0.1:${port}${url}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
      const before = opened.length
      expect((await call('POST', '/api/v1/webhooks', { url: hookUrl, events: ['raised'] })).status).toBe(201)
      const raised = await call('POST', '/api/v1/alerts', { ruleId: `hang-${before}`, deviceId: 'mh-3', condition: 'active', source: 'operator', severity: 'minor', title: 'hanging delivery' })
      expect(raised.status).toBe(200)
      await eventually(() => (opened.length > before ? true : undefined), 20_000, 'the delivery to reach the receiver')
      return api
    }

    it('exits at SHUTDOWN_TIMEOUT with a log line naming what it abandoned', async () => {
      const api = await apiWithHangingDelivery('1s')
      try {
        const ended = await api.terminate()
        expect(ended.code).toBe(1)
        const line = api.output().split('\n').find((l) => l.includes('shutdown timed out'))
        expect(line, api.output().slice(-3000)).toBeDefined()
        console.log(`forced exit: ${line ?? ''}`)
        expect(line).toContain('"abandoned":["api (webhooks')
      } finally {
        await api.kill9()
      }
    }, 60_000)

    it('exits at once on a second signal, naming what it abandoned', async () => {
      const api = await apiWithHangingDelivery('60s')
      try {
        api.child.kill('SIGTERM')
        await eventually(() => (api.output().includes('shutting down: draining') ? true : undefined), 10_000, 'the drain to begin')
        // A copy of the first signal within a second is taken for a launcher's forwarded one (cli/main.ts).
        await new Promise((r) => setTimeout(r, 1100))
        const ended = await api.terminate()
        expect(ended.code).toBe(1)
        const line = api.output().split('\n').find((l) => l.includes('second signal'))
        expect(line, api.output().slice(-3000)).toBeDefined()
        expect(line).toContain('"abandoned":["api (webhooks')
      } finally {
        await api.kill9()
      }
    }, 60_000)
  })
})
