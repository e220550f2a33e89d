// The fleet against a real, bare Aedes broker in-process (never port 1883: Mosquitto holds it).
import net from 'node:net'
import { Aedes, type AuthenticateError, type Client, type ConnectPacket } from 'aedes'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  deviceTelemetrySchema,
  gatewayTelemetrySchema,
  parseTopic,
  topics,
  type DeviceKind,
  type TelemetryEntry,
} from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { closeServer, listen } from '../../core/net.ts'
import { Fleet, type FleetDevice, type FleetOptions } from '../../simulators/fleet.ts'
import { expectInCatalogue } from './catalogue.ts'

interface Seen {
  topic: string
  payload: string
  qos: number
  retain: boolean
}

interface TestBroker {
  url: string
  aedes: Aedes
  connects: ConnectPacket[]
  published: Seen[]
  clients: Map<string, Client>
  refused: string[]
  /** The most logins the broker was answering at once. */
  peakLoggingIn(): number
  close(): Promise<void>
}

/**
 * A bare Aedes that lets in exactly the devices in `devices` with their secrets, and records every
 * publish; `loginMs` holds each login's answer that long (a password check's time).
 */
async function startBroker(devices: readonly FleetDevice[], loginMs = 0): Promise<TestBroker> {
  const connects: ConnectPacket[] = []
  const published: Seen[] = []
  const refused: string[] = []
  const clients = new Map<string, Client>()
  let [loggingIn, peak] = [0, 0]
  const aedes = await Aedes.createBroker({
    preConnect: (_client, packet, done) => {
      connects.push(packet)
      done(null, true)
    },
    authenticate: (client, username, password, done) => {
      const device = devices.find((d) => d.id === username)
      if (device && client.id === username && password?.toString('utf8') === device.secret) {
        peak = Math.max(peak, ++loggingIn)
        setTimeout(() => {
          loggingIn--
          done(null, true)
        }, loginMs)
        return
      }
      refused.push(username ?? '')
      const err = new Error('bad username or password') as AuthenticateError
      // Aedes types the code as an ambient const enum, which isolated modules cannot reference;
      // 4 is "bad user name or password" (MQTT 3.1.1 §3.2.2.3).
      // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
      err.returnCode = 4
      done(err, null)
    },
  })
  aedes.on('clientReady', (client) => clients.set(client.id, client))
  aedes.on('publish', (packet) => {
    if (!packet.topic.startsWith('hb/')) return // $SYS heartbeats
    published.push({ topic: packet.topic, payload: packet.payload.toString(), qos: packet.qos, retain: packet.retain })
  })
  const server = net.createServer(aedes.handle)
  const port = await listen(server, 0, '127.0.0.1', 'TEST_MQTT_PORT')
  return {
    url: `mqtt://127.0.0.1:${port}`,
    aedes,
    connects,
    published,
    clients,
    refused,
    peakLoggingIn: () => peak,
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await closeServer(server)
    },
  }
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(devices: FleetDevice[], opts: Partial<FleetOptions> = {}, loginMs = 0): Promise<{ broker: TestBroker; fleet: Fleet }> {
  const broker = await startBroker(devices.filter((d) => d.secret !== 'wrong'), loginMs)
  cleanups.push(() => broker.close())
  const fleet = new Fleet({
    devices,
    brokerUrl: broker.url,
    rate: 10,
    scenario: 'normal',
    log: silentLogger,
    connectsPerSec: 50,
    stopGraceMs: 1000,
    mqtt: { reconnectPeriodMs: 200 },
    ...opts,
  })
  cleanups.push(() => fleet.stop())
  await fleet.start()
  return { broker, fleet }
}

function telemetryOf(broker: TestBroker, deviceId: string): TelemetryEntry[] {
  return broker.published
    .filter((p) => p.topic === topics.deviceTelemetry(deviceId))
    .flatMap((p) => {
      const parsed = deviceTelemetrySchema.parse(JSON.parse(p.payload))
      return Array.isArray(parsed) ? parsed : [parsed]
    })
}

function num(x: number | boolean | undefined): number {
  if (typeof x !== 'number') throw new Error(`expected a number, got ${String(x)}`)
  return x
}

const DEVICES: FleetDevice[] = [
  { id: 'mh-1', kind: 'manhole', secret: 'secret-mh-1' },
  { id: 'ft-1', kind: 'fire_tank', secret: 'secret-ft-1', gatewayId: null },
  { id: 'el-1', kind: 'elevator', secret: 'secret-el-1' },
  { id: 'gw-1', kind: 'gateway', secret: 'secret-gw-1' },
  { id: 'mh-2', kind: 'manhole', secret: 'secret-mh-2', gatewayId: 'gw-1' },
  { id: 'el-2', kind: 'elevator', secret: 'secret-el-2', gatewayId: 'gw-1' },
]
const CONNECTED = ['el-1', 'ft-1', 'gw-1', 'mh-1']

describe('fleet', () => {
  it('publishes contract telemetry and retained status over one authenticated connection per device or gateway', async () => {
    const { broker, fleet } = await setup(DEVICES, { gatewayBatch: 2 })
    await vi.waitFor(
      () => {
        expect(fleet.progress().connected).toBe(4)
        for (const id of CONNECTED) expect(telemetryOf(broker, id).length).toBeGreaterThanOrEqual(4)
        expect(broker.published.filter((p) => p.topic === topics.gatewayTelemetry('gw-1')).length).toBeGreaterThanOrEqual(2)
      },
      { timeout: 10_000, interval: 50 },
    )
    await fleet.stop()
    const seenAtStop = broker.published.length
    await vi.waitFor(() => expect(broker.aedes.connectedClients).toBe(0), { timeout: 5000 })
    await new Promise((r) => setTimeout(r, 300))
    expect(broker.published.length).toBe(seenAtStop) // stop() publishes nothing more

    // Logins: devices and gateways only (children never connect), each as itself, with its Will.
    expect(broker.connects.map((c) => c.clientId).sort()).toEqual(CONNECTED)
    for (const c of broker.connects) {
      expect(c.username).toBe(c.clientId)
      expect(c.clean).toBe(true)
      expect(c.will).toMatchObject({ topic: topics.deviceStatus(c.clientId), qos: 1, retain: true })
      expect(c.will?.payload.toString()).toBe('offline')
    }
    expect(broker.refused).toEqual([])

    // Exactly the contract's topics, everything at QoS 1.
    const expectedTopics = [
      ...CONNECTED.map((id) => topics.deviceStatus(id)),
      ...CONNECTED.map((id) => topics.deviceTelemetry(id)),
      topics.gatewayTelemetry('gw-1'),
    ].sort()
    expect([...new Set(broker.published.map((p) => p.topic))].sort()).toEqual(expectedTopics)
    expect(broker.published.every((p) => p.qos === 1)).toBe(true)

    // Status: one retained `online` per connection, and no `offline`: the clean stop disconnects.
    const status = broker.published.filter((p) => parseTopic(p.topic)?.type === 'device-status')
    expect(status.map((p) => [p.topic, p.payload, p.retain]).sort()).toEqual(
      CONNECTED.map((id) => [topics.deviceStatus(id), 'online', true]),
    )

    const kinds = new Map<string, DeviceKind>(DEVICES.map((d) => [d.id, d.kind]))
    for (const id of CONNECTED) {
      const entries = telemetryOf(broker, id)
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i))
      for (const e of entries) expectInCatalogue(kinds.get(id) ?? 'gateway', e.values)
    }
    expect(telemetryOf(broker, 'gw-1').every((e) => e.values.children_online === 2)).toBe(true)

    const batches = broker.published
      .filter((p) => p.topic === topics.gatewayTelemetry('gw-1'))
      .map((p) => gatewayTelemetrySchema.parse(JSON.parse(p.payload)))
    for (const batch of batches) {
      expect(Object.keys(batch).sort()).toEqual(['el-2', 'mh-2'])
      for (const [child, entries] of Object.entries(batch)) {
        expect(entries).toHaveLength(2)
        for (const e of entries) expectInCatalogue(kinds.get(child) ?? 'gateway', e.values)
      }
    }

    const telemetry = broker.published.filter((p) => p.topic.endsWith('/telemetry'))
    const p = fleet.progress()
    expect(p).toMatchObject({ devices: 6, connections: 4, connected: 0, errors: 0, skipped: 0, statusPublished: 4 })
    expect(p.published).toBe(telemetry.length)
    expect(p.acked).toBe(p.published)
    expect(p.readings).toBe(telemetry.length - batches.length + batches.length * 4)
  })

  it('runs a scenario on its own clock, takes faults at runtime, and leaves its Will when cut off', async () => {
    const devices: FleetDevice[] = [
      ...DEVICES,
      { id: 'el-9', kind: 'elevator', secret: 'wrong' }, // the broker does not know this secret
    ]
    const t0 = Date.now()
    // Ten simulated minutes per real second, so a leak shows within a few messages.
    const now = () => t0 + (Date.now() - t0) * 600
    const { broker, fleet } = await setup(devices, { scenario: 'leak', now })
    expect(fleet.activeFaults()).toEqual([{ deviceId: 'ft-1', fault: 'tank_leak' }])

    await vi.waitFor(() => expect(telemetryOf(broker, 'ft-1').length).toBeGreaterThanOrEqual(8), { timeout: 10_000, interval: 50 })
    const tank = telemetryOf(broker, 'ft-1')
    const levels = tank.map((e) => num(e.values.water_level_m))
    expect(levels.every((l, i) => i === 0 || l < (levels[i - 1] ?? 0))).toBe(true)
    const first = tank[0]
    const last = tank.at(-1)
    // The fleet sends epoch-ms timestamps (the contract also allows RFC 3339 strings).
    const minutes = (num(Number(last?.ts)) - num(Number(first?.ts))) / 60_000
    expect(((levels[0] ?? 0) - (levels.at(-1) ?? 0)) / minutes).toBeCloseTo(0.05, 2)

    // A wrong secret is refused, counted and never publishes.
    expect(broker.refused).toContain('el-9')
    expect(fleet.progress().errors).toBeGreaterThan(0)
    expect(telemetryOf(broker, 'el-9')).toEqual([])

    // Runtime faults, on a device and on a gateway's child.
    expect(() => fleet.inject('ft-1', 'entrapment')).toThrow(/does not apply/)
    expect(() => fleet.inject('nope', 'silent')).toThrow(/not in the simulated fleet/)
    fleet.inject('mh-1', 'silent')
    fleet.inject('mh-2', 'cover_displaced')
    await new Promise((r) => setTimeout(r, 250)) // let messages already on the wire land
    const mhCount = telemetryOf(broker, 'mh-1').length
    const batchesBefore = broker.published.filter((p) => p.topic === topics.gatewayTelemetry('gw-1')).length
    await new Promise((r) => setTimeout(r, 500))
    expect(telemetryOf(broker, 'mh-1')).toHaveLength(mhCount)
    const later = broker.published
      .filter((p) => p.topic === topics.gatewayTelemetry('gw-1'))
      .slice(batchesBefore)
      .map((p) => gatewayTelemetrySchema.parse(JSON.parse(p.payload)))
    expect(later.length).toBeGreaterThan(0)
    for (const batch of later) expect(batch['mh-2']?.every((e) => e.values.cover_open === true)).toBe(true)

    // Cut el-1 off without a DISCONNECT: the broker publishes its Will, and it comes back online.
    const statusEl1 = () => broker.published.filter((p) => p.topic === topics.deviceStatus('el-1')).map((p) => p.payload)
    broker.clients.get('el-1')?.conn.destroy()
    await vi.waitFor(() => expect(statusEl1()).toEqual(['online', 'offline', 'online']), { timeout: 5000, interval: 50 })
    const will = broker.published.find((p) => p.topic === topics.deviceStatus('el-1') && p.payload === 'offline')
    expect(will).toMatchObject({ qos: 1, retain: true })
  })
})

describe('fleet logins', () => {
  it('keeps at most maxLoggingIn first logins outstanding, so it stays under the broker\'s bound on password checks', async () => {
    const many: FleetDevice[] = Array.from({ length: 12 }, (_, i) => ({ id: `el-${i + 1}`, kind: 'elevator', secret: `secret-el-${i + 1}` }))
    const { broker, fleet } = await setup(many, { connectsPerSec: 1000, maxLoggingIn: 3 }, 100)
    await vi.waitFor(() => expect(fleet.progress().connected).toBe(12), { timeout: 10_000 })
    expect(broker.peakLoggingIn()).toBe(3)
  })
})

describe('fleet options', () => {
  const base = { brokerUrl: 'mqtt://127.0.0.1:9', rate: 1, scenario: 'normal', log: silentLogger } as const

  it('rejects a fleet that cannot run as asked, naming the problem', async () => {
    const cases: [Partial<FleetOptions>, RegExp][] = [
      [{ rate: 0 }, /^rate:/],
      [{ rate: Number.NaN }, /^rate:/],
      [{ gatewayBatch: 0 }, /^gatewayBatch:/],
      [{ maxLoggingIn: 0 }, /^maxLoggingIn:/],
      [{ devices: [...DEVICES, { id: 'mh-1', kind: 'manhole', secret: 'x' }] }, /listed twice/],
      [{ devices: [{ id: 'bad id', kind: 'manhole', secret: 'x' }] }, /not a valid id/],
      [{ devices: [{ id: 'mh-9', kind: 'manhole', secret: 'x', gatewayId: 'el-1' }, ...DEVICES] }, /not a gateway of this fleet/],
      [{ devices: [...DEVICES, { id: 'gw-2', kind: 'gateway', secret: 'x', gatewayId: 'gw-1' }] }, /cannot be the child/],
    ]
    for (const [opts, message] of cases) {
      const fleet = new Fleet({ ...base, devices: DEVICES, ...opts })
      await expect(fleet.start()).rejects.toThrow(message)
      expect(fleet.progress().connections).toBe(0)
    }
  })

  it('takes faults only once running', () => {
    const fleet = new Fleet({ ...base, devices: DEVICES })
    expect(() => fleet.inject('mh-1', 'silent')).toThrow(/not running/)
    expect(fleet.activeFaults()).toEqual([])
  })
})
