// The rules engine: an MQTT client of the committed-readings bus (core/readings-bus.ts) — the
// readings and status changes every ingest publishes after its commit, whatever the way in (MQTT,
// HTTP device API, OneNET, CTWing, AMQP workers) — that keeps one evaluator per (rule, device) and
// reports raises, repeats and clears to the API. It never reads the raw device topics: what it
// evaluates was checked and stored already.
//
// Partitions (RULES_PARTITION index/count): this process subscribes to the buckets b with
// b % count == index and holds only the devices of those buckets — a gateway and its children
// share one (core/readings-bus.ts), so storm control sees both. Another process takes the rest.
//
// Restart and reconnect: the evaluators are rebuilt from the database before the first live
// message counts — recent readings are replayed in time order, each device's last report and
// status are applied, and the API's unresolved alerts say which conditions are already raised. So
// a "for 60 s" that was 40 s in when the engine stopped raises 20 s after it started again, once.
// The subscription is a clean session: when the broker connection drops and comes back, the
// engine rebuilds the same way (messages published meanwhile were lost to it, but not to the
// database), so a disconnect costs a rebuild, and a dead engine leaves no queue growing in the broker.
//
// Time: evaluators run on the server's clock (rules/server-time.ts); a reading's device timestamp
// is kept in storage but does not decide when a duration completes or a device counts as silent.
//
// Storm control (rules/storm.ts): a child of a gateway that goes silent together with its gateway
// is held back under the gateway's alert; it is reported only if it stays silent after the gateway
// returns.
//
// Device profiles: a profile's `ruleOverrides` apply to every device of that profile, under the
// device's own overrides in the rule (rules/profile-overrides.ts).
import mqtt, { type MqttClient } from 'mqtt'
import type { Db } from '../core/db/client.ts'
import { topics, type DeviceKind } from '../core/contract.ts'
import type { Logger } from '../core/log.ts'
import { ALL_BUCKETS, bucketOf, bucketOfTopic, decodeBusMessage, partitionBuckets, readingsTopic, type BusItem, type Partition } from '../core/readings-bus.ts'
import { unresolvedRuleAlerts } from '../core/repos/alerts.ts'
import { allDevices, allStatuses } from '../core/repos/devices.ts'
import { listProfiles } from '../core/repos/profiles.ts'
import { lastReportPerDevice, recentReadings } from '../core/repos/readings.ts'
import { listRules } from '../core/repos/rules.ts'
import type { Unit } from '../core/units.ts'
import { ruleAppliesTo, ruleDefinitionSchema, ruleMetrics, type RuleDefinition } from './definitions.ts'
import { createEvaluator, type Evaluator, type Outcome, type Sample } from './evaluators/index.ts'
import { ProfileOverrides } from './profile-overrides.ts'
import { because } from './reason-text.ts'
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
  /** This process's share of the buckets (default: all). */
  partition?: Partition
  now?: () => number
}

interface Device {
  id: string
  kind: DeviceKind
  communityId: string
  gatewayId: string | null
  profileId: string | null
  expectedIntervalMs: number
  lastSeen: number
  status: 'online' | 'offline' | undefined
}

/** Most readings replayed at start-up; beyond it the oldest part of the window is not rebuilt. */
const REPLAY_LIMIT = 500_000
/** Bus messages held while the state is rebuilt; beyond, the oldest are dropped (the rebuild read them from the database). */
const MAX_BUFFERED = 20_000
/** A rebuild after a reconnect that failed (database away) is tried again after this long. */
const RESYNC_RETRY_MS = 5000

export class RulesEngine implements Unit {
  readonly name = 'rules'
  private devices = new Map<string, Device>()
  private rules: RuleDefinition[] = []
  private readonly byDevice = new Map<string, Evaluator[]>()
  private readonly byKey = new Map<string, Evaluator>()
  /** What each evaluator was built from (rule, profile override, interval): rebuilt when it changes. */
  private readonly builtFrom = new Map<string, string>()
  private readonly lastRepeat = new Map<string, number>()
  private storm = this.newStormControl()
  private client: MqttClient | undefined
  private tickTimer: NodeJS.Timeout | undefined
  private reloadTimer: NodeJS.Timeout | undefined
  private live = false
  private catchingUp: Promise<void> | undefined
  /** The connection came back while a rebuild ran: what it missed meanwhile needs another. */
  private reconnectedMeanwhile = false
  private retryTimer: NodeJS.Timeout | undefined
  private readonly buffered: { topic: string; payload: Buffer }[] = []
  private readonly buckets: ReadonlySet<number>
  private readonly partitioned: boolean
  private readonly profiles: ProfileOverrides
  private readonly now: () => number

  constructor(
    private readonly db: Db,
    private readonly reporter: ApiReporter,
    private readonly opts: EngineOptions,
    private readonly log: Logger,
  ) {
    this.now = opts.now ?? Date.now
    this.buckets = new Set(partitionBuckets(opts.partition ?? ALL_BUCKETS))
    this.partitioned = (opts.partition?.count ?? 1) > 1
    this.profiles = new ProfileOverrides(log)
  }

  private newStormControl(): StormControl {
    return new StormControl({
      device: (id) => this.devices.get(id),
      evaluatorsOf: (deviceId) => this.byDevice.get(deviceId) ?? [],
      evaluator: (k) => this.byKey.get(k),
      now: () => this.now(),
      report: (ev, o) => this.report(ev, o),
    })
  }

  async start(): Promise<void> {
    // Subscribe first and hold live messages, so nothing falls between the replay and live data.
    const partition = this.opts.partition ?? ALL_BUCKETS
    const filters = partition.count === 1 ? [topics.allReadings] : [...this.buckets].map(readingsTopic)
    this.client = await mqtt.connectAsync(this.opts.mqttUrl, {
      clientId: this.opts.clientId,
      username: this.opts.mqttUsername,
      password: this.opts.mqttPassword,
      clean: true,
      reconnectPeriod: 1000,
    })
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload))
    this.client.on('error', (err) => this.log.warn({ err }, 'MQTT client error'))
    this.client.on('offline', () => this.log.warn('rules engine lost the broker; it rebuilds its state when it is back'))
    // A reconnect (clean session, resubscribed by MQTT.js): what was published meanwhile is in the database only.
    this.client.on('connect', () => {
      if (this.live) void this.resync()
      else this.reconnectedMeanwhile = true
    })
    const granted = await this.client.subscribeAsync(filters, { qos: 1 })
    const refused = granted.filter((g) => g.qos === 128)
    if (refused.length > 0) throw new Error(`subscription refused: ${refused.map((g) => g.topic).join(', ')}`)

    await this.catchUp()
    this.resyncIfMissed()
    this.tickTimer = setInterval(() => this.tick(), this.opts.tickMs)
    this.reloadTimer = setInterval(() => {
      this.load().catch((err: unknown) => this.log.error({ err }, 'reloading devices and rules failed'))
    }, this.opts.reloadEveryMs)
    this.log.info({ devices: this.devices.size, rules: this.rules.length, evaluators: this.byKey.size, partition: `${partition.index}/${partition.count}` }, 'rules engine running')
  }

  /** For readiness: connected to the broker now. */
  get connected(): boolean {
    return this.client?.connected === true
  }

  async stop(): Promise<void> {
    clearInterval(this.tickTimer)
    clearInterval(this.reloadTimer)
    clearTimeout(this.retryTimer)
    await this.client?.endAsync()
    this.client = undefined
    await this.catchingUp?.catch(() => undefined)
    await this.reporter.stop()
  }

  /** Faults to inject in tests and the stats line. */
  get evaluatorCount(): number {
    return this.byKey.size
  }

  /** Devices of this process's partition. */
  get deviceCount(): number {
    return this.devices.size
  }

  // ---- Catching up: at start-up and after a reconnect ------------------------------------------

  /** Rebuilds the state from the database while live messages wait, then applies them. */
  private async catchUp(): Promise<void> {
    this.live = false
    await this.load()
    const replayed = await this.rebuild()
    this.live = true
    this.applyBuffered(replayed)
    this.tick()
  }

  /** After a reconnect: evaluators are made anew and rebuilt, as at start-up. */
  private resync(): Promise<void> {
    this.catchingUp ??= (async () => {
      this.log.info('broker connection back; rebuilding rule state from the database')
      this.live = false
      this.byKey.clear()
      this.byDevice.clear()
      this.builtFrom.clear()
      this.storm = this.newStormControl()
      try {
        await this.catchUp()
      } catch (err) {
        // The database is away too: go on with live messages and try the rebuild again shortly.
        this.log.error({ err }, 'rebuilding after a reconnect failed; live messages only until it succeeds')
        this.live = true
        this.applyBuffered([])
        this.retryTimer = setTimeout(() => {
          this.reconnectedMeanwhile = true
          this.resyncIfMissed()
        }, RESYNC_RETRY_MS)
      }
    })().finally(() => {
      this.catchingUp = undefined
      this.resyncIfMissed()
    })
    return this.catchingUp
  }

  private resyncIfMissed(): void {
    if (!this.reconnectedMeanwhile || !this.client) return
    this.reconnectedMeanwhile = false
    void this.resync()
  }

  /**
   * Applies the messages that arrived during a rebuild, leaving out readings the rebuild replayed
   * already (committed before its query, published after the subscription).
   */
  private applyBuffered(replayed: readonly { deviceId: string; metric: string; ts: Date }[]): void {
    const held = this.buffered.splice(0)
    if (held.length === 0) return
    const decoded = held.map((m) => this.itemsOf(m.topic, m.payload))
    const touched = new Set(decoded.flat().map((i) => i.d))
    const seen = new Set<string>()
    for (const r of replayed) if (touched.has(r.deviceId)) seen.add(`${r.deviceId}\u0000${r.metric}\u0000${r.ts.getTime()}`)
    for (const items of decoded) this.apply(items.filter((i) => !('m' in i) || !seen.has(`${i.d}\u0000${i.m}\u0000${i.ts}`)))
  }

  // ---- Devices and rules ---------------------------------------------------------------------

  private async load(): Promise<void> {
    const [deviceRows, ruleRows, profileRows] = await Promise.all([allDevices(this.db), listRules(this.db), listProfiles(this.db)])
    const rules: RuleDefinition[] = []
    for (const row of ruleRows) {
      if (!row.enabled) continue
      const parsed = ruleDefinitionSchema.safeParse({ ...row.definition, id: row.id })
      if (parsed.success) rules.push(parsed.data)
      else this.log.error({ ruleId: row.id, issues: parsed.error.issues.slice(0, 3) }, 'stored rule is invalid; skipped')
    }
    const devices = new Map<string, Device>()
    for (const d of deviceRows) {
      if (!d.enabled || !this.buckets.has(bucketOf(d))) continue
      const known = this.devices.get(d.id)
      devices.set(d.id, {
        id: d.id,
        kind: d.kind,
        communityId: d.communityId,
        gatewayId: d.gatewayId,
        profileId: d.profileId,
        expectedIntervalMs: d.expectedIntervalS * 1000,
        lastSeen: known?.lastSeen ?? 0,
        status: known?.status,
      })
    }
    this.profiles.load(profileRows, rules)
    this.devices = devices
    this.rules = rules
    this.syncEvaluators()
  }

  /**
   * Creates evaluators for new (rule, device) pairs, makes anew those whose rule, profile
   * override or interval changed (keeping whether the condition is raised), and retires those
   * whose rule or device is gone.
   */
  private syncEvaluators(): void {
    const wanted = new Set<string>()
    const ruleText = new Map(this.rules.map((r) => [r.id, JSON.stringify(r)]))
    for (const device of this.devices.values()) {
      for (const rule of this.rules) {
        if (!ruleAppliesTo(rule, device)) continue
        const k = key(rule.id, device.id)
        wanted.add(k)
        const source = `${ruleText.get(rule.id) ?? ''}|${this.profiles.signature(device.profileId, rule.id)}|${device.expectedIntervalMs}`
        const old = this.byKey.get(k)
        if (old && this.builtFrom.get(k) === source) continue
        const ev = createEvaluator(this.profiles.apply(rule, device), device.id, { expectedIntervalMs: device.expectedIntervalMs })
        if (old) ev.restoreActive(old.active)
        this.byKey.set(k, ev)
        this.builtFrom.set(k, source)
        const list = (this.byDevice.get(device.id) ?? []).filter((e) => e !== old)
        list.push(ev)
        this.byDevice.set(device.id, list)
      }
    }
    for (const [k, ev] of this.byKey) {
      if (wanted.has(k)) continue
      if (ev.active && this.live) {
        this.reporter.enqueue({ ruleId: ev.ruleId, deviceId: ev.deviceId, condition: 'cleared', value: null, at: new Date(this.now()).toISOString(), ...because({ key: 'rule.removed' }), repeat: false })
      }
      this.byKey.delete(k)
      this.builtFrom.delete(k)
      const list = this.byDevice.get(ev.deviceId)?.filter((e) => e !== ev) ?? []
      if (list.length > 0) this.byDevice.set(ev.deviceId, list)
      else this.byDevice.delete(ev.deviceId)
    }
  }

  // ---- Rebuild after a restart -----------------------------------------------------------------

  /** Returns the readings it replayed (for the live messages held meanwhile). */
  private async rebuild(): Promise<{ deviceId: string; metric: string; ts: Date }[]> {
    const now = this.now()
    const windowMs = Math.max(0, ...this.rules.map(replayWindowMs))
    const metrics = new Set<string>()
    for (const r of this.rules) {
      const m = ruleMetrics(r)
      if (m !== 'any') for (const x of m) metrics.add(x)
    }
    const [readings, lastReports, statuses, open] = await Promise.all([
      // A partition replays its own devices only, so the limit is spent on them.
      windowMs > 0 && metrics.size > 0 ? recentReadings(this.db, [...metrics], new Date(now - windowMs), REPLAY_LIMIT, this.partitioned ? [...this.devices.keys()] : undefined) : Promise.resolve([]),
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
    this.log.info({ replayed: readings.length, windowMs, openAlerts: open.length, devices: this.devices.size }, 'rebuilt rule state from the database')
    return readings
  }

  // ---- Live input --------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer): void {
    if (!this.live) {
      this.buffered.push({ topic, payload })
      if (this.buffered.length > MAX_BUFFERED) this.buffered.shift()
      return
    }
    this.apply(this.itemsOf(topic, payload))
  }

  /** The items of a bus message of this partition's buckets. */
  private itemsOf(topic: string, payload: Buffer): BusItem[] {
    const bucket = bucketOfTopic(topic)
    return bucket !== undefined && this.buckets.has(bucket) ? decodeBusMessage(payload) : []
  }

  /** Readings received together (same receive time) are placed on the server's clock together. */
  private apply(items: readonly BusItem[]): void {
    let group: { deviceId: string; metric: string; ts: number; value: number }[] = []
    let groupAt = 0
    const flush = () => {
      for (const r of onServerTime(group, groupAt)) this.sample(r.deviceId, { metric: r.metric, ts: r.ts, value: r.value })
      group = []
    }
    for (const item of items) {
      if ('s' in item) {
        flush()
        const device = this.devices.get(item.d)
        if (!device) continue
        device.status = item.s
        for (const ev of this.byDevice.get(item.d) ?? []) this.handle(ev, ev.onStatus(item.s, item.at))
        continue
      }
      if (item.at !== groupAt) flush()
      groupAt = item.at
      group.push({ deviceId: item.d, metric: item.m, ts: item.ts, value: item.v })
    }
    flush()
  }

  private sample(deviceId: string, s: Sample): void {
    const device = this.devices.get(deviceId)
    if (device) device.lastSeen = Math.max(device.lastSeen, s.ts)
    for (const ev of this.byDevice.get(deviceId) ?? []) this.handle(ev, ev.onSample(s))
  }

  private tick(): void {
    if (!this.live) return
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
        this.reporter.enqueue({ ...base, condition: 'active', reason: o.reason, reasonDetail: o.reasonDetail, repeat: false })
        return
      case 'clear':
        this.lastRepeat.delete(k)
        this.reporter.enqueue({ ...base, condition: 'cleared', reason: o.reason, reasonDetail: o.reasonDetail, repeat: false })
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
