// The simulators speaking ChirpStack: LoRaWAN devices as a ChirpStack v4 network server would
// publish them through its MQTT integration (JSON `up` events on
// `application/{applicationId}/device/{devEui}/event/up`), on a broker of their own. The readings
// of each device's model travel as the real sensor would send them, so the shipped profiles
// (core/profiles/catalogue.ts) decode them:
// - manhole → Milesight EM320-TILT frame (fPort 85): battery channel 01 75, angle channel 03 D4
//   with Z = 90° − tilt (lying flat, Z stands at 90°);
// - fire tank → Dragino LDDS75 frame (fPort 2): battery mV, distance mm from a lid mounted
//   `LDDS75_MOUNT_HEIGHT_M` above the floor (the shipped profile's default), clamped to the
//   sensor's 280–7500 mm range;
// - elevator → no LoRaWAN model is shipped: the event carries ChirpStack's decoded `object`, as
//   when the device profile in ChirpStack has a codec.
import { randomUUID } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'
import type { DeviceKind } from '../core/contract.ts'
import type { Logger } from '../core/log.ts'
import type { Unit } from '../core/units.ts'
import { createModel, type AnyModel } from './models/index.ts'
import { hashSeed } from './rng.ts'

export const EM320_TILT_FPORT = 85
export const LDDS75_FPORT = 2
export const LDDS75_MOUNT_HEIGHT_M = 4.0

/** An EM320-TILT uplink (Milesight-IoT/SensorDecoders, EM320-TILT README): battery %, tilt from horizontal. */
export function em320TiltFrame(batteryPct: number, tiltDeg: number): Buffer {
  const frame = Buffer.alloc(11)
  frame.set([0x01, 0x75, Math.round(Math.min(100, Math.max(0, batteryPct))), 0x03, 0xd4])
  // Angles in hundredths of a degree, shifted left one bit (bit 0 is the threshold flag: normal).
  const angle = (deg: number) => Math.round(deg * 100) << 1
  frame.writeInt16LE(angle(0), 5)
  frame.writeInt16LE(angle(0), 7)
  frame.writeInt16LE(angle(90 - Math.min(90, Math.max(0, tiltDeg))), 9)
  return frame
}

/** An LDDS75 uplink (Dragino LDDS75 manual, "Uplink Payload"): 8 bytes, big-endian. */
export function ldds75Frame(waterLevelM: number, batteryMv = 3600): Buffer {
  const distanceMm = Math.round(Math.min(7500, Math.max(280, (LDDS75_MOUNT_HEIGHT_M - waterLevelM) * 1000)))
  const frame = Buffer.alloc(8)
  frame.writeUInt16BE(batteryMv & 0x3fff, 0)
  frame.writeUInt16BE(distanceMm, 2)
  // Interrupt flag 0, no temperature probe (0), sensor flag 1 (ultrasonic sensor connected).
  frame.writeUInt8(1, 7)
  return frame
}

export interface UpEventInput {
  applicationId: string
  devEui: string
  deviceName: string
  time: number
  fCnt: number
  fPort?: number
  data?: Buffer
  object?: Record<string, number | boolean>
}

/** A ChirpStack v4 `up` event in its JSON encoding (chirpstack-docs, "Integrations > Event types"). */
export function upEvent(e: UpEventInput): Record<string, unknown> {
  return {
    deduplicationId: randomUUID(),
    time: new Date(e.time).toISOString(),
    deviceInfo: {
      tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
      tenantName: 'ChirpStack',
      applicationId: e.applicationId,
      applicationName: 'housing-brain simulator',
      deviceProfileId: '14855bf7-d10d-4aee-b618-ebfcb64dc7ad',
      deviceProfileName: 'simulated',
      deviceName: e.deviceName,
      devEui: e.devEui,
    },
    devAddr: e.devEui.slice(-8),
    dr: 5,
    fCnt: e.fCnt,
    ...(e.fPort === undefined ? {} : { fPort: e.fPort }),
    ...(e.data === undefined ? {} : { data: e.data.toString('base64') }),
    ...(e.object === undefined ? {} : { object: e.object }),
    rxInfo: [{ gatewayId: '0016c001f153a14c', uplinkId: e.fCnt, rssi: -72, snr: 7.5, context: 'E3OWOQ==' }],
    txInfo: { frequency: 486300000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 9, codeRate: 'CR_4_5' } } },
  }
}

/** What a device of `kind` puts on air for these model values. */
export function uplinkOf(kind: DeviceKind, values: Record<string, number | boolean>): Pick<UpEventInput, 'fPort' | 'data' | 'object'> {
  const num = (k: string) => Number(values[k] ?? 0)
  if (kind === 'manhole') return { fPort: EM320_TILT_FPORT, data: em320TiltFrame(num('battery_pct'), num('cover_tilt_deg')) }
  if (kind === 'fire_tank') return { fPort: LDDS75_FPORT, data: ldds75Frame(num('water_level_m')) }
  return { fPort: 1, object: values }
}

/** A DevEUI for a device id, stable across runs (the simulator and `--provision` agree on it). */
export function simulatedDevEui(deviceId: string): string {
  const a = hashSeed(deviceId, 1).toString(16).padStart(8, '0')
  const b = hashSeed(deviceId, 2).toString(16).padStart(8, '0')
  return `${a}${b}`.slice(0, 16)
}

export interface LoraDevice {
  id: string
  kind: DeviceKind
  devEui: string
}

export interface ChirpStackSimOptions {
  url: string
  username?: string | undefined
  password?: string | undefined
  applicationId: string
  devices: readonly LoraDevice[]
  /** Uplinks per second per device (LoRaWAN devices report every few minutes; the demo is faster). */
  rate: number
  log: Logger
  /** Unacknowledged publishes before uplinks are skipped (keeps memory bounded when the broker stalls). */
  maxInflight?: number
}

export class ChirpStackSimulator implements Unit {
  readonly name = 'chirpstack-simulator'
  private client: MqttClient | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly models = new Map<string, AnyModel>()
  private inflight = 0
  private next = 0
  private fCnt = 0
  published = 0
  acked = 0
  skipped = 0

  constructor(private readonly opts: ChirpStackSimOptions) {}

  async start(): Promise<void> {
    const o = this.opts
    if (!(o.rate > 0)) throw new Error('rate: expected uplinks per second per device, above 0')
    const sensors = o.devices.filter((d) => d.kind !== 'gateway')
    for (const d of sensors) this.models.set(d.id, createModel(d.kind, hashSeed(d.id, 1)))
    // ChirpStack is one MQTT client publishing for all its devices.
    this.client = await mqtt.connectAsync(o.url, {
      clientId: `hb-sim-chirpstack-${randomUUID().slice(0, 8)}`,
      reconnectPeriod: 2000,
      ...(o.username ? { username: o.username, password: o.password ?? '' } : {}),
    })
    this.client.on('error', (err) => o.log.warn({ err }, 'ChirpStack simulator: MQTT error'))
    if (sensors.length === 0) return
    // One uplink at a time, round robin, so the stream is steady rather than in bursts.
    const everyMs = 1000 / (o.rate * sensors.length)
    const tick = Math.max(everyMs, 5)
    const perTick = Math.max(1, Math.round(tick / everyMs))
    this.timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) this.publishOne(sensors)
    }, tick)
  }

  private publishOne(sensors: readonly LoraDevice[]): void {
    const client = this.client
    const device = sensors[this.next++ % sensors.length]
    const model = device ? this.models.get(device.id) : undefined
    if (!client || !device || !model) return
    if (this.inflight >= (this.opts.maxInflight ?? 100) || !client.connected) {
      this.skipped++
      return
    }
    const now = Date.now()
    const values = model.step(now) as Record<string, number | boolean>
    const event = upEvent({ applicationId: this.opts.applicationId, devEui: device.devEui, deviceName: device.id, time: now, fCnt: this.fCnt++, ...uplinkOf(device.kind, values) })
    const topic = `application/${this.opts.applicationId}/device/${device.devEui}/event/up`
    this.inflight++
    this.published++
    client.publishAsync(topic, JSON.stringify(event), { qos: 1 }).then(
      () => {
        this.acked++
      },
      (err: unknown) => this.opts.log.debug({ err }, 'ChirpStack simulator: publish failed'),
    ).finally(() => this.inflight--)
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    const client = this.client
    this.client = undefined
    await client?.endAsync()
  }
}
