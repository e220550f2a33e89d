// The RabbitMQ broker tier against the real RabbitMQ 3.10 (MQTT plugin on 11883, HTTP auth
// backend pointed at this test's API): a device logs in with its housing-brain secret, is
// refused with a wrong one, cannot publish or subscribe outside its topics, and its QoS 1
// telemetry lands in a durable quorum queue bound to amq.topic; `housing-brain ingest --from
// amqp://…` stores it, acknowledging after commit, and a worker killed mid-stream loses nothing;
// the worker publishes the committed readings back on amq.topic (the readings bus), where a rules
// engine logged in to RabbitMQ's MQTT listener receives them and raises the alert. Devices may
// neither publish nor subscribe on the bus. `housing-brain rabbitmq setup` declares the queues
// before any worker runs, so a reading RabbitMQ acknowledged first is stored by the first worker;
// a worker refuses to start without it; a reading no queue took is dead-lettered `unroutable`.
// One file for the whole tier: RabbitMQ's auth backend settings are node-wide, so two files
// pointing it at their own API at once would answer each other's devices.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import amqp, { type Channel, type ChannelModel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DeviceCredential } from '../../core/provision.ts'
import { loginDevice } from '../helpers/mqtt-login.ts'
import { rabbitManagement, rabbitTier, setUpRabbitQueue } from '../helpers/rabbitmq.ts'
import { spawnCli } from '../helpers/service-process.ts'
import { RABBITMQ, eventually, hasRabbitMq, hasPostgres } from '../helpers/services.ts'
import { FIXTURE_PAST_AGE } from '../helpers/stack.ts'
import { AmqpIngest } from '../../intake/amqp.ts'
import { RabbitDeviceConnections } from '../../broker/rabbitmq-connections.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { hashSecret } from '../../core/secrets.ts'
import { silentLogger } from '../../core/log.ts'
import { routingKeyOf, topics } from '../../core/contract.ts'
import { rulesUnit } from '../../cli/stack.ts'
import { loadConfig } from '../../core/config.ts'
import { ruleRow, seedRules } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'
import { segment } from '../../core/rabbitmq-management.ts'
import { rabbitTopology } from '../../ingest/rabbitmq-setup.ts'

const ready = (await hasPostgres()) && (await hasRabbitMq())
const QUEUE = `hb.test.telemetry.${randomBytes(4).toString('hex')}`

let tier: Awaited<ReturnType<typeof rabbitTier>>
let creds: Map<string, DeviceCredential>
let amqpConn: ChannelModel
/** The worker processes of a describe block, killed at its end. */
const workers: ChildProcess[] = []
let dataDir: string
let ch: Channel
const clients: MqttClient[] = []

function secretOf(id: string): string {
  const c = creds.get(id)
  if (!c) throw new Error(`no device ${id}`)
  return c.secret
}

async function connect(id: string, secret = secretOf(id), clientId = id): Promise<MqttClient> {
  const c = await loginDevice(RABBITMQ.mqttUrl, id, secret, { clientId, protocolVersion: 4 })
  clients.push(c)
  return c
}

/** Resolves when the broker closes the connection (RabbitMQ 3.10's answer to a refused publish). */
const closed = (c: MqttClient) => new Promise<void>((resolve) => c.once('close', () => resolve()))

beforeAll(async () => {
  if (!ready) return
  tier = await rabbitTier()
  creds = tier.creds
  amqpConn = await amqp.connect(RABBITMQ.amqpUrl)
  ch = await amqpConn.createChannel()
  dataDir = await mkdtemp(path.join(tmpdir(), 'hb-amqp-'))
})

afterAll(async () => {
  if (!ready) return
  for (const c of clients) await c.endAsync(true).catch(() => undefined)
  await amqpConn.close()
  await tier.close()
  await rm(dataDir, { recursive: true, force: true })
})

describe.skipIf(!ready)('RabbitMQ broker tier', () => {
  beforeAll(async () => {
    // A quorum queue (RabbitMQ ≥ 3.8): replicated by Raft in a cluster, always durable.
    await ch.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
    await ch.bindQueue(QUEUE, 'amq.topic', 'hb.v1.devices.*.telemetry')
  })

  afterAll(async () => {
    await ch.deleteQueue(QUEUE).catch(() => undefined)
  })

  it('accepts a device with its housing-brain secret and refuses a wrong one', async () => {
    const ok = await connect('mh-1')
    expect(ok.connected).toBe(true)
    await expect(connect('el-1', 'not-the-secret')).rejects.toThrow(/bad username or password|not authorized/i)
  })

  it('refuses a login under another device’s client id', async () => {
    await expect(connect('ft-1', secretOf('ft-1'), 'mh-1')).rejects.toThrow(/not authorized|bad username|identifier/i)
  })

  it('delivers a QoS 1 reading to the durable queue bound to amq.topic under the telemetry routing key', async () => {
    const c = await connect('mh-2')
    const payload = JSON.stringify({ ts: Date.now(), values: { level: 0.5 } })
    await c.publishAsync('hb/v1/devices/mh-2/telemetry', payload, { qos: 1 })
    const msg = await eventually(async () => (await ch.get(QUEUE, { noAck: false })) || undefined, 10_000, 'the reading in the queue')
    expect(msg.fields.routingKey).toBe('hb.v1.devices.mh-2.telemetry')
    expect(msg.content.toString()).toBe(payload)
    // The MQTT plugin marks QoS 1 publications persistent (delivery mode 2).
    expect(msg.properties.deliveryMode).toBe(2)
    ch.ack(msg)
  })

  it('closes a device that publishes another device’s telemetry; nothing reaches the queue', async () => {
    const c = await connect('mh-3')
    const gone = closed(c)
    c.publish('hb/v1/devices/el-1/telemetry', JSON.stringify({ values: { x: 1 } }), { qos: 1 })
    await gone
    // What a refused publish would have left is nothing: the queue holds no message for el-1.
    const left = await ch.checkQueue(QUEUE)
    expect(left.messageCount).toBe(0)
  })

  it('refuses a subscription outside the device’s own topics', async () => {
    const c = await connect('gw-1')
    const gone = closed(c)
    // RabbitMQ 3.10 answers a refused binding by closing the connection (or a SUBACK failure).
    const granted = await c.subscribeAsync('hb/v1/devices/mh-1/#', { qos: 1 }).catch(() => undefined)
    if (granted !== undefined) expect(granted[0]?.qos).toBe(128)
    else await gone
  })

  it('closes a device that publishes on the readings bus, and refuses it a subscription there', async () => {
    const publisher = await connect('mh-3')
    const gone = closed(publisher)
    publisher.publish('hb/v1/readings/0', JSON.stringify([{ d: 'mh-3', m: 'cover_tilt_deg', ts: Date.now(), v: 80, at: Date.now() }]), { qos: 1 })
    await gone
    const reader = await connect('ft-1')
    const dropped = closed(reader)
    const granted = await reader.subscribeAsync('hb/v1/readings/#', { qos: 1 }).catch(() => undefined)
    if (granted !== undefined) expect(granted[0]?.qos).toBe(128)
    else await dropped
  })

  it('lets a device subscribe under its own prefix', async () => {
    const c = await connect('ft-1')
    const granted = await c.subscribeAsync('hb/v1/devices/ft-1/#', { qos: 1 })
    expect(granted[0]?.qos).toBe(1)
  })
})

const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')

/** What a worker on `queue` is started with (the management API: it checks the setup at start). */
const workerEnv = (queue: string) => ({
  DATABASE_URL: tier.dbUrl,
  DATA_DIR: dataDir,
  INGEST_AMQP_QUEUE: queue,
  INGEST_MAX_PAST_AGE: FIXTURE_PAST_AGE,
  RABBITMQ_MANAGEMENT_URL: RABBITMQ.managementUrl,
})

/** `housing-brain <args>` to its end: exit code and output. */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const run = spawnCli(args, env)
  const { code } = await run.exited
  return { code, output: run.output() }
}

/** A real worker process on `queue`, so that a kill is a kill -9 and not a shutdown. */
async function startWorker(queue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'ingest', '--from', RABBITMQ.amqpUrl], {
    env: { PATH: process.env.PATH ?? '', ...workerEnv(queue), INGEST_AMQP_PREFETCH: '50', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  workers.push(child)
  await eventually(async () => ((await consumersOf(queue)) > 0 ? true : undefined), 30_000, 'the worker consuming')
  return child
}

/** The queue's consumers, 0 while it does not exist (asked on a channel of its own: a failed check closes it). */
async function consumersOf(queue: string): Promise<number> {
  const probe = await amqpConn.createChannel()
  probe.on('error', () => undefined)
  try {
    return (await probe.checkQueue(queue)).consumerCount
  } catch {
    return 0
  } finally {
    await probe.close().catch(() => undefined)
  }
}

const stored = async (deviceId: string): Promise<number> =>
  (await tier.db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE device_id = $1', [deviceId]))[0]?.n ?? 0

describe.skipIf(!ready)('housing-brain ingest --from amqp://…', () => {
  const queue = `hb.test.ingest.${randomBytes(4).toString('hex')}`

  let remove: () => Promise<void>

  beforeAll(async () => {
    ;({ remove } = await setUpRabbitQueue(queue))
  })

  afterAll(async () => {
    for (const w of workers.splice(0)) w.kill('SIGKILL')
    await remove()
  })

  it('stores a reading a device published through RabbitMQ, and acknowledges it after the commit', async () => {
    await startWorker(queue)
    const c = await connect('mh-1')
    await c.publishAsync(topics.deviceTelemetry('mh-1'), JSON.stringify({ ts: Date.now(), values: { water_level_cm: 12 } }), { qos: 1 })
    await eventually(async () => ((await stored('mh-1')) === 1 ? true : undefined), 20_000, 'the reading stored')
    await eventually(async () => ((await ch.checkQueue(queue)).messageCount === 0 ? true : undefined), 10_000, 'the queue drained')
  })

  it('dead-letters a bad payload and acknowledges it', async () => {
    const c = await connect('ft-1')
    await c.publishAsync(topics.deviceTelemetry('ft-1'), 'not json', { qos: 1 })
    const rows = await eventually(async () => {
      const r = await tier.db.query<{ reason_code: string }>("SELECT reason_code FROM dead_letters WHERE device_id = 'ft-1' OR topic = $1", [topics.deviceTelemetry('ft-1')])
      return r.length > 0 ? r : undefined
    }, 20_000, 'the dead letter')
    expect(rows.length).toBe(1)
    await eventually(async () => ((await ch.checkQueue(queue)).messageCount === 0 ? true : undefined), 10_000, 'the queue drained')
  })

  it('loses nothing when a worker is killed mid-stream, and stores each reading once after redelivery', async () => {
    const [first] = workers
    const total = 2000
    const start = Date.UTC(2026, 0, 1)
    // Published as RabbitMQ's MQTT plugin routes a device's QoS 1 telemetry: persistent, to amq.topic.
    for (let i = 0; i < total; i++) {
      ch.publish('amq.topic', routingKeyOf(topics.deviceTelemetry('el-1')), Buffer.from(JSON.stringify({ ts: start + i * 1000, seq: i, values: { speed_mps: i % 20 } })), { persistent: true })
    }
    await eventually(async () => ((await stored('el-1')) > 0 ? true : undefined), 30_000, 'some readings stored')
    first?.kill('SIGKILL')
    await new Promise((r) => first?.once('exit', r))
    const atKill = await stored('el-1')
    await startWorker(queue)
    const n = await eventually(async () => {
      const now = await stored('el-1')
      return now === total ? now : undefined
    }, 60_000, `all ${total} readings stored`)
    console.log(`amqp ingest: ${atKill} of ${total} stored when the worker was killed, ${n} after the restart`)
    expect(n).toBe(total)
    await eventually(async () => ((await ch.checkQueue(queue)).messageCount === 0 ? true : undefined), 10_000, 'the queue drained')
  })

  it('raises an alert for a reading through RabbitMQ, via the worker and a rules engine on the MQTT listener', async () => {
    await seedRules(tier.db, DEFAULT_RULES.map(ruleRow))
    const token = (await issueToken(tier.db, await insertUser(tier.db, { name: 'rabbit-rules', role: 'service' }))).token
    const address = tier.app.server.address()
    const apiUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    const cfg = loadConfig({ RULES_TICK: '200ms', RULES_CLIENT_ID: `hb-test-rules-${randomBytes(4).toString('hex')}` })
    // A RabbitMQ user (internal backend), as `housing-brain rules` logs in with MQTT_USERNAME.
    const engine = rulesUnit(tier.db, cfg, silentLogger, { apiUrl, token })
    await engine.start()
    await engine.whenRunning()
    try {
      const c = await connect('mh-2')
      await c.publishAsync(topics.deviceTelemetry('mh-2'), JSON.stringify({ values: { cover_tilt_deg: 45 } }), { qos: 1 })
      await eventually(
        async () => ((await tier.db.query("SELECT 1 FROM alerts WHERE rule_id = 'manhole-cover-displaced' AND device_id = 'mh-2'")).length > 0 ? true : undefined),
        20_000,
        'the cover alert',
      )
    } finally {
      await engine.stop()
    }
  })

  it('returns a message whose commit failed to the queue, and acknowledges it once a commit succeeds', async () => {
    const q = `hb.test.nack.${randomBytes(4).toString('hex')}`
    const { remove: removeQ } = await setUpRabbitQueue(q)
    const seen: string[] = []
    const consumer = new AmqpIngest(
      (msg) => {
        seen.push(msg.topic)
        // The first commit fails (as when the ingest stops while the database is down).
        return seen.length === 1 ? Promise.reject(new Error('database unavailable')) : Promise.resolve({ stored: 1, rejected: 0, rejections: [] })
      },
      { url: RABBITMQ.amqpUrl, queue: q, exchange: 'amq.topic', prefetch: 10 },
      silentLogger,
    )
    await consumer.start()
    try {
      ch.publish('amq.topic', routingKeyOf(topics.deviceTelemetry('mh-3')), Buffer.from('{}'), { persistent: true })
      await eventually(() => (seen.length === 2 ? true : undefined), 10_000, 'the message delivered again')
      expect(seen).toEqual([topics.deviceTelemetry('mh-3'), topics.deviceTelemetry('mh-3')])
    } finally {
      await consumer.stop()
    }
    // Stopped: anything unacknowledged would be back in the queue; the second delivery was acknowledged.
    expect((await ch.checkQueue(q)).messageCount).toBe(0)
    await removeQ()
  })
})

describe.skipIf(!ready)('a reading RabbitMQ acknowledged before any worker ever ran (issue 17, loss 5)', () => {
  // A fresh deployment: RabbitMQ and its MQTT plugin are up, devices connect, no ingest worker has
  // started yet. Whatever RabbitMQ acknowledges with a PUBACK must be waiting for the first worker.
  const queue = `hb.test.first.${randomBytes(4).toString('hex')}`
  const t = rabbitTopology({ vhost: '/', exchange: 'amq.topic', queue })
  const env = () => ({ RABBITMQ_MANAGEMENT_URL: RABBITMQ.managementUrl, INGEST_AMQP_QUEUE: queue })
  const api = rabbitManagement()
  const v = segment('/')

  afterAll(async () => {
    for (const w of workers.splice(0)) w.kill('SIGKILL')
    for (const q of [t.queue, t.unroutableQueue]) await api.send('DELETE', `/queues/${v}/${segment(q)}`).catch(() => undefined)
  })

  it('refuses to start a worker before `housing-brain rabbitmq setup`, and names the command', async () => {
    const worker = await cli(['ingest', '--from', RABBITMQ.amqpUrl], workerEnv(queue))
    expect(worker.code).toBe(1)
    expect(worker.output).toContain('housing-brain rabbitmq setup')
    expect(worker.output).toContain(`the queue ${queue} does not exist`)
    const check = await cli(['rabbitmq', 'check'], env())
    expect(check.code).toBe(1)
    expect(check.output).toContain(`the queue ${t.unroutableQueue} does not exist`)
    // Checking declared nothing.
    expect(await api.get(`/queues/${v}/${segment(queue)}`)).toBeUndefined()
  })

  it('is stored once the first worker starts, setup having declared the queue before', async () => {
    const setup = await cli(['rabbitmq', 'setup'], env())
    expect(setup.code, setup.output).toBe(0)
    expect(setup.output).toContain(`declared the quorum queue ${queue}`)
    const c = await connect('ft-1')
    // publishAsync resolves on the PUBACK: RabbitMQ has confirmed the reading.
    await c.publishAsync(topics.deviceTelemetry('ft-1'), JSON.stringify({ ts: Date.now(), values: { water_level_m: 3.2 } }), { qos: 1 })
    await startWorker(queue)
    await eventually(async () => ((await stored('ft-1')) === 1 ? true : undefined), 20_000, 'the acknowledged reading stored')
  })

  it('changes nothing when run again, and says so; what it declared is what a worker checks', async () => {
    const again = await cli(['rabbitmq', 'setup'], env())
    expect(again.code, again.output).toBe(0)
    expect(again.output).toContain('nothing changed')
    expect((await cli(['rabbitmq', 'check'], env())).code).toBe(0)
    const queueInfo = await api.get<{ type: string; durable: boolean }>(`/queues/${v}/${segment(queue)}`)
    expect(queueInfo).toMatchObject({ type: 'quorum', durable: true })
    const bindings = await api.get<{ routing_key: string }[]>(`/bindings/${v}/e/amq.topic/q/${segment(queue)}`)
    expect(bindings?.map((b) => b.routing_key).sort()).toEqual(['hb.v1.devices.*.status', 'hb.v1.devices.*.telemetry', 'hb.v1.gateways.*.telemetry'])
    // amq.topic cannot take arguments: the alternate exchange is RabbitMQ's policy on it.
    expect((await api.get<{ policy?: string }>('/exchanges/%2F/amq.topic'))?.policy).toBe(t.alternateExchange)
  })

  it('dead-letters a reading RabbitMQ acknowledged but no queue took (`unroutable`), after the commit; setup binds the queue again', async () => {
    // An operator removes a binding by hand while the devices publish.
    await ch.unbindQueue(queue, 'amq.topic', routingKeyOf(topics.deviceTelemetry('+')))
    try {
      const c = await connect('el-1')
      const payload = JSON.stringify({ ts: Date.now(), values: { speed_mps: 1.5 } })
      await c.publishAsync(topics.deviceTelemetry('el-1'), payload, { qos: 1 })
      const rows = await eventually(async () => {
        const r = await tier.db.query<{ device_id: string; topic: string; reason: string; payload_excerpt: string }>("SELECT device_id, topic, reason, payload_excerpt FROM dead_letters WHERE reason_code = 'unroutable'")
        return r.length > 0 ? r : undefined
      }, 20_000, 'the unroutable dead letter')
      expect(rows).toEqual([{ device_id: 'el-1', topic: topics.deviceTelemetry('el-1'), reason: expect.stringContaining(t.alternateExchange) as unknown, payload_excerpt: payload }])
      // Acknowledged once its dead letter committed.
      await eventually(async () => ((await ch.checkQueue(t.unroutableQueue)).messageCount === 0 ? true : undefined), 10_000, 'the unroutable queue drained')
    } finally {
      const mend = await cli(['rabbitmq', 'setup'], env())
      expect(mend.output).toContain(`bound ${queue} to amq.topic for hb.v1.devices.*.telemetry`)
      expect(mend.output).toContain('1 change(s)')
    }
  })

  it('names a policy that takes precedence over the alternate exchange on amq.topic', async () => {
    const shadow = `hb-test-shadow-${randomBytes(3).toString('hex')}`
    await api.send('PUT', `/policies/${v}/${shadow}`, { pattern: '^amq\\.topic$', 'apply-to': 'exchanges', definition: { 'alternate-exchange': 'elsewhere' }, priority: 9 })
    try {
      const check = await cli(['rabbitmq', 'check'], env())
      expect(check.code).toBe(1)
      expect(check.output).toContain(`the policy ${shadow} applies to amq.topic instead of ${t.alternateExchange}`)
      // Setup cannot mend that alone: it says so and changes nothing.
      const setup = await cli(['rabbitmq', 'setup'], env())
      expect(setup.code).toBe(1)
      expect(setup.output).toContain('nothing was changed')
    } finally {
      await api.send('DELETE', `/policies/${v}/${shadow}`)
    }
  })
})

describe.skipIf(!ready)('a device whose credentials change loses its RabbitMQ connection', () => {
  // RabbitMQ asks the auth backend at login only (and caches topic checks per connection), so a
  // live connection outlives a disabled device unless it is closed through the management API
  // (.ci/rabbitmq enables rabbitmq_management on 127.0.0.1:15672).
  let closer: RabbitDeviceConnections

  beforeAll(async () => {
    closer = new RabbitDeviceConnections(tier.db, { managementUrl: RABBITMQ.managementUrl }, silentLogger)
    await closer.start()
  })

  afterAll(async () => {
    await closer.stop()
  })

  it('closes the connection of a device that is disabled, and refuses its next login', async () => {
    const c = await connect('el-1')
    const gone = closed(c)
    await updateDevice(tier.db, 'el-1', { enabled: false })
    await gone
    await expect(loginDevice(RABBITMQ.mqttUrl, 'el-1', secretOf('el-1'), { protocolVersion: 4 })).rejects.toThrow(/not authori[sz]ed|bad user/i)
    await updateDevice(tier.db, 'el-1', { enabled: true })
  })

  it('closes the connection of a device whose secret is rotated', async () => {
    const c = await connect('gw-1')
    const gone = closed(c)
    await updateDevice(tier.db, 'gw-1', { secretHash: await hashSecret('a-new-secret-for-gw-1') })
    await gone
  })
})
