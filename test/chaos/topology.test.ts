// The whole deployment of issue 11 on this machine, as real processes on the real PostgreSQL,
// Redis and RabbitMQ: two Aedes `broker` processes sharing Redis, two `api` processes, two
// `ingest --from amqp://` workers behind RabbitMQ's MQTT plugin, two `rules` processes (0/2, 1/2),
// a TCP load balancer in front of the brokers and one in front of the APIs. A fleet of manholes
// publishes QoS 1 with sequence numbers, two thirds on the Aedes tier and a third on RabbitMQ;
// whatever commits them, the readings reach the rules engine of their partition through the
// commit-ordered feed in the database (core/feed.ts), so faults on either tier are evaluated.
//
// While the fleet publishes, one process of each kind is killed with kill -9, one at a time:
// a broker (its devices reconnect through the balancer to the other and resend), an AMQP worker
// (RabbitMQ redelivers what it had not acknowledged) — these two frozen for a second before the
// kill, so that it surely leaves work unacknowledged — the API that leads the deadline checker (its SSE
// subscriber resumes on the other with Last-Event-ID; the other takes the timed jobs over), and a
// rules process (faults of its partition happen while it is dead; it is restarted with the same
// partition and raises them after its rebuild). Faults (a cover tilted past 30°) are injected on
// devices of both tiers and both partitions between the kills. Then: every PUBACKed reading is
// stored exactly once, every fault raised exactly one alert, each SSE subscriber saw every alert
// event, and each deadline escalation reached the webhook receiver once. The counts are printed.
//
// Chaos tests run serially after the main suite: RabbitMQ's auth backend is pointed node-wide at
// this test's APIs.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStream, type StreamClient, type StreamEvent } from '../../alerts/stream-client.ts'
import { topics } from '../../core/contract.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { bucketOf } from '../../core/feed.ts'
import { ruleRow, seedRules } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'
import { clearRedisTag, startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.ts'
import { startEscalationReceiver, type EscalationReceiver } from '../helpers/escalation-receiver.ts'
import { loginDevice } from '../helpers/mqtt-login.ts'
import { pointRabbitAuthAt, rabbitManagement, setUpRabbitQueue } from '../helpers/rabbitmq.ts'
import { SeqPublisher, checkStored } from '../helpers/seq-publisher.ts'
import { startService, type ServiceProcess } from '../helpers/service-process.ts'
import { RABBITMQ, REDIS_URL, createTestDatabase, eventually, freePort, hasPostgres, hasRabbitMq, hasRedis } from '../helpers/services.ts'
import { tcpBalancer, type TcpBalancer } from '../helpers/tcp-balancer.ts'

const up = (await hasPostgres()) && (await hasRedis()) && (await hasRabbitMq())

// Device ids, client ids, the service user (in its MQTT client ids) and the queue carry a tag of
// their own, so what this run leaves in Redis and RabbitMQ can be told apart and removed.
const TAG = randomBytes(3).toString('hex')
const QUEUE = `hb.test.topology.${TAG}`
const METRIC = 'water_level_cm'
const FAULT_RULE = 'manhole-cover-displaced'
const AEDES_PER_PARTITION = 12
const RABBIT_PER_PARTITION = 6

type Tier = 'aedes' | 'rabbit'
interface Device {
  id: string
  tier: Tier
  partition: 0 | 1
  client: MqttClient
  pub: SeqPublisher
}

/** Device ids of this run, as many as asked in each partition (the bucket hash decides which). */
function deviceIds(perPartition: number, prefix: string): { id: string; partition: 0 | 1 }[] {
  const out: { id: string; partition: 0 | 1 }[] = []
  const count = [0, 0]
  for (let n = 0; out.length < 2 * perPartition; n++) {
    const id = `${prefix}-${TAG}-${n}`
    const partition = (bucketOf({ id, gatewayId: null }) % 2) as 0 | 1
    if ((count[partition] ?? 0) >= perPartition) continue
    count[partition] = (count[partition] ?? 0) + 1
    out.push({ id, partition })
  }
  return out
}

describe.skipIf(!up)('the deployment topology under kill -9 of one process of each kind', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db
  let dataDir: string
  let admin: string
  let service: string
  const rabbitKey = randomBytes(24).toString('hex')
  let rabbitQueues: Awaited<ReturnType<typeof setUpRabbitQueue>> | undefined
  const notifyKey = randomBytes(32).toString('base64')
  const procs: ServiceProcess[] = []
  const brokers: BrokerProcess[] = []
  const balancers: TcpBalancer[] = []
  const devices: Device[] = []
  const streams: StreamClient[] = []
  let receiver: EscalationReceiver | undefined
  const specs = [
    ...deviceIds(AEDES_PER_PARTITION, 'tpa').map((d) => ({ ...d, tier: 'aedes' as const })),
    ...deviceIds(RABBIT_PER_PARTITION, 'tpr').map((d) => ({ ...d, tier: 'rabbit' as const })),
  ]
  const creds = new Map<string, string>()

  const env = () => ({ DATABASE_URL: tdb.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn' })
  const track = (p: ServiceProcess) => {
    procs.push(p)
    return p
  }
  const alive = (p: ServiceProcess) => p.child.exitCode === null && p.child.signalCode === null

  async function startApi(): Promise<{ proc: ServiceProcess; port: number }> {
    const port = await freePort()
    const proc = await startService(
      'api',
      {
        ...env(),
        LOG_LEVEL: 'info',
        HTTP_PORT: String(port),
        NOTIFY_SECRET_KEY: notifyKey,
        RABBITMQ_AUTH_KEY: rabbitKey,
        EGRESS_ALLOW: '127.0.0.1',
        RATE_LIMIT_PER_MINUTE: '0',
        ALERT_CHECK_EVERY: '200ms',
        LEADER_RETRY: '500ms',
        // Every fault is critical: its acknowledge and resolve deadlines pass during the run.
        ALERT_DEADLINES: 'critical=2s/4s',
        ALERT_REMIND_EVERY: '1h',
      },
      'API listening',
    )
    return { proc: track(proc), port }
  }

  const startWorker = async () =>
    track(
      await startService(
        ['ingest', '--from', RABBITMQ.amqpUrl],
        { ...env(), LOG_LEVEL: 'info', INGEST_AMQP_QUEUE: QUEUE, INGEST_AMQP_PREFETCH: '50', API_TOKEN: service, RABBITMQ_MANAGEMENT_URL: RABBITMQ.managementUrl },
        'consuming telemetry from RabbitMQ',
      ),
    )

  const startRules = async (partition: string, apiUrl: string) =>
    track(
      await startService(
        'rules',
        { ...env(), LOG_LEVEL: 'info', API_URL: apiUrl, API_TOKEN: service, RULES_PARTITION: partition, RULES_TICK: '200ms' },
        'rules engine evaluating the feed',
      ),
    )

  const call = async (port: number, method: string, url: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${url}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  const faultAlerts = async () =>
    new Map((await db.query<{ device_id: string; n: number }>('SELECT device_id, count(*)::int AS n FROM alerts WHERE rule_id = $1 GROUP BY device_id', [FAULT_RULE])).map((r) => [r.device_id, r.n]))
  const allEventIds = async () => (await db.query<{ id: number }>('SELECT id FROM alert_events ORDER BY id')).map((r) => r.id)

  /** The queue's statistics from RabbitMQ's management API: `redeliver` counts the killed worker's unacknowledged messages delivered again. */
  async function queueStats(): Promise<{ publish?: number; deliver?: number; redeliver?: number } | undefined> {
    const q = await rabbitManagement()
      .get<{ message_stats?: { publish?: number; deliver?: number; redeliver?: number } }>(`/queues/%2F/${encodeURIComponent(QUEUE)}`)
      .catch(() => undefined)
    return q?.message_stats
  }

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
    await migrate(db, { log: silentLogger })
    await seedRules(db, DEFAULT_RULES.map(ruleRow))
    await provisionCommunity(db, { id: 'co-topology', name: 'Topology Co.' }, { id: 'cm-topology', name: 'Topology Community' })
    admin = (await issueToken(db, await insertUser(db, { name: `topology-admin-${TAG}`, role: 'admin' }))).token
    service = (await issueToken(db, await insertUser(db, { name: `topology-${TAG}`, role: 'service' }))).token
    // Registered before the rules engines start, which read the registry at start-up.
    for (const c of await provisionDevices(db, specs.map((d) => ({ id: d.id, kind: 'manhole' as const, communityId: 'cm-topology' })))) creds.set(c.id, c.secret)
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hb-topology-'))
    // `housing-brain rabbitmq setup` for this run's queue: the workers check it at start.
    rabbitQueues = await setUpRabbitQueue(QUEUE)
  }, 60_000)

  afterAll(async () => {
    for (const s of streams) s.close()
    for (const d of devices) d.client.end(true)
    await Promise.all(procs.map((p) => p.kill9()))
    await Promise.all(brokers.map((b) => b.kill9()))
    await Promise.all(balancers.map((b) => b.stop()))
    receiver?.close()
    await db.close()
    await tdb.drop()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
    await rabbitQueues?.remove()
    // What this run left in Redis: sessions, Wills and retained messages under its tag.
    await clearRedisTag(TAG)
  }, 60_000)

  it('stores every PUBACKed reading once, raises one alert per fault, streams every event to both subscribers and escalates once', async () => {
    const t0 = Date.now()
    const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`
    const log: string[] = []
    const step = (what: string) => log.push(`${stamp()}  ${what}`)

    // ---- The processes, with a balancer in front of each tier that devices and services reach.
    const [apiA, apiB] = await Promise.all([startApi(), startApi()])
    const apiLb = await tcpBalancer([apiA.port, apiB.port])
    balancers.push(apiLb)
    const apiUrl = `http://127.0.0.1:${apiLb.port}`
    await pointRabbitAuthAt(`${apiUrl}/rabbitmq/auth/${rabbitKey}`)
    const [brokerA, brokerB] = await Promise.all(
      [0, 1].map(() => startBrokerProcess({ DATABASE_URL: tdb.url, REDIS_URL, MQTT_CLUSTER_HEARTBEAT: '1s' })),
    )
    if (!brokerA || !brokerB) throw new Error('two brokers expected')
    brokers.push(brokerA, brokerB)
    const mqttLb = await tcpBalancer([brokerA.port, brokerB.port])
    balancers.push(mqttLb)
    const mqttUrl = `mqtt://127.0.0.1:${mqttLb.port}`
    const [worker1] = await Promise.all([startWorker(), startWorker()])
    const rules = new Map<string, ServiceProcess>()
    for (const partition of ['0/2', '1/2']) rules.set(partition, await startRules(partition, apiUrl))
    step('2 brokers, 2 APIs, 2 AMQP workers, 2 rules processes up')

    // ---- The webhook receiver, for the deadline escalations.
    const hooks = await startEscalationReceiver()
    receiver = hooks
    const { received, escalations } = hooks
    const hook = await call(apiLb.port, 'POST', '/api/v1/webhooks', { url: hooks.url, severities: ['critical'], events: ['escalated'] })
    expect(hook.status, JSON.stringify(hook.body)).toBe(201)

    // ---- One SSE subscriber on each API process.
    const sse = new Map<number, { seen: StreamEvent[]; current: StreamClient }>()
    for (const api of [apiA, apiB]) {
      const s = await openStream(api.port, admin)
      streams.push(s)
      sse.set(api.port, { seen: [], current: s })
    }
    const seenBy = (port: number) => {
      const sub = sse.get(port)
      return sub ? [...sub.seen, ...sub.current.events].map((e) => e.id) : []
    }

    // ---- The fleet: manholes on both tiers and in both partitions.
    const baseTs = Date.now() - 10 * 60_000
    for (const spec of specs) {
      const secret = creds.get(spec.id) ?? ''
      let client: MqttClient
      if (spec.tier === 'aedes') {
        // Through the balancer, with a persistent session: after its broker dies it reconnects to
        // the other and resends what was not PUBACKed.
        client = mqtt.connect(mqttUrl, { clientId: spec.id, username: spec.id, password: secret, clean: false, reconnectPeriod: 200, connectTimeout: 30_000 })
        client.on('error', () => undefined)
        await new Promise<void>((resolve) => client.once('connect', () => resolve()))
      } else {
        client = await loginDevice(RABBITMQ.mqttUrl, spec.id, secret, { protocolVersion: 4, clean: false })
        client.on('error', () => undefined)
      }
      const pub = new SeqPublisher(client, { deviceId: spec.id, metric: METRIC, baseTs, intervalMs: 150, window: 5, value: (n) => n % 50, reconnects: spec.tier === 'aedes' })
      devices.push({ ...spec, client, pub })
    }
    for (const d of devices) d.pub.start()
    step(`fleet publishing: ${devices.filter((d) => d.tier === 'aedes').length} devices on the Aedes tier, ${devices.filter((d) => d.tier === 'rabbit').length} on RabbitMQ`)

    const ackedNow = () => new Map(devices.map((d) => [d.id, d.pub.acked.size]))
    /** Every device has had `n` more readings acknowledged since `before`. */
    const progress = (before: Map<string, number>, n: number, what: string, which: (d: Device) => boolean = () => true) =>
      eventually(() => (devices.filter(which).every((d) => d.pub.acked.size >= (before.get(d.id) ?? 0) + n) ? true : undefined), 90_000, what)

    // ---- Faults: a cover tilted to 45°, on a device not faulted before, of the given tier and partition.
    const faulted: Device[] = []
    const fault = async (tier: Tier, partition: 0 | 1) => {
      const d = devices.find((x) => x.tier === tier && x.partition === partition && !faulted.includes(x))
      if (!d) throw new Error(`no device left on ${tier} in partition ${partition}`)
      faulted.push(d)
      await d.client.publishAsync(topics.deviceTelemetry(d.id), JSON.stringify({ ts: Date.now(), values: { cover_tilt_deg: 45 } }), { qos: 1 })
      return d
    }
    const alertsRaised = async (what: string) => {
      await eventually(async () => {
        const got = await faultAlerts()
        return faulted.every((d) => (got.get(d.id) ?? 0) >= 1) ? true : undefined
      }, 90_000, `alerts for ${what}`)
      step(`${faulted.length} faults so far, each with its alert (${what})`)
    }

    await progress(new Map(), 10, 'the fleet acknowledged')
    await fault('aedes', 0)
    await fault('rabbit', 1)
    await alertsRaised('before any kill')

    // ---- 1. A broker: its devices reconnect through the balancer to the other and resend what
    // was not PUBACKed. Frozen (SIGSTOP) for a second first, as a machine that hangs before it
    // dies, so that its devices surely have publications waiting for a PUBACK when it goes.
    let before = ackedNow()
    brokerA.child.kill('SIGSTOP')
    await new Promise((r) => setTimeout(r, 1000))
    const awaitingAtBrokerKill = devices.filter((d) => d.tier === 'aedes').reduce((n, d) => n + d.pub.inFlight, 0)
    await brokerA.kill9()
    step(`kill -9 broker A (frozen for 1 s before; ${awaitingAtBrokerKill} publications awaiting their PUBACK)`)
    await progress(before, 20, 'the Aedes devices acknowledged again after the broker kill', (d) => d.tier === 'aedes')
    await fault('aedes', 1)
    await fault('rabbit', 0)
    await alertsRaised('after the broker kill')

    // ---- 2. An AMQP worker: RabbitMQ redelivers what it had not acknowledged to the other. The
    // worker is frozen (SIGSTOP) for a second first, as a machine that hangs before it dies: RabbitMQ
    // keeps handing it messages up to its prefetch, so the kill surely leaves some unacknowledged.
    before = ackedNow()
    worker1.child.kill('SIGSTOP')
    await new Promise((r) => setTimeout(r, 1000))
    await worker1.kill9()
    step('kill -9 AMQP worker 1 (frozen for 1 s before)')
    await progress(before, 20, 'the fleet acknowledged after the worker kill')
    await fault('aedes', 0)
    await fault('rabbit', 1)
    await alertsRaised('after the worker kill')

    // ---- 3. The API that leads the timed jobs; its subscriber resumes on the other.
    const leaderFlags = await Promise.all([apiA, apiB].map(async (a) => (await call(a.port, 'GET', '/readyz')).body.leader === true))
    expect(leaderFlags.filter(Boolean)).toHaveLength(1)
    const [leader, standby] = leaderFlags[0] ? [apiA, apiB] : [apiB, apiA]
    // Killed while the deadlines of the alerts just raised are still ahead: the other process escalates them.
    await leader.proc.kill9()
    const escalatedBeforeLeaderKill = escalations.length
    step(`kill -9 the leading API (${leaderFlags[0] ? 'A' : 'B'}), ${escalatedBeforeLeaderKill} escalations delivered so far`)
    const cut = sse.get(leader.port)
    if (!cut) throw new Error('no subscriber on the killed API')
    cut.seen.push(...cut.current.events)
    cut.current = await openStream(standby.port, admin, cut.seen.at(-1)?.id ?? 0)
    streams.push(cut.current)
    await fault('aedes', 1)
    await fault('rabbit', 0)
    await alertsRaised('after the API kill')

    // ---- 4. A rules process: faults of its partition happen while it is dead, and are raised
    // once after a replacement with the same partition has rebuilt its state.
    const p0 = rules.get('0/2')
    await p0?.kill9()
    step('kill -9 rules 0/2')
    const whileDead = [await fault('aedes', 0), await fault('rabbit', 0)]
    await eventually(
      async () =>
        (await db.query('SELECT 1 FROM readings WHERE metric = $1 AND device_id = ANY($2)', ['cover_tilt_deg', whileDead.map((d) => d.id)])).length === whileDead.length ? true : undefined,
      60_000,
      'the faults of the dead partition stored',
    )
    const noAlertWhileDead = await faultAlerts()
    expect(whileDead.map((d) => noAlertWhileDead.get(d.id) ?? 0)).toEqual([0, 0])
    rules.set('0/2', await startRules('0/2', apiUrl))
    step('rules 0/2 restarted')
    await alertsRaised('after the rules kill and restart')

    // ---- Stop publishing; wait for everything to settle.
    const unacked = (await Promise.all(devices.map((d) => d.pub.stop(30_000)))).reduce((a, b) => a + b, 0)
    step(`fleet stopped (${unacked} publications never acknowledged)`)

    const storedByDevice = async () => {
      const rows = await db.query<{ device_id: string; ts: Date }>('SELECT device_id, ts FROM readings WHERE metric = $1', [METRIC])
      const by = new Map<string, number[]>()
      for (const r of rows) by.set(r.device_id, [...(by.get(r.device_id) ?? []), r.ts.getTime()])
      return by
    }
    const checks = await eventually(async () => {
      const by = await storedByDevice()
      const result = devices.map((d) => ({ d, ...checkStored(d.pub, baseTs, by.get(d.id) ?? []), stored: (by.get(d.id) ?? []).length }))
      return result.every((r) => r.missing.length === 0) ? result : undefined
    }, 90_000, 'every PUBACKed reading stored')
    // Both escalations (acknowledge, resolve) of every fault's alert delivered and recorded.
    await eventually(() => (escalations.length >= 2 * faulted.length ? true : undefined), 60_000, 'every escalation delivered')
    await eventually(async () => ((await db.query(`SELECT 1 FROM webhook_deliveries WHERE status <> 'delivered'`)).length === 0 ? true : undefined), 30_000, 'every delivery recorded')
    const events = await allEventIds()
    await eventually(() => ([apiA.port, apiB.port].every((p) => seenBy(p).length >= events.length) ? true : undefined), 30_000, 'both subscribers to see every event')
    const alerts = await faultAlerts()
    // The management statistics are sampled every few seconds (collect_statistics_interval).
    const stats = await eventually(async () => {
      const q = await queueStats()
      return (q?.redeliver ?? 0) > 0 ? q : undefined
    }, 30_000, "the killed worker's messages delivered again, in RabbitMQ's statistics")

    // ---- The counts.
    const sum = (tier: Tier, f: (r: (typeof checks)[number]) => number) => checks.filter((r) => r.d.tier === tier).reduce((a, r) => a + f(r), 0)
    const row = (tier: Tier) => ({
      sent: sum(tier, (r) => r.d.pub.sent),
      acked: sum(tier, (r) => r.d.pub.acked.size),
      stored: sum(tier, (r) => r.stored),
      missing: sum(tier, (r) => r.missing.length),
      twice: sum(tier, (r) => r.duplicated.length),
    })
    const alertRows = await db.query<{ id: number }>('SELECT id FROM alerts WHERE rule_id = $1', [FAULT_RULE])
    const deadlinesOf = (alertId: number) => escalations.filter((e) => e.alertId === alertId).map((e) => String(e.deadline)).sort()
    console.log(
      [
        `topology (${TAG}), ${stamp()}:`,
        ...log.map((l) => `  ${l}`),
        `  readings        sent    PUBACKed  stored   PUBACKed-missing  stored-twice`,
        ...(['aedes', 'rabbit'] as const).map((t) => {
          const r = row(t)
          return `  ${t.padEnd(14)}${String(r.sent).padStart(6)}${String(r.acked).padStart(10)}${String(r.stored).padStart(8)}${String(r.missing).padStart(19)}${String(r.twice).padStart(14)}`
        }),
        `  RabbitMQ queue: ${stats.publish ?? '?'} messages in, ${stats.deliver ?? '?'} deliveries, ${stats.redeliver ?? '?'} of them again after the worker's kill (management statistics, sampled)`,
        `  faults ${faulted.length}, alerts ${alertRows.length} (${FAULT_RULE}), alert events ${events.length}`,
        `  SSE subscriber on API A saw ${seenBy(apiA.port).length}, on API B ${seenBy(apiB.port).length} (the killed one's resumed on the other)`,
        `  escalation webhooks: ${escalations.length} received (${escalations.length - escalatedBeforeLeaderKill} after the leader's kill), ${received.size} distinct events, ${[...received.values()].filter((n) => n > 1).length} received twice`,
      ].join('\n'),
    )

    // ---- Every PUBACKed reading stored exactly once, on both tiers.
    for (const r of checks) expect({ device: r.d.id, missing: r.missing, duplicated: r.duplicated, foreign: r.foreign }).toEqual({ device: r.d.id, missing: [], duplicated: [], foreign: [] })
    // ---- Every fault exactly one alert, and none on a device without a fault.
    expect(new Map(faulted.map((d) => [d.id, alerts.get(d.id)]))).toEqual(new Map(faulted.map((d) => [d.id, 1])))
    expect(alertRows).toHaveLength(faulted.length)
    // ---- Each SSE subscriber saw every alert event, once and in order.
    for (const port of [apiA.port, apiB.port]) expect(seenBy(port)).toEqual(events)
    // ---- Each deadline escalation ran once: acknowledge and resolve per alert, each delivered once.
    for (const a of alertRows) expect(deadlinesOf(a.id)).toEqual(['acknowledge', 'resolve'])
    expect([...received.values()].every((n) => n === 1)).toBe(true)
    expect(received.size).toBe(2 * faulted.length)
    expect(escalations.length).toBeGreaterThan(escalatedBeforeLeaderKill)
    expect(alive(standby.proc)).toBe(true)
  }, 300_000)
})
