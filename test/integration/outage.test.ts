// The database goes away under load: acknowledgements stop, memory stays bounded, and the
// ingest recovers by itself when the database is back.
import { spawn } from 'node:child_process'
import path from 'node:path'
import mqtt from 'mqtt'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { DEVICE_CHANGED_CHANNEL } from '../../core/repos/devices.ts'
import { PG_ADMIN_URL, createTestDatabase, eventually, freePort, hasPostgres } from '../helpers/services.ts'
import { seed, startStack, type TestStack } from '../helpers/stack.ts'
import { apiFor } from '../helpers/api.ts'
import { tcpProxy } from '../helpers/tcp-proxy.ts'

const pgUp = await hasPostgres()
const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')

describe.skipIf(!pgUp)('database outage', () => {
  // Both halves of the path wait out the outage: device lookups (cold cache) and batch commits.
  let stack: TestStack
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL })

  beforeAll(async () => {
    tdb = await createTestDatabase()
    stack = await startStack(tdb.url, { INGEST_QUEUE_MAX_ROWS: '20', INGEST_BATCH_MAX_WAIT: '1ms' })
    await admin.connect()
  })

  afterAll(async () => {
    await admin.query(`ALTER DATABASE ${tdb.name} ALLOW_CONNECTIONS true`).catch(() => undefined)
    await admin.end()
    await stack.stop()
    await tdb.drop()
  })

  it('holds PUBACKs while the database is unreachable, bounds the queue, and recovers without a restart', async () => {
    const clients = await Promise.all(['mh-1', 'ft-1', 'el-1'].map((id) => stack.connect(id)))
    // One message each first, so the devices are known and the outage hits the writes.
    await Promise.all(clients.map((c, i) => c.publishAsync(topics.deviceTelemetry(['mh-1', 'ft-1', 'el-1'][i] ?? ''), '{"values":{"battery_pct":99}}', { qos: 1 })))
    // Take the database away: no new connections, existing ones killed.
    await admin.query(`ALTER DATABASE ${tdb.name} ALLOW_CONNECTIONS false`)
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [tdb.name])

    const base = Date.UTC(2026, 2, 1)
    let acked = 0
    const metricOf: Record<string, string> = { 'mh-1': 'battery_pct', 'ft-1': 'battery_pct', 'el-1': 'car_load_kg' }
    const publishes = clients.flatMap((client, c) =>
      Array.from({ length: 20 }, (_, i) => {
        const id = ['mh-1', 'ft-1', 'el-1'][c] ?? ''
        const payload = JSON.stringify({ ts: base + i * 1000, values: { [metricOf[id] ?? '']: 10 + i } })
        return client.publishAsync(topics.deviceTelemetry(id), payload, { qos: 1 }).then(() => {
          acked++
        })
      }),
    )
    let maxPending = 0
    const watch = setInterval(() => {
      maxPending = Math.max(maxPending, stack.unit.ingest.writer.pendingRows)
    }, 10)
    await new Promise((r) => setTimeout(r, 2000))
    expect(acked).toBe(0)
    // Bounded: the queue limit (20 rows) plus at most one message that entered an empty queue.
    expect(stack.unit.ingest.writer.pendingRows).toBeLessThanOrEqual(20)

    await admin.query(`ALTER DATABASE ${tdb.name} ALLOW_CONNECTIONS true`)
    await Promise.all(publishes)
    clearInterval(watch)
    expect(acked).toBe(60)
    expect(maxPending).toBeLessThanOrEqual(20)
    const [count] = await stack.db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE ts >= $1 AND ts < $2', [new Date(base), new Date(base + 60_000)])
    expect(count?.n).toBe(60)
    const failures = (await stack.metrics.writeFailures.get()).values[0]?.value ?? 0
    expect(failures).toBeGreaterThan(0)
  })

  it('serves normally after the outage', async () => {
    const client = await stack.connect('mh-1', { clientId: 'mh-1/after' })
    await client.publishAsync(topics.deviceTelemetry('mh-1'), JSON.stringify({ values: { gas_lel_pct: 3 } }), { qos: 1 })
    await eventually(async () => {
      const rows = await stack.db.query("SELECT 1 FROM latest WHERE device_id = 'mh-1' AND metric = 'gas_lel_pct'")
      return rows.length === 1 ? true : undefined
    })
  })
})

describe.skipIf(!pgUp)('database outage while devices publish', () => {
  // The network path is cut while transactions are running (a restart or failover as the client
  // sees it): the connections die mid-COPY or mid-COMMIT, not while idle in the pool.
  const proxy = tcpProxy()
  let stack: TestStack
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let direct: Db

  beforeAll(async () => {
    tdb = await createTestDatabase()
    const port = await proxy.start()
    stack = await startStack(`postgres://postgres@127.0.0.1:${port}/${tdb.name}`, { INGEST_BATCH_MAX_WAIT: '1ms', INGEST_QUEUE_MAX_ROWS: '200', INGEST_STALL_AFTER: '1s' })
    direct = await openDb({ url: tdb.url })
  })

  afterAll(async () => {
    proxy.restore()
    await stack.stop()
    await direct.close()
    await proxy.stop()
    await tdb.drop()
  })

  it('survives connections cut mid-transaction and stores every PUBACKed reading once the database is back', async () => {
    // In the all-in-one process an uncaught error is fatal (close-with-grace exits with 1).
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown) => uncaught.push(err)
    process.on('uncaughtException', onUncaught)
    const ids = ['mh-1', 'ft-1', 'el-1']
    const clients = await Promise.all(ids.map((id) => stack.connect(id)))
    const base = Date.UTC(2026, 3, 1)
    const acked: number[] = []
    let sent = 0
    let publishing = true
    // Each device keeps up to 5 messages in flight, as firmware with a small outbound window does.
    const loops = clients.map(async (client, c) => {
      const id = ids[c] ?? ''
      const metric = id === 'el-1' ? 'car_load_kg' : 'battery_pct'
      const inFlight = new Set<Promise<void>>()
      while (publishing) {
        const ts = base + sent++ * 10
        const p = client.publishAsync(topics.deviceTelemetry(id), JSON.stringify({ ts, values: { [metric]: 50 } }), { qos: 1 }).then(() => {
          acked.push(ts)
        })
        inFlight.add(p)
        void p.finally(() => inFlight.delete(p))
        if (inFlight.size >= 5) await Promise.race(inFlight)
      }
      await Promise.all(inFlight)
    })

    // Two outages while the stream flows, each cut landing on live transactions.
    for (let round = 0; round < 2; round++) {
      await eventually(() => (acked.length > 30 * (round + 1) ? true : undefined), 20_000, 'acknowledgements before the cut')
      proxy.cut()
      await new Promise((r) => setTimeout(r, 1500))
      const ackedDuringOutage = acked.length
      await new Promise((r) => setTimeout(r, 500))
      // Nothing can be acknowledged while nothing can be committed.
      expect(acked.length).toBe(ackedDuringOutage)
      proxy.restore()
    }
    await eventually(() => (acked.length > sent / 2 ? true : undefined), 20_000, 'acknowledgements after the outage')
    publishing = false
    await Promise.all(loops)

    const rows = await direct.query<{ ts: Date }>('SELECT ts FROM readings WHERE ts >= $1 ORDER BY ts', [new Date(base)])
    const stored = new Set(rows.map((r) => r.ts.getTime()))
    const missing = acked.filter((ts) => !stored.has(ts))
    expect(missing).toEqual([])
    expect(acked.length).toBe(sent)
    expect(rows.length).toBe(stored.size)
    process.off('uncaughtException', onUncaught)
    expect(uncaught).toEqual([])

    // The LISTEN connection came back too: a credentials change still disconnects the device.
    await eventually(async () => {
      await direct.query('SELECT pg_notify($1, $2)', [DEVICE_CHANGED_CHANNEL, JSON.stringify({ id: 'mh-1', credentials: true })])
      return clients[0]?.connected === false ? true : undefined
    }, 15_000, 'the device-change notification after the outage')
    expect((await stack.metrics.writeFailures.get()).values[0]?.value ?? 0).toBeGreaterThan(0)
  })

  it('reports a stalled ingest on /health and /ready, with the reason, until the backlog drains', async () => {
    // The API reads its own database (up); only the ingest's path is cut.
    const { app } = await apiFor(direct, { timescale: undefined }, {}, [() => stack.unit.ingest.stallReason()])
    const client = await stack.connect('ft-1', { clientId: 'ft-1/stall' })
    expect((await app.inject({ url: '/ready' })).statusCode).toBe(200)
    proxy.cut()
    const publish = client.publishAsync(topics.deviceTelemetry('ft-1'), JSON.stringify({ ts: Date.now(), values: { battery_pct: 5 } }), { qos: 1 })
    const stalled = await eventually(async () => {
      const res = await app.inject({ url: '/ready' })
      return res.statusCode === 503 ? res.json<{ status: string; database: string; problems: string[] }>() : undefined
    }, 10_000, '/ready to report the stall')
    expect(stalled.status).toBe('degraded')
    expect(stalled.database).toBe('up')
    expect(stalled.problems.join()).toMatch(/ingest stalled: the oldest unacknowledged message has waited \d+ s \(limit 1 s\)/)
    expect((await app.inject({ url: '/health' })).statusCode).toBe(503)
    proxy.restore()
    await publish
    await eventually(async () => ((await app.inject({ url: '/health' })).statusCode === 200 ? true : undefined), 10_000, '/health to recover')
    await app.close()
  })
})

describe.skipIf(!pgUp)('SIGTERM while the database is away', () => {
  // The real CLI process: an uncaught error there ends it (close-with-grace), and its shutdown has a
  // grace time of 15 s after which it is killed with exit code 1.
  const proxy = tcpProxy()
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let direct: Db
  let creds: Awaited<ReturnType<typeof seed>>

  beforeAll(async () => {
    tdb = await createTestDatabase()
    direct = await openDb({ url: tdb.url })
    await migrate(direct, { log: silentLogger })
    creds = await seed(direct)
  })

  afterAll(async () => {
    await direct.close()
    await proxy.stop()
    await tdb.drop()
  })

  it('survives the cut, then stops cleanly on SIGTERM within its grace time, acknowledging nothing it did not commit', async () => {
    const proxyPort = await proxy.start()
    const mqttPort = await freePort()
    const child = spawn(process.execPath, [BIN, 'broker'], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: `postgres://postgres@127.0.0.1:${proxyPort}/${tdb.name}`,
        HOST: '127.0.0.1',
        MQTT_PORT: String(mqttPort),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      await eventually(() => (out.includes('broker listening') ? true : undefined), 30_000, `the broker to listen (output: ${out})`)
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'mh-1', username: 'mh-1', password: creds.get('mh-1')?.secret ?? '', reconnectPeriod: 0 })
      // A device publishing all along, so the cut lands on live transactions.
      const base = Date.now()
      const acked: number[] = []
      const state = { publishing: true }
      let n = 0
      const loop = (async () => {
        const inFlight = new Set<Promise<unknown>>()
        while (state.publishing && client.connected) {
          const ts = base + n++
          const p = client.publishAsync(topics.deviceTelemetry('mh-1'), JSON.stringify({ ts, values: { battery_pct: 1 } }), { qos: 1 }).then(
            () => acked.push(ts),
            () => undefined,
          )
          inFlight.add(p)
          void p.finally(() => inFlight.delete(p))
          if (inFlight.size >= 5) await Promise.race([...inFlight, new Promise((r) => setTimeout(r, 200))])
        }
      })()
      await eventually(() => (acked.length >= 50 ? true : undefined), 20_000, 'acknowledgements before the cut')
      proxy.cut()
      // Long enough for the cut to reach the writer and for a crash to happen, if one would.
      await new Promise((r) => setTimeout(r, 2000))
      expect(child.exitCode, out.slice(-3000)).toBeNull()
      child.kill('SIGTERM')
      const code = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 20_000))])
      state.publishing = false
      await loop
      client.end(true)
      expect(code, out.slice(-3000)).toBe(0)
      expect(out).not.toContain('killed by timeout')
      // Acknowledged means committed: every PUBACKed reading is there, nothing else was acknowledged.
      const rows = await direct.query<{ ts: Date }>('SELECT ts FROM readings WHERE device_id = $1 AND ts >= $2', ['mh-1', new Date(base)])
      const stored = new Set(rows.map((r) => r.ts.getTime()))
      expect(acked.filter((ts) => !stored.has(ts))).toEqual([])
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
