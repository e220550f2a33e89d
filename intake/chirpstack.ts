// The ChirpStack v4 MQTT integration: LoRaWAN devices arrive as the JSON events ChirpStack
// publishes on `application/{applicationId}/device/{devEui}/event/{event}` (chirpstack-docs,
// "Integrations > MQTT" and "Integrations > Event types"). The unit subscribes to that broker with
// a persistent session of its own (intake/mqtt-session.ts) and receives each event as every
// receiver does (intake/receiver.ts): the device by DevEUI, decoded through intake/device-payload.ts,
// submitted to the TelemetrySink, so checks, dead letters, group commit and metrics are those of
// every other way in:
//
// - `up`: the device is the one registered with `deviceInfo.devEui` (unknown → dead letter
//   `unknown_device` naming the DevEUI). ChirpStack's decoded `object`, when its device profile
//   has a codec, stands in for our profile script's output; else the base64 `data` (FRMPayload)
//   is decoded by the device's profile with the event's `fPort`. The event's `time` is the
//   readings' time unless the decoder gives one.
// - `join`: the device is online. `status` (DevStatusAns): online, and `batteryLevel` (a
//   percentage) as `battery_pct` when the device's kind has that metric and ChirpStack does not
//   flag the level unavailable or the device mains-powered.
// - `ack`, `txack`, `log`, `location`, `integration`: nothing to store; counted and skipped.
//
// Durability: PUBACK only after the commit of what the event carries, unless CHIRPSTACK_ACK_WINDOW
// allows some events to be acknowledged sooner (the README, "ChirpStack v4", states the window).
// An event the pipeline refuses is a committed dead letter, so it is acknowledged too. With
// CHIRPSTACK_SESSIONS > 1, several sessions share the subscription, so several events are in
// flight (and commit together) while each is still acknowledged after its own commit.
import type { Config } from '../core/config.ts'
import type { Db } from '../core/db/client.ts'
import { watchDeviceChanges } from './device-caches.ts'
import { classifyDbError } from '../core/db/errors.ts'
import { DecoderSandbox } from '../core/decoders/sandbox.ts'
import { submitDevicePayload } from './device-payload.ts'
import { receiverCaches, type Receiver, type ReceiverDeps } from './receiver.ts'
import type { Logger } from '../core/log.ts'
import { metricSpec, type RejectReason } from '../core/contract.ts'
import type { Metrics } from '../core/metrics.ts'
import { deviceByExternalId, type DeviceRecord } from '../core/repos/devices.ts'
import { retryUntilAborted } from '../core/retry.ts'
import { payloadExcerpt } from '../core/telemetry.ts'
import type { TelemetrySink } from './telemetry-sink.ts'
import type { Unit } from '../core/units.ts'
import { PersistentSession, type Handled } from './mqtt-session.ts'

export interface ChirpStackOptions {
  url: string
  username?: string | undefined
  password?: string | undefined
  clientId: string
  /** One application's id, or `+` for every application on the broker. */
  applicationId: string
  /** Events that may be acknowledged before their commit (0: none), per session. */
  ackWindow: number
  maxEventBytes: number
  /**
   * Persistent sessions splitting the events through an MQTT 5 shared subscription (client ids
   * `{clientId}-1` … `-n`); 1 = one plain session `{clientId}`. Each takes one event at a time,
   * so n events commit together while each is still acknowledged only after its commit.
   */
  sessions?: number
}

/** The event types of ChirpStack v4 (integration.proto); anything else is counted as `other`. */
export const CHIRPSTACK_EVENTS = ['up', 'join', 'status', 'ack', 'txack', 'log', 'location', 'integration'] as const
type EventType = (typeof CHIRPSTACK_EVENTS)[number]

/** The topic ChirpStack publishes an event on (its default `event_topic` template). */
export function chirpstackTopic(applicationId: string, devEui: string, event: string): string {
  return `application/${applicationId}/device/${devEui}/event/${event}`
}

const DEV_EUI = /^[0-9a-fA-F]{16}$/
const CLIENT_ID = 'chirpstack'

/** The fields of ChirpStack's JSON events this unit reads (Protobuf JSON mapping: camelCase, bytes as base64). */
interface ChirpStackEvent {
  time?: unknown
  deviceInfo?: { devEui?: unknown }
  fPort?: unknown
  data?: unknown
  object?: unknown
  batteryLevel?: unknown
  batteryLevelUnavailable?: unknown
  externalPowerSource?: unknown
}

class Refused extends Error {
  constructor(
    readonly code: RejectReason,
    readonly detail: string,
  ) {
    super(detail)
  }
}

/** A ChirpStack event as its broker delivered it. */
export interface ChirpStackArrival {
  topic: string
  payload: Buffer
}

/**
 * The integration the `chirpstack` section asks for, feeding `sink`: none while
 * CHIRPSTACK_MQTT_URL is unset. It runs inside the process that already holds an ingest (`up`,
 * `ingest`), so its events share that group commit, and nothing more is deployed for LoRaWAN.
 */
export function chirpstackIntegration(db: Db, sink: TelemetrySink, cfg: Config['chirpstack'], log: Logger, metrics?: Metrics): ChirpStackIntegration | undefined {
  const { url, ...opts } = cfg
  return url === undefined ? undefined : new ChirpStackIntegration(db, sink, { url, ...opts }, log.child({ module: 'chirpstack' }), metrics)
}

export class ChirpStackIntegration implements Unit, Receiver<ChirpStackArrival> {
  readonly name = 'chirpstack'
  private readonly sessions: PersistentSession[]
  private readonly sandbox = new DecoderSandbox()
  private readonly intake: ReceiverDeps
  private stopping = new AbortController()
  /** Events being stored; bounded per session by the ack window plus the one MQTT.js waits on. */
  private readonly inFlight = new Set<Promise<unknown>>()
  private unlisten: (() => Promise<void>) | undefined

  constructor(
    private readonly db: Db,
    private readonly sink: TelemetrySink,
    private readonly opts: ChirpStackOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    // Decoders by device and devices by DevEUI, cached: without them each event cost three
    // queries. Dropped on device and profile changes (intake/device-caches.ts, from start to stop).
    this.intake = { db, sink, sandbox: this.sandbox, ...receiverCaches() }
    const n = opts.sessions ?? 1
    const filter = chirpstackTopic(opts.applicationId, '+', '+')
    this.sessions = Array.from(
      { length: n },
      (_, i) =>
        new PersistentSession(
          this.name,
          {
            url: opts.url,
            clientId: n === 1 ? opts.clientId : `${opts.clientId}-${i + 1}`,
            username: opts.username,
            password: opts.password,
            // [MQTT-4.8.2] a shared subscription delivers each message to one session of the group.
            filters: [n === 1 ? filter : `$share/${opts.clientId}/${filter}`],
            ackWindow: opts.ackWindow,
            mqtt5: n > 1,
          },
          (packet) => this.onEvent(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload),
          log,
        ),
    )
  }

  async start(): Promise<void> {
    this.stopping = new AbortController()
    await this.sandbox.start()
    // Before the sessions: no event may be decoded from a cache nobody invalidates.
    this.unlisten = await watchDeviceChanges(this.db, this.intake)
    for (const session of this.sessions) await session.start()
    this.log.info({ url: this.opts.url, clientId: this.opts.clientId, sessions: this.sessions.length, applicationId: this.opts.applicationId }, 'ChirpStack integration subscribed')
  }

  /** No new events; those in flight commit (or, when the database is away, give up unacknowledged); then the sandbox. */
  async stop(): Promise<void> {
    await Promise.all(this.sessions.map((session) => session.stop()))
    this.stopping.abort()
    await Promise.allSettled([...this.inFlight])
    await this.unlisten?.()
    this.unlisten = undefined
    await this.sandbox.stop()
  }

  private onEvent(topic: string, payload: Buffer): Handled {
    const event = eventOf(topic)
    this.metrics?.chirpstackEvents.inc({ event: event ?? 'other' })
    if (!stored(event)) return { weight: 0, done: Promise.resolve() }
    const done = this.receive({ topic, payload })
    this.inFlight.add(done)
    void done.finally(() => this.inFlight.delete(done)).catch(() => undefined)
    return { weight: 1, done }
  }

  /**
   * One event, stored or dead-lettered; settles after the commit (the session's PUBACK waits on
   * it). `ack`, `txack`, `log`, `location` and others carry nothing to store.
   */
  receive({ topic, payload }: ChirpStackArrival): Promise<unknown> {
    const event = eventOf(topic)
    if (!stored(event)) return Promise.resolve()
    // A transient failure (the database, mid-query) is retried: MQTT.js would not PUBACK the event,
    // but the broker resends only on a new connection, so it would wait until then.
    return retryUntilAborted(() => this.store(event, topic, topic.split('/')[3] ?? '', payload), {
      signal: this.stopping.signal,
      onError: (err, attempt) => {
        if (attempt === 1) this.log.warn({ err, topic }, 'could not store a ChirpStack event; retrying')
      },
    })
  }

  private async store(event: 'up' | 'join' | 'status', topic: string, topicEui: string, payload: Buffer): Promise<unknown> {
    const receivedAt = Date.now()
    let deviceId = `deveui:${topicEui.toLowerCase()}`
    try {
      if (payload.length > this.opts.maxEventBytes) throw new Refused('payload_too_large', `the event has ${payload.length} bytes, more than CHIRPSTACK_MAX_EVENT_BYTES (${this.opts.maxEventBytes})`)
      const ev = parseEvent(payload)
      const devEui = ev.deviceInfo?.devEui
      if (typeof devEui !== 'string' || !DEV_EUI.test(devEui)) throw new Refused('schema_violation', 'deviceInfo.devEui: expected the DevEUI as 16 hex digits')
      deviceId = `deveui:${devEui.toLowerCase()}`
      const ts = eventTime(ev.time)
      const device = await this.deviceOf(devEui)
      if (!device?.enabled) throw new Refused('unknown_device', `no enabled device is registered with DevEUI ${devEui.toLowerCase()} (set devEui on the device)`)
      deviceId = device.id
      if (event === 'join') return await this.sink.setStatus(device.id, 'online')
      if (event === 'status') return await this.status(device, topic, ev, ts, receivedAt)
      return await this.uplink(device, topic, ev, ts, receivedAt)
    } catch (err) {
      // Stopping, or the database away: not the event's fault; it stays unacknowledged (retried).
      if (this.stopping.signal.aborted || (!(err instanceof Refused) && classifyDbError(err) === 'transient')) throw err
      // Anything else is recorded, as the pipeline records what it cannot process: never resent forever.
      if (!(err instanceof Refused)) this.log.error({ err, topic }, 'could not process a ChirpStack event; dead-lettered')
      const [code, detail] = err instanceof Refused ? [err.code, err.detail] : (['internal_error', err instanceof Error ? `${err.name}: ${err.message}` : String(err)] as const)
      return this.sink.submit({ deviceId, source: topic, clientId: CLIENT_ID, receivedAt, body: { kind: 'rejected', code, detail, excerpt: payloadExcerpt(payload) } })
    }
  }

  /**
   * The registry's device with this DevEUI, from the cache when it was found lately (an unknown one
   * is not remembered: a device registered a moment later is found at once); waits out a database
   * outage (the event stays unacknowledged meanwhile).
   */
  private async deviceOf(devEui: string): Promise<DeviceRecord | undefined> {
    const key = `deveui:${devEui.toLowerCase()}`
    const cached = this.intake.platformDevices?.get(key)
    if (cached) return cached
    const device = await retryUntilAborted(() => deviceByExternalId(this.db, { devEui }), {
      signal: this.stopping.signal,
      onError: (err, attempt) => {
        if (attempt === 1) this.log.warn({ err }, 'DevEUI lookup failed; retrying')
      },
    })
    if (device) this.intake.platformDevices?.set(key, device)
    return device
  }

  private uplink(device: DeviceRecord, topic: string, ev: ChirpStackEvent, ts: number | undefined, receivedAt: number): Promise<unknown> {
    const fPort = typeof ev.fPort === 'number' ? ev.fPort : undefined
    const bytes = typeof ev.data === 'string' ? Buffer.from(ev.data, 'base64') : Buffer.alloc(0)
    const common = { deviceId: device.id, source: topic, clientId: CLIENT_ID, bytes, fPort, ts, receivedAt }
    if (typeof ev.object === 'object' && ev.object !== null && !Array.isArray(ev.object)) {
      return submitDevicePayload(this.intake, { ...common, decoded: ev.object as Record<string, unknown> })
    }
    // An uplink without application payload (MAC commands only, fPort 0) carries no readings.
    if (bytes.length === 0) return Promise.resolve()
    return submitDevicePayload(this.intake, { ...common, binary: true })
  }

  private async status(device: DeviceRecord, topic: string, ev: ChirpStackEvent, ts: number | undefined, receivedAt: number): Promise<unknown> {
    await this.sink.setStatus(device.id, 'online')
    // Protobuf's JSON mapping leaves out false and 0: a missing flag is false.
    const measured = ev.batteryLevelUnavailable !== true && ev.externalPowerSource !== true && typeof ev.batteryLevel === 'number'
    if (!measured || metricSpec(device.kind, 'battery_pct') === undefined) return undefined
    const entry = { ...(ts === undefined ? {} : { ts }), values: { battery_pct: ev.batteryLevel } }
    return this.sink.submit({ deviceId: device.id, source: topic, clientId: CLIENT_ID, receivedAt, body: { kind: 'entries', json: entry } })
  }
}

/** The event type of a topic (chirpstackTopic), undefined when ChirpStack v4 has no such event. */
function eventOf(topic: string): EventType | undefined {
  const event = topic.split('/')[5] ?? ''
  return (CHIRPSTACK_EVENTS as readonly string[]).includes(event) ? (event as EventType) : undefined
}

/** The events that carry something to store. */
function stored(event: EventType | undefined): event is 'up' | 'join' | 'status' {
  return event === 'up' || event === 'join' || event === 'status'
}

function parseEvent(payload: Buffer): ChirpStackEvent {
  let ev: unknown
  try {
    ev = JSON.parse(payload.toString('utf8'))
  } catch {
    throw new Refused('malformed_json', 'the event is not JSON: set json=true under [integration.mqtt] in chirpstack.toml (Protobuf is not read)')
  }
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) throw new Refused('schema_violation', 'expected a ChirpStack event object')
  return ev
}

/** The event's `time` (RFC 3339, nanoseconds allowed) in ms; undefined when absent (the receive time is used). */
function eventTime(time: unknown): number | undefined {
  if (time === undefined || time === null) return undefined
  const ms = typeof time === 'string' ? Date.parse(time) : NaN
  if (!Number.isFinite(ms)) throw new Refused('invalid_timestamp', `time: expected an RFC 3339 time, got ${JSON.stringify(time).slice(0, 80)}`)
  return Math.round(ms)
}
