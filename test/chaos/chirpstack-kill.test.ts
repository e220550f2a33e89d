// Chaos: `kill -9` of `housing-brain up` while its ChirpStack integration takes a QoS 1 stream of
// `up` events from Mosquitto (127.0.0.1:1883, standing in for ChirpStack's broker). Each event
// carries an EM320-TILT frame and its decoded `object`, at the time `baseTs + seq`, so a stored
// row names its event.
// The integration acknowledges an event only after its commit (CHIRPSTACK_ACK_WINDOW=0) on a
// persistent session; the kill lands while the readings table is locked, so events are waiting
// for their commit then. Mosquitto keeps — and after the restart redelivers — everything the
// killed process had not acknowledged: every event Mosquitto PUBACKed to the publisher must be
// stored exactly once (README, "ChirpStack v4": nothing is lost to a kill -9 of housing-brain).
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { afterAll, describe, expect, it } from 'vitest'
import { openDb } from '../../core/db/client.ts'
import { chirpstackTopic } from '../../intake/chirpstack.ts'
import { em320TiltFrame, upEvent } from '../../simulators/chirpstack.ts'
import { SeqPublisher, checkStored } from '../helpers/seq-publisher.ts'
import { MOSQUITTO, createTestDatabase, eventually, hasMosquitto, hasPostgres } from '../helpers/services.ts'
import { DEMO_COMMUNITY, startUp, storedTimestamps, type UpProcess } from '../helpers/up-process.ts'

const ready = (await hasPostgres()) && (await hasMosquitto())
const MOSQUITTO_URL = `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`
const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Events each device has stored before the kill, so it lands on a busy integration. */
const STORED_BEFORE_KILL = 40

describe.skipIf(!ready)('chaos: kill -9 of housing-brain up while ChirpStack events stream in', () => {
  // One session, and four splitting the events through a shared subscription.
  it.each([1, 4])('with %i session(s), stores every event Mosquitto acknowledged exactly once after the restart', { timeout: 240_000 }, async (sessions) => {
    const tdb = await createTestDatabase()
    cleanups.push(tdb.drop)
    const dataDir = await mkdtemp(path.join(tmpdir(), 'hb-chaos-cs-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    // An application and a session of this test's own: other tests share the broker.
    const app = randomUUID()
    const clientId = `hb-chaos-chirpstack-${randomBytes(4).toString('hex')}`
    cleanups.push(async () => {
      for (const id of sessions === 1 ? [clientId] : Array.from({ length: sessions }, (_, i) => `${clientId}-${i + 1}`)) {
        const c = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: id, clean: true, reconnectPeriod: 0 })
        await c.endAsync()
      }
    })
    const env = { DATABASE_URL: tdb.url, CHIRPSTACK_MQTT_URL: MOSQUITTO_URL, CHIRPSTACK_CLIENT_ID: clientId, CHIRPSTACK_APPLICATION_ID: app, CHIRPSTACK_ACK_WINDOW: '0', CHIRPSTACK_SESSIONS: String(sessions) }
    const track = (up: UpProcess) => {
      cleanups.push(() => up.kill9())
      return up
    }
    const first = track(await startUp(dataDir, env))

    const devices = [1, 2, 3].map((n) => ({ id: `cs-mh-${n}`, devEui: `24e1247100000${String(n).padStart(3, '0')}` }))
    for (const d of devices) {
      const res = await first.api('POST', '/api/v1/devices', { id: d.id, kind: 'manhole', communityId: DEMO_COMMUNITY, devEui: d.devEui, profileId: 'milesight-em320-tilt' })
      expect(res.status).toBe(201)
    }
    const baseTs = Date.now() - 10 * 60_000
    const publishers: SeqPublisher[] = []
    for (const d of devices) {
      const client = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `hb-chaos-cs-pub-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0 })
      cleanups.push(() => client.endAsync(true))
      // The EM320-TILT frame with ChirpStack's decoded `object` beside it (a codec in ChirpStack):
      // the durability under test does not then hang on the decoder sandbox's wall-clock limit,
      // which a starved machine restarting `up` can exceed (the frames' own decoding is tested in
      // test/integration/chirpstack.test.ts). The time is what names the event.
      const message = (seq: number) => ({
        topic: chirpstackTopic(app, d.devEui, 'up'),
        payload: JSON.stringify(
          upEvent({ applicationId: app, devEui: d.devEui, deviceName: d.id, time: baseTs + seq, fCnt: seq, fPort: 85, data: em320TiltFrame(seq % 101, 3), object: { battery_pct: seq % 101, cover_tilt_deg: 3 } }),
        ),
      })
      publishers.push(new SeqPublisher(client, { deviceId: d.id, metric: 'battery_pct', baseTs, intervalMs: 30, window: 10, message }))
    }
    for (const p of publishers) p.start()

    const db = await openDb({ url: tdb.url })
    cleanups.push(() => db.close())
    const storedPer = async () => {
      const rows = await db.query<{ device_id: string; n: number }>("SELECT device_id, count(*)::int AS n FROM readings WHERE metric = 'battery_pct' AND device_id LIKE 'cs-mh-%' GROUP BY device_id")
      return new Map(rows.map((r) => [r.device_id, r.n]))
    }
    await eventually(async () => {
      const per = await storedPer()
      return devices.every((d) => (per.get(d.id) ?? 0) >= STORED_BEFORE_KILL) ? true : undefined
    }, 60_000, 'the integration to store events')
    // Hold the readings table, so at the kill events are waiting for their commit: an
    // integration that acknowledged before the commit would lose them.
    const held = deferred()
    const isLocked = deferred()
    const lock = db.transaction(async (tx) => {
      await tx.query('LOCK TABLE readings IN SHARE ROW EXCLUSIVE MODE')
      isLocked.resolve()
      await held.promise
    })
    await isLocked.promise
    await new Promise((r) => setTimeout(r, 1500))
    await first.kill9()
    held.resolve()
    await lock
    const storedAtKill = [...(await storedPer()).values()].reduce((a, b) => a + b, 0)
    // The stream goes on into the broker while housing-brain is down; the session keeps it.
    await new Promise((r) => setTimeout(r, 1500))
    for (const p of publishers) expect(await p.stop(10_000)).toBe(0)
    const sent = publishers.reduce((n, p) => n + p.sent, 0)
    const acked = publishers.reduce((n, p) => n + p.acked.size, 0)

    const second = track(await startUp(dataDir, env))
    // Wait until every acknowledged event is in; if some never come, the check below names them.
    await eventually(async () => {
      const per = await storedPer()
      return devices.every((d, i) => (per.get(d.id) ?? 0) >= (publishers[i]?.acked.size ?? 0)) ? true : undefined
    }, 120_000, 'the redelivered events to be stored').catch(() => undefined)
    const problems: string[] = []
    let stored = 0
    for (const [i, d] of devices.entries()) {
      const pub = publishers[i]
      if (!pub) continue
      const ts = await storedTimestamps(second, d.id, 'battery_pct', baseTs, baseTs + pub.sent + 1)
      stored += ts.length
      const { missing, duplicated, foreign } = checkStored(pub, baseTs, ts)
      if (missing.length > 0) problems.push(`${d.id}: ${missing.length} acknowledged events missing (seq ${missing.slice(0, 10).join(', ')})`)
      if (duplicated.length > 0) problems.push(`${d.id}: stored more than once: seq ${duplicated.slice(0, 10).join(', ')}`)
      if (foreign.length > 0) problems.push(`${d.id}: rows no event explains: seq ${foreign.slice(0, 10).join(', ')}`)
    }
    if (problems.length > 0) {
      // What became of the missing ones, if they were taken at all.
      const letters = await db.query<{ device_id: string; reason_code: string; reason: string }>("SELECT device_id, reason_code, reason FROM dead_letters WHERE device_id LIKE 'cs-mh-%' OR device_id LIKE 'deveui:%' LIMIT 10")
      problems.push(...letters.map((l) => `dead letter ${l.device_id}: ${l.reason_code} ${l.reason}`))
      problems.push(...second.output().split('\n').filter((line) => /chirpstack|not stored/i.test(line)).slice(0, 10))
    }
    const redelivered = (await second.metric('hb_ingest_readings_duplicate_total')) ?? 0
    console.log(
      `chaos kill -9 of the ChirpStack integration (${sessions} session${sessions === 1 ? '' : 's'}): sent ${sent} up events, Mosquitto PUBACKed ${acked}, ${storedAtKill} stored at the kill, ` +
        `${stored} stored after the restart (lost ${acked - stored}); ${redelivered / 2} events committed but unacknowledged at the kill were redelivered and stored nothing twice`,
    )
    expect(problems).toEqual([])
    expect(stored).toBe(acked)
    expect(await second.interrupt()).toBe(0)
  })
})
