// One MQTT connection of the fleet: a device or a gateway, logged in as itself, announcing
// itself online (retained) and leaving `offline` as its Last Will.
import mqtt, { type MqttClient } from 'mqtt'
import { topics, type DeviceStatus } from '../core/contract.ts'
import type { CountedLog, Logger } from '../core/log.ts'
import type { OutgoingMessage } from './device.ts'

export interface FleetCounters {
  /** Telemetry messages handed to the client. */
  published: number
  /** Telemetry entries in those messages. */
  readings: number
  /** Telemetry messages the broker acknowledged (PUBACK). */
  acked: number
  /** Publishes that failed and client errors (refused logins, lost sockets). */
  errors: number
  /** Telemetry messages not sent because the client was offline or too far behind on acks. */
  skipped: number
  /** Retained `online` announcements sent (one per successful connect). */
  statusPublished: number
  connects: number
}

export function zeroCounters(): FleetCounters {
  return { published: 0, readings: 0, acked: 0, errors: 0, skipped: 0, statusPublished: 0, connects: 0 }
}

export interface ConnectionOptions {
  url: string
  id: string
  secret: string
  counters: FleetCounters
  log: Logger
  /** Where refused logins and lost connections, which the client retries, are counted (one line per interval). */
  retries: CountedLog
  /** Unacknowledged publishes allowed before new telemetry is skipped (keeps memory bounded). */
  maxInflight: number
  keepaliveS: number
  reconnectPeriodMs: number
  connectTimeoutMs: number
}

export class DeviceConnection {
  private client: MqttClient | undefined
  private inflight = 0
  private closing = false
  private drained: (() => void) | undefined

  constructor(private readonly opts: ConnectionOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false
  }

  /**
   * Connects (and keeps reconnecting); `onConnect` runs after every successful connect. Resolves
   * once the first attempt has its answer (connected, refused or failed), so a fleet can bound
   * how many first logins are outstanding.
   */
  connect(onConnect: () => void = () => undefined): Promise<void> {
    const { id, secret } = this.opts
    const statusTopic = topics.deviceStatus(id)
    const client = mqtt.connect(this.opts.url, {
      clientId: id,
      username: id,
      password: secret,
      clean: true,
      keepalive: this.opts.keepaliveS,
      reconnectPeriod: this.opts.reconnectPeriodMs,
      // As firmware does: a refused login ("server unavailable" while the broker is busy) is retried.
      reconnectOnConnackError: true,
      connectTimeout: this.opts.connectTimeoutMs,
      // The broker publishes this when the connection dies without a DISCONNECT [MQTT-3.1.2-8].
      will: { topic: statusTopic, payload: Buffer.from('offline' satisfies DeviceStatus), qos: 1, retain: true },
    })
    this.client = client
    client.on('connect', () => {
      if (this.closing) return
      this.opts.counters.connects++
      // Retained, so a consumer that subscribes later still learns the device is up; re-sent on
      // every reconnect because the Will may have replaced it meanwhile.
      this.send(statusTopic, 'online' satisfies DeviceStatus, true, (ok) => {
        if (ok) this.opts.counters.statusPublished++
      })
      onConnect()
    })
    client.on('error', (err) => {
      this.opts.counters.errors++
      // A refused CONNACK (the broker busy or not knowing the device) or a network error: what a
      // device meets and retries, counted without a stack. Anything else is unexpected.
      if (retried(err)) this.opts.retries.note(`simulated devices retrying after: ${err.message}`, { deviceId: id })
      else this.opts.log.warn({ err, deviceId: id }, 'mqtt client error')
    })
    return new Promise((resolve) => {
      for (const answer of ['connect', 'error', 'close'] as const) client.once(answer, () => resolve())
    })
  }

  /** Whether telemetry can go out now: connected, not closing, not too far behind on acks. */
  get ready(): boolean {
    return !this.closing && this.connected && this.inflight < this.opts.maxInflight
  }

  /** Counts a message that was due but not sent. */
  skip(): void {
    this.opts.counters.skipped++
  }

  /** Publishes telemetry at QoS 1; returns false (and counts it skipped) when it cannot be sent now. */
  publish(msg: OutgoingMessage): boolean {
    const c = this.opts.counters
    if (this.closing || !this.connected) {
      c.skipped++
      return false
    }
    c.published++
    c.readings += msg.readings
    this.send(msg.topic, msg.payload, false, (ok) => {
      if (ok) c.acked++
    })
    return true
  }

  /**
   * Ends the connection: waits (up to `graceMs`) for outstanding acks, then disconnects cleanly.
   * If acks are still missing then, the socket is dropped instead, and the broker publishes the Will.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true
    const client = this.client
    if (!client) return
    if (this.inflight > 0 && client.connected) {
      await withTimeout(new Promise<void>((resolve) => (this.drained = resolve)), graceMs)
    }
    const force = this.inflight > 0 || !client.connected
    // MQTT.js calls back once the stream has closed; the timeout bounds a stream that never does.
    await withTimeout(new Promise<void>((resolve) => client.end(force, () => resolve())), graceMs)
  }

  private send(topic: string, payload: string, retain: boolean, done: (ok: boolean) => void): void {
    const client = this.client
    if (!client) return
    this.inflight++
    client.publish(topic, payload, { qos: 1, retain }, (err) => {
      this.inflight--
      if (err) {
        this.opts.counters.errors++
        this.opts.log.debug({ err, deviceId: this.opts.id, topic }, 'publish failed')
      }
      done(!err)
      if (this.inflight === 0 && this.drained) {
        this.drained()
        this.drained = undefined
      }
    })
  }
}

/** MQTT.js's CONNACK refusals carry a numeric return code; socket errors an errno code (ECONNREFUSED, …). */
function retried(err: Error): boolean {
  const code = (err as { code?: unknown }).code
  return typeof code === 'number' || (typeof code === 'string' && /^E[A-Z]+$/.test(code))
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
