// The standalone ingest against the Mosquitto broker on 127.0.0.1:1883, run as the real CLI
// process so that `kill -9` is a real kill. What it can lose is stated in the README
// ("Durability"): at most INGEST_ACK_WINDOW readings; nothing with INGEST_ACK_WINDOW=0.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { MOSQUITTO, createTestDatabase, eventually, hasMosquitto, hasPostgres } from '../helpers/services.ts'
import { pino } from 'pino'
import { loadConfig } from '../../core/config.ts'
import { createMetrics } from '../../core/metrics.ts'
import { IngestService } from '../../ingest/service.ts'
import { StandaloneIngest } from '../../ingest/standalone.ts'
import { FIXTURE_PAST_AGE, seed } from '../helpers/stack.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')
const ready = (await hasPostgres()) && (await hasMosquitto())
const MOSQUITTO_URL = `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`

describe.skipIf(!ready)('standalone ingest on Mosquitto', () => {
  let db: Db
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  const children: ChildProcess[] = []
  const sessions: string[] = []

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
    await migrate(db, { log: silentLogger })
    await seed(db)
  })

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    // Drop the persistent sessions this test left in Mosquitto (a clean connect discards them).
    for (const clientId of sessions) {
      const c = await mqtt.connectAsync(MOSQUITTO_URL, { clientId, clean: true, reconnectPeriod: 0 })
      await c.endAsync()
    }
    await db.close()
    await tdb.drop()
  })

  /** Starts `housing-brain ingest` and resolves once it has subscribed. */
  async function startIngest(clientId: string, ackWindow: number): Promise<ChildProcess> {
    const child = spawn(process.execPath, [BIN, 'ingest'], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: tdb.url,
        MQTT_URL: MOSQUITTO_URL,
        INGEST_CLIENT_ID: clientId,
        INGEST_ACK_WINDOW: String(ackWindow),
        INGEST_MAX_PAST_AGE: FIXTURE_PAST_AGE,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    await eventually(() => (out.includes('standalone ingest subscribed') ? true : undefined), 20_000, `ingest to subscribe (output: ${out})`)
    return child
  }

  async function stored(deviceId: string, from: number): Promise<number> {
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE device_id = $1 AND ts >= $2', [deviceId, new Date(from)])
    return row?.n ?? 0
  }

  /** Publishes `n` one-reading messages (QoS 1) to Mosquitto as fast as it acknowledges them. */
  async function publish(deviceId: string, base: number, n: number, during?: (i: number) => void): Promise<void> {
    const pub = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `pub-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0 })
    const metric = deviceId.startsWith('el') ? 'car_load_kg' : 'battery_pct'
    for (let i = 0; i < n; i++) {
      await pub.publishAsync(topics.deviceTelemetry(deviceId), JSON.stringify({ ts: base + i, values: { [metric]: i % 100 } }), { qos: 1 })
      during?.(i)
    }
    await pub.endAsync()
  }

  /** Waits until the count has stopped moving for three seconds (a busy machine may pause a second). */
  async function settle(deviceId: string, from: number): Promise<number> {
    let last = -1
    let still = 0
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000))
      const now = await stored(deviceId, from)
      still = now === last ? still + 1 : 0
      if (still === 3) return now
      last = now
    }
  }

  it('keeps handling messages after one beyond the ack window fails (no PUBACK, but MQTT.js is called back)', async () => {
    // In process, to see each failure: the writer is stopped, so every message fails after parsing.
    const lines: string[] = []
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) })
    const ingest = new IngestService(db, loadConfig({ INGEST_MAX_PAST_AGE: FIXTURE_PAST_AGE }).ingest, log, createMetrics({ defaults: false }))
    const clientId = `hb-test-ingest-${randomBytes(4).toString('hex')}`
    sessions.push(clientId)
    const subscriber = new StandaloneIngest(ingest, { url: MOSQUITTO_URL, clientId, ackWindow: 0 }, log)
    await ingest.start()
    await subscriber.start()
    await ingest.stop()
    // A device id of this test alone, so other traffic on the shared broker does not count.
    const topic = topics.deviceTelemetry(`cb-${randomBytes(4).toString('hex')}`)
    const pub = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `pub-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0 })
    for (let i = 0; i < 3; i++) await pub.publishAsync(topic, JSON.stringify({ values: { battery_pct: i } }), { qos: 1 })
    await pub.endAsync()
    const failed = () => lines.filter((l) => l.includes(topic) && l.includes('message not stored')).length
    await eventually(() => (failed() === 3 ? true : undefined), 10_000, `three failed messages logged (saw ${failed()})`)
    await subscriber.stop()
  })

  it('stores what is published to Mosquitto, and dead-letters what is bad', async () => {
    const clientId = `hb-test-ingest-${randomBytes(4).toString('hex')}`
    sessions.push(clientId)
    const child = await startIngest(clientId, 1000)
    const base = Date.UTC(2026, 8, 1)
    await publish('ft-1', base, 5)
    await eventually(async () => ((await stored('ft-1', base)) === 5 ? true : undefined), 10_000, 'five readings')
    await publish('ghost-7', base, 1)
    await eventually(async () => {
      const rows = await db.query<{ reason_code: string }>("SELECT reason_code FROM dead_letters WHERE device_id = 'ghost-7'")
      return rows[0]?.reason_code === 'unknown_device' ? true : undefined
    })
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  })

  it('publishes nothing back on the broker it reads (a third party\'s, e.g. ChirpStack\'s): what it committed is on the feed', async () => {
    const clientId = `hb-test-ingest-${randomBytes(4).toString('hex')}`
    sessions.push(clientId)
    const child = await startIngest(clientId, 1000)
    const watcher = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `watch-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0 })
    const foreign: string[] = []
    watcher.on('message', (topic) => {
      if (!topic.startsWith('hb/v1/devices/') && !topic.startsWith('hb/v1/gateways/')) foreign.push(topic)
    })
    await watcher.subscribeAsync('#', { qos: 0 })
    // A timestamp of this test alone: other traffic on the shared broker does not match it.
    const base = Date.UTC(2026, 9, 1) + Math.floor(Math.random() * 1_000_000) * 1000
    await publish('ft-1', base, 1)
    const entry = await eventually(async () => {
      const rows = await db.query<{ entries: string }>('SELECT entries FROM feed ORDER BY xid DESC, id DESC LIMIT 50')
      return rows.map((r) => JSON.parse(r.entries) as { d?: string; r?: [string, number, number][] }[]).flat().find((e) => e.d === 'ft-1' && e.r?.some(([, ts]) => ts === base))
    }, 10_000, 'the reading on the feed')
    expect(entry.r).toContainEqual(['battery_pct', base, 0])
    await new Promise((r) => setTimeout(r, 500))
    expect(foreign.filter((t) => t.startsWith('hb/'))).toEqual([])
    await watcher.endAsync()
    child.kill('SIGTERM')
  })

  it('with INGEST_ACK_WINDOW=0 loses nothing to kill -9: the persistent session redelivers', { timeout: 120_000 }, async () => {
    const clientId = `hb-test-ingest-${randomBytes(4).toString('hex')}`
    sessions.push(clientId)
    let child = await startIngest(clientId, 0)
    const base = Date.UTC(2026, 8, 2)
    const total = 400
    let killed = false
    await publish('el-1', base, total, (i) => {
      if (i === 150) {
        child.kill('SIGKILL')
        killed = true
      }
    })
    expect(killed).toBe(true)
    // Everything after the kill waits in Mosquitto for the session.
    child = await startIngest(clientId, 0)
    expect(await settle('el-1', base)).toBe(total)
    child.kill('SIGTERM')
  })

  it('with INGEST_ACK_WINDOW=N loses at most N readings to kill -9', { timeout: 120_000 }, async () => {
    const clientId = `hb-test-ingest-${randomBytes(4).toString('hex')}`
    sessions.push(clientId)
    const window = 50
    let child = await startIngest(clientId, window)
    const base = Date.UTC(2026, 8, 3)
    // Mosquitto queues at most max_queued_messages (default 1000) per client, online or offline,
    // and drops the rest: a busy machine can leave the ingest hundreds behind the publisher, so
    // the whole run stays below that bound, whatever the lag.
    const total = 900
    await publish('mh-1', base, total, (i) => {
      if (i === 600) child.kill('SIGKILL')
    })
    child = await startIngest(clientId, window)
    const n = await settle('mh-1', base)
    console.log(`kill -9 with a window of ${window} readings lost ${total - n} of ${total}`)
    expect(total - n).toBeGreaterThanOrEqual(0)
    expect(total - n).toBeLessThanOrEqual(window)
    child.kill('SIGTERM')
  })
})
