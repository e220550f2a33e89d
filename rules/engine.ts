// The rules engine: an MQTT client that reads all telemetry and device status, keeps one
// evaluator per (rule, device), and reports raises, repeats and clears to the API.
//
// Restart: the evaluators are rebuilt from the database before the first live message counts —
// recent readings are replayed in time order, each device's last report and broker status are
// applied, and the API's unresolved alerts say which conditions are already raised. So a
// "for 60 s" that was 40 s in when the engine stopped raises 20 s after it started again, once.
//
// Time: evaluators run on the server's clock (rules/server-time.ts); a reading's device timestamp
// is kept in storage but does not decide when a duration completes or a device counts as silent.
//
// Storm control (rules/storm.ts): a child of a gateway that goes silent together with its gateway
// is held back under the gateway's alert; it is reported only if it stays silent after the gateway
// returns.
import mqtt, { type MqttClient } from 'mqtt'
import { parseTopic, topics } from '../core/contract.ts'
import type { Db } from '../core/db/client.ts'
import type { DeviceInfo } from '../core/device-directory.ts'
import type { Logger } from '../core/log.ts'
import { unresolvedRuleAlerts } from '../core/repos/alerts.ts'
import { allDevices, allStatuses } from '../core/repos/devices.ts'
import { lastReportPerDevice, recentReadings } from '../core/repos/readings.ts'
import { listRules } from '../core/repos/rules.ts'
import type { Unit } from '../core/units.ts'
import { checkReadings, parseMessage } from '../core/telemetry.ts'
import { ruleAppliesTo, ruleDefinitionSchema, ruleMetrics, type RuleDefinition } from './definitions.ts'
import { createEvaluator, type Evaluator, type Outcome, type Sample } from './evaluators/index.ts'
import type { ApiReporter } from './reporter.ts'
import { onServerTime, replayedTime } from './server-time.ts'
import { StormControl, evaluatorKey as key } from './storm.ts'
import { replayWindowMs } from './windows.ts'

export interface EngineOptions {
  mqttUrl: string
  mqttUsername: string
  mqttPassword: string
  clientId: string
  /** How often evaluators are given the time (durations, no-data). */
  tickMs: number
  /** A still-active condition is re-reported at most this often (the API counts repeats). */
  repeatEveryMs: number
  /** How often devices and rules are re-read (new devices, edited rules). */
  reloadEveryMs: number
  now?: () => number
}

interface Device {
  id: string
  kind: DeviceInfo['kind']
  communityId: string
  gatewayId: string | null
  expectedIntervalMs: number
  lastSeen: number
  status: 'online' | 'offline' | undefined
}

/** Most readings replayed at start-up; beyond it the oldest part of the window is not rebuilt. */
const REPLAY_LIMIT = 500_000

export class RulesEngine implements Unit {
  readonly name = 'rules'
  private devices = new Map<string, Device>()
  private rules: RuleDefinition[] = []
  private readonly byDevice = new Map<string, Evaluator[]>()
  private readonly byKey = new Map<string, Evaluator>()
  private readonly lastRepeat = new Map<string, number>()
  private readonly storm = new StormControl({
    device: (id) => this.devices.get(id),
    evaluatorsOf: (deviceId) => this.byDevice.get(deviceId) ?? [],
    evaluator: (k) => this.byKey.get(k),
    now: () => this.now(),
    report: (ev, o) => this.report(ev, o),
  })
  private client: MqttClient | undefined
  private tickTimer: NodeJS.Timeout | undefined
  private reloadTimer: NodeJS.Timeout | undefined
  private live = false
  private readonly buffered: { topic: string; payload: Buffer; at: number }[] = []
  private readonly now: () => number

  constructor(
    private readonly db: Db,
    private readonly reporter: ApiReporter,
    private readonly opts: EngineOptions,
    private readonly log: Logger,
  ) {
    this.now = opts.now ?? Date.now
  }

  async start(): Promise<void> {
    // Subscribe first and hold live messages, so nothing falls between the replay and live data.
    this.client = await mqtt.connectAsync(this.opts.mqttUrl, {
      clientId: this.opts.clientId,
      username: this.opts.mqttUsername,
      password: this.opts.mqttPassword,
      clean: true,
      reconnectPeriod: 1000,
    })
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload, this.now()))
    this.client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT client error'))
    await this.client.subscribeAsync([...topics.allTelemetry, topics.allStatus], { qos: 1 })

    await this.load()
    await this.rebuild()
    this.live = true
    for (const m of this.buffered.splice(0)) this.onMessage(m.topic, m.payload, m.at)
    this.tick()
    this.tickTimer = setInterval(() => this.tick(), this.opts.tickMs)
    this.reloadTimer = setInterval(() => {
      this.load().catch((err: unknown) => this.log.error({ err }, 'reloading devices and rules failed'))
    }, this.opts.reloadEveryMs)
    this.log.info({ devices: this.devices.size, rules: this.rules.length, evaluators: this.byKey.size }, 'rules engine running')
  }

  /** For readiness: connected to the broker now. */
  get connected(): boolean {
    return this.client?.connected === true
  }

  async stop(): Promise<void> {
    clearInterval(this.tickTimer)
    clearInterval(this.reloadTimer)
    await this.client?.endAsync()
    this.client = undefined
    await this.reporter.stop()
  }

  /** Faults to inject in tests and the stats line. */
  get evaluatorCount(): number {
    return this.byKey.size
  }

  // ---- Devices and rules ---------------------------------------------------------------------

  private async load(): Promise<void> {
    const [deviceRows, ruleRows] = await Promise.all([allDevices(this.db), listRules(this.db)])
    const rules: RuleDefinition[] = []
    for (const row of ruleRows) {
      if (!row.enabled) continue
      const parsed = ruleDefinitionSchema.safeParse({ ...row.definition, id: row.id })
      if (parsed.success) rules.push(parsed.data)
      else this.log.error({ ruleId: row.id, issues: parsed.error.issues.slice(0, 3) }, 'stored rule is invalid; skipped')
    }
    const devices = new Map<string, Device>()
    for (const d of deviceRows) {
      if (!d.enabled) continue
      const known = this.devices.get(d.id)
      devices.set(d.id, {
        id: d.id,
        kind: d.kind,
        communityId: d.communityId,
        gatewayId: d.gatewayId,
        expectedIntervalMs: d.expectedIntervalS * 1000,
        lastSeen: known?.lastSeen ?? 0,
        status: known?.status,
      })
    }
    this.devices = devices
    this.rules = rules
    this.syncEvaluators()
  }

  /** Creates evaluators for new (rule, device) pairs and retires those whose rule or device is gone. */
  private syncEvaluators(): void {
    const wanted = new Set<string>()
    for (const device of this.devices.values()) {
      for (const rule of this.rules) {
        if (!ruleAppliesTo(rule, device)) continue
        const k = key(rule.id, device.id)
        wanted.add(k)
        if (this.byKey.has(k)) continue
        const ev = createEvaluator(rule, device.id, { expectedIntervalMs: device.expectedIntervalMs })
        this.byKey.set(k, ev)
        const list = this.byDevice.get(device.id) ?? []
        list.push(ev)
        this.byDevice.set(device.id, list)
      }
    }
    for (const [k, ev] of this.byKey) {
      if (wanted.has(k)) continue
      if (ev.active && this.live) {
        this.reporter.enqueue({ ruleId: ev.ruleId, deviceId: ev.deviceId, condition: 'cleared', value: null, at: new Date(this.now()).toISOString(), reason: 'rule or device removed or disabled', repeat: false })
      }
      this.byKey.delete(k)
      const list = this.byDevice.get(ev.deviceId)?.filter((e) => e !== ev) ?? []
      if (list.length > 0) this.byDevice.set(ev.deviceId, list)
      else this.byDevice.delete(ev.deviceId)
    }
  }

  // ---- Rebuild after a restart -----------------------------------------------------------------

  private async rebuild(): Promise<void> {
    const now = this.now()
    const windowMs = Math.max(0, ...this.rules.map(replayWindowMs))
    const metrics = new Set<string>()
    for (const r of this.rules) {
      const m = ruleMetrics(r)
      if (m !== 'any') for (const x of m) metrics.add(x)
    }
    const [readings, lastReports, statuses, open] = await Promise.all([
      windowMs > 0 && metrics.size > 0 ? recentReadings(this.db, [...metrics], new Date(now - windowMs), REPLAY_LIMIT) : Promise.resolve([]),
      lastReportPerDevice(this.db),
      allStatuses(this.db),
      unresolvedRuleAlerts(this.db),
    ])
    // Each device's last report feeds the no-data rules (whatever its metric).
    for (const r of lastReports) {
      const device = this.devices.get(r.deviceId)
      if (!device) continue
      device.lastSeen = replayedTime(r.ts.getTime(), now)
      for (const ev of this.byDevice.get(r.deviceId) ?? []) if (ev.type === 'nodata') ev.onSample({ metric: '*', ts: device.lastSeen, value: 0 })
    }
    for (const r of readings) {
      for (const ev of this.byDevice.get(r.deviceId) ?? []) {
        if (ev.type !== 'nodata') ev.onSample({ metric: r.metric, ts: replayedTime(r.ts.getTime(), now), value: r.value })
      }
    }
    for (const s of statuses) {
      const device = this.devices.get(s.deviceId)
      if (device) device.status = s.status
      for (const ev of this.byDevice.get(s.deviceId) ?? []) ev.onStatus(s.status, s.changedAt.getTime())
    }
    const active = new Set(open.filter((a) => a.condition === 'active').map((a) => key(a.ruleId, a.deviceId)))
    for (const [k, ev] of this.byKey) ev.restoreActive(active.has(k))
    this.log.info({ replayed: readings.length, windowMs, openAlerts: open.length }, 'rebuilt rule state from the database')
  }

  // ---- Live input --------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer, at: number): void {
    if (!this.live) {
      this.buffered.push({ topic, payload, at })
      return
    }
    const t = parseTopic(topic)
    if (t?.type === 'device-status') {
      const status = payload.toString().trim()
      const device = this.devices.get(t.deviceId)
      if ((status !== 'online' && status !== 'offline') || !device) return
      device.status = status
      for (const ev of this.byDevice.get(t.deviceId) ?? []) this.handle(ev, ev.onStatus(status, at))
      return
    }
    const parsed = parseMessage(topic, payload)
    const known = new Map<string, DeviceInfo>()
    for (const id of [parsed.sourceId, ...parsed.entries.map((e) => e.deviceId)]) {
      const d = id === null ? undefined : this.devices.get(id)
      if (d) known.set(d.id, { id: d.id, kind: d.kind, gatewayId: d.gatewayId, enabled: true })
    }
    // Readings the ingest refused (and dead-lettered) never reach the rules.
    const { readings } = checkReadings(parsed, known, { receivedAt: at })
    for (const r of onServerTime(readings, at)) this.sample(r.deviceId, { metric: r.metric, ts: r.ts, value: r.value })
  }

  private sample(deviceId: string, s: Sample): void {
    const device = this.devices.get(deviceId)
    if (device) device.lastSeen = Math.max(device.lastSeen, s.ts)
    for (const ev of this.byDevice.get(deviceId) ?? []) this.handle(ev, ev.onSample(s))
  }

  private tick(): void {
    const now = this.now()
    // Gateways first, so a child going silent with its gateway finds the gateway already down.
    const order = [...this.byDevice.entries()].sort(([a], [b]) => Number(this.devices.get(b)?.kind === 'gateway') - Number(this.devices.get(a)?.kind === 'gateway'))
    for (const [, evs] of order) {
      for (const ev of evs) {
        const due = ev.nextDeadline()
        if (due !== undefined && due <= now) this.handle(ev, ev.onTick(now))
      }
    }
    this.storm.tick(now)
  }

  // ---- Outcomes ----------------------------------------------------------------------------------

  private handle(ev: Evaluator, outcomes: Outcome[]): void {
    for (const o of outcomes) {
      if (!this.storm.admit(ev, o)) continue
      this.report(ev, o)
      this.storm.reported(ev, o)
    }
  }

  private report(ev: Evaluator, o: Outcome): void {
    const k = key(ev.ruleId, ev.deviceId)
    const base = {
      ruleId: ev.ruleId,
      deviceId: ev.deviceId,
      value: o.value,
      at: new Date(o.at).toISOString(),
      ...(o.predictedAt !== undefined ? { predictedAt: new Date(o.predictedAt).toISOString() } : {}),
      ...(o.flapping !== undefined ? { flapping: o.flapping } : {}),
    }
    switch (o.type) {
      case 'raise':
        this.lastRepeat.set(k, this.now())
        this.reporter.enqueue({ ...base, condition: 'active', reason: o.reason, repeat: false })
        return
      case 'clear':
        this.lastRepeat.delete(k)
        this.reporter.enqueue({ ...base, condition: 'cleared', reason: o.reason, repeat: false })
        return
      case 'update': {
        // Repeats are throttled; a change of the flapping mark always goes through.
        const last = this.lastRepeat.get(k) ?? 0
        if (o.flapping === undefined && this.now() - last < this.opts.repeatEveryMs) return
        this.lastRepeat.set(k, this.now())
        this.reporter.enqueue({ ...base, condition: 'active', repeat: o.flapping === undefined })
        return
      }
    }
  }
}
