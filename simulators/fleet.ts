// A simulated fleet: every standalone device and every gateway gets its own MQTT connection and
// a timer; children of a gateway are sampled and published by their gateway.
import { ID_PATTERN, type DeviceKind } from '../core/contract.ts'
import { CountedLog, type Logger } from '../core/log.ts'
import type { Unit } from '../core/units.ts'
import { DeviceConnection, zeroCounters, type FleetCounters } from './client.ts'
import { DeviceUnit, type SimUnit } from './device.ts'
import type { Fault } from './faults.ts'
import { Gateway, type GatewayChild } from './gateway.ts'
import { HttpConnection, type HttpTarget } from './http.ts'
import { createModel, type AnyModel, type ModelOptions } from './models/index.ts'
import { Rng, hashSeed } from './rng.ts'
import { planScenario, type FaultAssignment, type ScenarioName } from './scenarios.ts'

/** A provisioned device as the fleet needs it (a `DeviceCredential` from provisioning fits). */
export interface FleetDevice {
  id: string
  kind: DeviceKind
  secret: string
  /** Set for a child device: it is then published by this gateway, never by itself. */
  gatewayId?: string | null
}

export interface FleetOptions {
  devices: readonly FleetDevice[]
  brokerUrl: string
  /** Telemetry messages per second per connected device or gateway; may be fractional (0.1 = every 10 s). */
  rate: number
  scenario: ScenarioName
  log: Logger
  /** Seeds every model and the scenario's choice of devices. */
  seed?: number
  /** Share of eligible devices a scenario's fault hits (default 0.1). */
  scenarioShare?: number
  /** New connections per second, so a thousand devices do not log in in the same millisecond (default 200). */
  connectsPerSec?: number
  /**
   * First logins outstanding at once (default 8): the next device connects when one has its
   * answer. The broker refuses logins beyond its bound on concurrent password checks
   * (MQTT_AUTH_MAX_CONCURRENT), so a fleet must stay under it not to trip it (issue 16).
   */
  maxLoggingIn?: number
  /** Child samples a gateway collects before publishing them as one batch (default 1). */
  gatewayBatch?: number
  /** Unacknowledged publishes per connection before telemetry is skipped (default 100). */
  maxInflight?: number
  /** How long `stop()` waits for outstanding acks per connection (default 2000 ms). */
  stopGraceMs?: number
  model?: ModelOptions
  mqtt?: { keepaliveS?: number; reconnectPeriodMs?: number; connectTimeoutMs?: number }
  /** The models' clock (default `Date.now`); timers still run in real time. */
  now?: () => number
  /** Push over HTTP (the device API, as OneNET or as CTWing) instead of MQTT; no gateways then. */
  http?: HttpTarget | undefined
}

export interface FleetProgress extends FleetCounters {
  /** Devices simulated, children of gateways included. */
  devices: number
  /** MQTT connections (standalone devices and gateways). */
  connections: number
  connected: number
  activeFaults: number
  elapsedMs: number
  /** Telemetry messages per second since start. */
  publishRate: number
}

/** What the fleet drives per device: an MQTT connection or an HTTP pusher. */
type Connection = Pick<DeviceConnection, 'connected' | 'ready' | 'connect' | 'skip' | 'publish' | 'close'>

interface Runner {
  unit: SimUnit
  conn: Connection
}

export class Fleet implements Unit {
  readonly name = 'simulator'
  private readonly counters: FleetCounters = zeroCounters()
  private readonly models = new Map<string, AnyModel>()
  private readonly runners: Runner[] = []
  private readonly timeouts = new Set<NodeJS.Timeout>()
  private readonly intervals = new Set<NodeJS.Timeout>()
  private running = false
  private startedAt = 0
  /** Devices waiting for a free first-login slot, and the slots in use. */
  private readonly waiting: (() => void)[] = []
  private loggingIn = 0
  private retries: CountedLog | undefined

  constructor(private readonly opts: FleetOptions) {}

  /**
   * Builds the devices and schedules their connections. Resolves at once: connections and
   * reconnections proceed in the background (watch `progress().connected`). Bad options reject.
   */
  start(): Promise<void> {
    try {
      this.launch()
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
    return Promise.resolve()
  }

  private launch(): void {
    if (this.running) throw new Error('simulator fleet is already running')
    const o = this.opts
    validate(o)
    const log = o.log.child({ module: 'simulator' })
    const retries = new CountedLog(log, { level: 'warn', intervalMs: 10_000 })
    this.retries = retries
    const seed = o.seed ?? 1
    const now = o.now ?? Date.now
    this.models.clear()
    this.runners.length = 0
    for (const d of o.devices) this.models.set(d.id, createModel(d.kind, hashSeed(d.id, seed), o.model))

    const faults = planScenario(o.scenario, o.devices, { share: o.scenarioShare ?? 0.1, seed })
    for (const f of faults) this.model(f.deviceId).inject(f.fault)

    for (const d of o.devices) {
      if (d.gatewayId != null) continue
      const rng = new Rng(hashSeed(d.id, seed ^ 0x5eed))
      const model = this.model(d.id)
      const unit =
        model.kind === 'gateway'
          ? new Gateway(d.id, model, this.childrenOf(d.id), rng, o.gatewayBatch ?? 1)
          : new DeviceUnit(d.id, model, rng)
      const conn: Connection = o.http
        ? new HttpConnection({ target: o.http, id: d.id, secret: d.secret, counters: this.counters })
        : new DeviceConnection({
        url: o.brokerUrl,
        id: d.id,
        secret: d.secret,
        counters: this.counters,
        log,
        retries,
        maxInflight: o.maxInflight ?? 100,
        keepaliveS: o.mqtt?.keepaliveS ?? 30,
        reconnectPeriodMs: o.mqtt?.reconnectPeriodMs ?? 2000,
        connectTimeoutMs: o.mqtt?.connectTimeoutMs ?? 10_000,
      })
      this.runners.push({ unit, conn })
    }

    this.running = true
    this.startedAt = Date.now()
    const intervalMs = 1000 / o.rate
    const connectGapMs = 1000 / (o.connectsPerSec ?? 200)
    const phase = new Rng(seed)
    for (const [i, runner] of this.runners.entries()) {
      // Each connection at its own moment, and its first publish at a random point of the
      // interval after it first gets through, so the broker sees a steady stream rather than
      // synchronized bursts. A device starts sampling once it is first online.
      const offset = phase.uniform(0, intervalMs)
      let sampling = false
      this.after(i * connectGapMs, () =>
        this.loginSlot(() =>
          runner.conn.connect(() => {
            if (sampling || !this.running) return
            sampling = true
            this.after(offset, () => {
              this.tick(runner, now)
              this.intervals.add(setInterval(() => this.tick(runner, now), intervalMs))
            })
          }),
        ),
      )
    }
    // Counts at info (a big fleet has hundreds of faulty devices); the full list at debug.
    const faultCounts: Partial<Record<Fault, number>> = {}
    for (const f of faults) faultCounts[f.fault] = (faultCounts[f.fault] ?? 0) + 1
    log.debug({ faults }, 'scenario faults')
    log.info(
      { devices: o.devices.length, connections: this.runners.length, rate: o.rate, scenario: o.scenario, faults: faultCounts },
      'simulator started',
    )
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    // Timers first: nothing new is published from here on.
    for (const t of this.timeouts) clearTimeout(t)
    for (const t of this.intervals) clearInterval(t)
    this.timeouts.clear()
    this.intervals.clear()
    this.waiting.length = 0
    const graceMs = this.opts.stopGraceMs ?? 2000
    await Promise.all(this.runners.map((r) => r.conn.close(graceMs)))
    this.retries?.flush()
    this.opts.log.child({ module: 'simulator' }).info(this.progress(), 'simulator stopped')
  }

  /** Switches a fault on for one device (a child of a gateway included); throws for an unknown device or a fault that does not apply. */
  inject(deviceId: string, fault: Fault): void {
    this.model(deviceId).inject(fault)
    this.opts.log.info({ module: 'simulator', deviceId, fault }, 'fault injected')
  }

  clear(deviceId: string, fault: Fault): void {
    this.model(deviceId).clear(fault)
    this.opts.log.info({ module: 'simulator', deviceId, fault }, 'fault cleared')
  }

  activeFaults(): FaultAssignment[] {
    const out: FaultAssignment[] = []
    for (const [deviceId, model] of this.models) for (const fault of model.faults) out.push({ deviceId, fault })
    return out
  }

  /** A copy of the counters. */
  stats(): FleetCounters {
    return { ...this.counters }
  }

  progress(): FleetProgress {
    const elapsedMs = this.startedAt === 0 ? 0 : Date.now() - this.startedAt
    return {
      ...this.counters,
      devices: this.models.size,
      connections: this.runners.length,
      connected: this.runners.filter((r) => r.conn.connected).length,
      activeFaults: this.activeFaults().length,
      elapsedMs,
      publishRate: elapsedMs > 0 ? Math.round((this.counters.published / elapsedMs) * 10_000) / 10 : 0,
    }
  }

  private tick(runner: Runner, now: () => number): void {
    if (!this.running) return
    // Offline or behind on acks: the sample is not taken at all, so no reading is produced only
    // to be dropped and sequence numbers stay gapless; the model catches up on the next step.
    if (!runner.conn.ready) {
      runner.conn.skip()
      return
    }
    for (const msg of runner.unit.tick(now())) runner.conn.publish(msg)
  }

  /** Runs `login` when fewer than `maxLoggingIn` first logins are outstanding, else when one has its answer. */
  private loginSlot(login: () => Promise<void>): void {
    if (!this.running) return
    if (this.loggingIn >= (this.opts.maxLoggingIn ?? 8)) {
      this.waiting.push(() => this.loginSlot(login))
      return
    }
    this.loggingIn++
    void login().finally(() => {
      this.loggingIn--
      this.waiting.shift()?.()
    })
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timeouts.delete(t)
      fn()
    }, ms)
    this.timeouts.add(t)
  }

  private model(deviceId: string): AnyModel {
    const model = this.models.get(deviceId)
    if (!model) throw new Error(this.running ? `device "${deviceId}" is not in the simulated fleet` : 'simulator fleet is not running')
    return model
  }

  private childrenOf(gatewayId: string): GatewayChild[] {
    return this.opts.devices.filter((d) => d.gatewayId === gatewayId).map((d) => ({ id: d.id, model: this.model(d.id) }))
  }
}

/** Rejects a fleet that could not run as asked, naming the problem. */
function validate(o: FleetOptions): void {
  if (!(Number.isFinite(o.rate) && o.rate > 0 && o.rate <= 1000)) throw new Error(`rate: expected messages per second in (0, 1000], got ${o.rate}`)
  if (o.connectsPerSec !== undefined && !(o.connectsPerSec > 0)) throw new Error('connectsPerSec: expected a positive number')
  if (o.maxInflight !== undefined && !(Number.isInteger(o.maxInflight) && o.maxInflight >= 1)) throw new Error('maxInflight: expected a positive integer')
  if (o.maxLoggingIn !== undefined && !(Number.isInteger(o.maxLoggingIn) && o.maxLoggingIn >= 1)) throw new Error('maxLoggingIn: expected a positive integer')
  if (o.gatewayBatch !== undefined && !(Number.isInteger(o.gatewayBatch) && o.gatewayBatch >= 1 && o.gatewayBatch <= 1000)) {
    throw new Error('gatewayBatch: expected an integer in [1, 1000]')
  }
  const byId = new Map<string, FleetDevice>()
  for (const d of o.devices) {
    if (!ID_PATTERN.test(d.id)) throw new Error(`device id "${d.id}" is not a valid id`)
    if (byId.has(d.id)) throw new Error(`device "${d.id}" is listed twice`)
    byId.set(d.id, d)
  }
  if (o.http && o.devices.some((d) => d.kind === 'gateway' || d.gatewayId != null)) throw new Error(`gateways and their children speak MQTT only; leave them out of a fleet that pushes via ${o.http.via}`)
  for (const d of o.devices) {
    if (d.gatewayId == null) continue
    if (d.kind === 'gateway') throw new Error(`gateway "${d.id}" cannot be the child of another gateway`)
    const gw = byId.get(d.gatewayId)
    if (gw?.kind !== 'gateway') throw new Error(`device "${d.id}" names "${d.gatewayId}" as its gateway, which is not a gateway of this fleet`)
  }
}
