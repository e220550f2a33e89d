// The RabbitMQ broker tier against the real RabbitMQ 3.10 (MQTT plugin on 11883, HTTP auth
// backend pointed at this test's API): a device logs in with its housing-brain secret, is
// refused with a wrong one, cannot publish or subscribe outside its topics, and its QoS 1
// telemetry lands in a durable quorum queue bound to amq.topic.
import { randomBytes } from 'node:crypto'
import amqp, { type Channel, type ChannelModel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import type { DeviceCredential } from '../../core/provision.ts'
import { apiFor } from '../helpers/api.ts'
import { loginDevice } from '../helpers/mqtt-login.ts'
import { pointRabbitAuthAt } from '../helpers/rabbitmq.ts'
import { RABBITMQ, createTestDatabase, eventually, hasRabbitMq, hasPostgres } from '../helpers/services.ts'
import { seed } from '../helpers/stack.ts'

const ready = (await hasPostgres()) && (await hasRabbitMq())
const KEY = randomBytes(24).toString('hex')
const QUEUE = `hb.test.telemetry.${randomBytes(4).toString('hex')}`

let db: Db
let drop: () => Promise<void>
let app: App
let creds: Map<string, DeviceCredential>
let amqpConn: ChannelModel
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

describe.skipIf(!ready)('RabbitMQ broker tier', () => {
  beforeAll(async () => {
    const tdb = await createTestDatabase()
    drop = tdb.drop
    db = await openDb({ url: tdb.url })
    const features = await migrate(db, { log: silentLogger, retentionDays: 30, compressAfterDays: 7 })
    creds = await seed(db)
    ;({ app } = await apiFor(db, features, { rabbitmqAuth: { key: KEY, vhost: '/', exchange: 'amq.topic', maxConcurrent: 8 } }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    await pointRabbitAuthAt(`http://127.0.0.1:${port}/rabbitmq/auth/${KEY}`)
    amqpConn = await amqp.connect(RABBITMQ.amqpUrl)
    ch = await amqpConn.createChannel()
    // A quorum queue (RabbitMQ ≥ 3.8): replicated by Raft in a cluster, always durable.
    await ch.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
    await ch.bindQueue(QUEUE, 'amq.topic', 'hb.v1.devices.*.telemetry')
  })

  afterAll(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined)
    await ch.deleteQueue(QUEUE).catch(() => undefined)
    await amqpConn.close()
    await app.close()
    await db.close()
    await drop()
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

  it('lets a device subscribe under its own prefix', async () => {
    const c = await connect('ft-1')
    const granted = await c.subscribeAsync('hb/v1/devices/ft-1/#', { qos: 1 })
    expect(granted[0]?.qos).toBe(1)
  })
})
