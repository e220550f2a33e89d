// The rules engine: a reader of the commit-ordered feed (core/feed.ts) — the readings and status
// changes every ingest commits, whatever the way in (MQTT, HTTP device API, OneNET, CTWing,
// ChirpStack, the AMQP workers) and whichever process committed them, and every registry change —
// that keeps one evaluator per (rule, device) and reports raises, repeats and clears to the API.
//
// The guarantee (README, "Alerting guarantee"). Every committed reading of a device of this
// partition is evaluated once, in the device's time order within RULES_LATENESS
// (rules/evaluators/in-order.ts), and every raise and clear it causes is reported with the device
// time it happened, whatever happens to the engine:
// - Position. The engine keeps its place in the feed (feed_cursors, `rules:{index}/{count}`) and
//   saves it only once every raise and clear caused up to there has been delivered to the API. A
//   restart resumes from there: the state is rebuilt by re-reading the feed before that place
//   without reporting (as far back as the rules' windows need), the API's open alerts say which
//   conditions are raised, and then everything after is evaluated and reported. A report sent
//   twice (delivered, but the place not yet saved) carries the same fault time and the API drops it.
// - Registry changes are rows of the feed: the engine reloads devices, rules and profiles when it
//   reads one, so a device imported a second before its first reading is known to it, and a
//   profile change that leaves a rule unchanged keeps that rule's pending `for`.
// - Partitions (RULES_PARTITION index/count) take the buckets b with b % count == index; each is
//   run by one process at a time (an advisory lock, core/leader.ts), another process of the same
//   partition waits and takes over from the saved place.
//
// Time. Evaluators run on device time: a reading's own timestamp, capped at when it was received
// (a clock running ahead cannot push a "for 60 s" into the future). Ticks (durations, no-data) run
// on each device's clock: the engine's clock minus how far behind that device's newest reading
// arrived, so a device whose clock lags, or whose backlog drains, does not look silent. The engine's
// clock is the server's when it has read everything, and the feed's own time while it catches up,
// so five minutes of backlog do not make every device look silent for five minutes.
//
// Storm control (rules/storm.ts): a child of a gateway that goes silent together with its gateway
// is held back under the gateway's alert; it is reported only if it stays silent after the gateway
// returns. Device profiles' `ruleOverrides` apply under the device's own overrides.
import type { Db } from '../core/db/client.ts'
import type { DeviceKind, DeviceStatus } from '../core/contract.ts'
import { ALL_BUCKETS, bucketMask, bucketOf, comparePositions, decodeEntries, partitionBuckets, type FeedPosition, type Partition } from '../core/feed.ts'
import { Leader } from '../core/leader.ts'
import type { Logger } from '../core/log.ts'
import { unresolvedRuleAlerts } from '../core/repos/alerts.ts'
import { allDevices, allStatuses } from '../core/repos/devices.ts'
import { cursorsLike, FEED_CHANNEL, feedHead, feedPositionBefore, feedTail, getCursor, readFeed, registryVersion, saveCursor, type FeedRow } from '../core/repos/feed.ts'
import { listProfiles } from '../core/repos/profiles.ts'
import { lastReportPerDevice } from '../core/repos/readings.ts'
import { listRules } from '../core/repos/rules.ts'
import type { Unit } from '../core/units.ts'
import { ruleAppliesTo, ruleDefinitionSchema, ruleMetrics, type RuleDefinition } from './definitions.ts'
import { createEvaluator, type Evaluator, type Outcome, type Sample } from './evaluators/index.ts'
import { InOrderEvaluator, type LatenessEvents } from './evaluators/in-order.ts'
import { ProfileOverrides } from './profile-overrides.ts'
import { because } from '../shared/reason-text.ts'
import type { ApiReporter } from './reporter.ts'
import { StormControl, evaluatorKey as key } from './storm.ts'
import { replayWindowMs } from './windows.ts'

/** What the engine counts, for whoever serves metrics (core/metrics.ts wires them to Prometheus). */
export interface RulesEngineMetrics {
  evaluated(samples: number): void
  reported(kind: 'raise' | 'clear'): void
  late(outcome: 'placed' | 'beyond_bound'): void
  /** After each read: the newest row dealt with and how far behind the newest commit it is. */
  position(row: number, lagSeconds: number): void
  /** Per row of readings evaluated: milliseconds from its transaction to its evaluation (bench). */
  rowEvaluated?: (lagMs: number, readings: number) => void
}

export interface EngineOptions {
  /** How often evaluators are given the time (durations, no-data). */
  tickMs: number
  /** A still-active condition is re-reported at most this often (the API counts repeats). */
  repeatEveryMs: number
  /** How far back in device time a late reading is placed (RULES_LATENESS). */
  latenessMs: number
  /** This process's share of the buckets (default: all). */
  partition?: Partition | undefined
  metrics?: RulesEngineMetrics | undefined
  /** Rows read at once. */
  readRows?: number
  /** How often a standby process tries to take the partition over. */
  takeoverMs?: number
  now?: () => number
}

interface Device {
  id: string
  kind: DeviceKind
  communityId: string
  gatewayId: string | null
  profileId: string | null
  expectedIntervalMs: number
  status: DeviceStatus | undefined
  /** How far behind the engine's clock this device's newest reading arrived (device time = clock − lag). */
  lagMs: number
  /** The newest device time evaluated. */
  lastTs: number
  /** When its newest reading arrived (engine clock; storm control asks whether a gateway is quiet). */
  lastSeen: number
}

/** Advisory lock keys of the rules partitions: a base far from other keys, plus count and index. */
const PARTITION_LOCK_BASE = 0x68622d72 * 0x10000
/** How often the saved place is brought forward. */
const SAVE_EVERY_MS = 1000
/** Places remembered while their reports are on their way (one per read); beyond, the oldest go. */
const MAX_MARKS = 10_000
/** After a wake-up that found nothing yet (a transaction below it still open), look again this soon. */
const RETRY_READ_MS = 20

export class RulesEngine implements Unit {
  readonly name = 'rules'
  private readonly leader: Leader
  private readonly worker: PartitionWorker

  constructor(db: Db, reporter: ApiReporter, opts: EngineOptions, log: Logger) {
    const partition = opts.partition ?? ALL_BUCKETS
    this.worker = new PartitionWorker(db, reporter, { ...opts, partition }, log)
    this.leader = new Leader(db, PARTITION_LOCK_BASE + partition.count * 0x100 + partition.index, [this.worker], opts.takeoverMs ?? 2000, log.child({ module: 'rules-partition' }))
  }

  start(): Promise<void> {
    return this.leader.start()
  }

  stop(): Promise<void> {
    return this.leader.stop()
  }

  /** For readiness: what is wrong, if anything (a standby process is ready: it takes over when needed). */
  problem(): string | undefined {
    return this.leader.leading ? this.worker.problem() : undefined
  }

  /** Whether this process runs its partition now. */
  get running(): boolean {
    return this.leader.leading && this.worker.running
  }

  /** Resolves once this process runs its partition (it may wait behind another process holding it). */
  async whenRunning(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.running) {
      if (Date.now() > deadline) throw new Error('the rules partition did not start in time (another process holds it?)')
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** Has read everything committed so far (tests, bench). */
  get caughtUp(): boolean {
    return this.worker.caughtUp
  }

  get evaluatorCount(): number {
    return this.worker.evaluatorCount
  }

  get deviceCount(): number {
    return this.worker.deviceCount
  }
}

/** One partition's reader and evaluators; started when this process holds the partition's lock. */
class PartitionWorker implements Unit {
  readonly name = 'rules-partition'
  private devices = new Map<string, Device>()
  private rules: RuleDefinition[] = []
  private readonly byDevice = new Map<string, Evaluator[]>()
  private readonly byKey = new Map<string, Evaluator>()
  /** What each evaluator was built from (rule, profile override, interval): rebuilt when it changes. */
  private readonly builtFrom = new Map<string, string>()
  private readonly lastRepeat = new Map<string, number>()
  private storm = this.newStormControl()
  private readonly profiles: ProfileOverrides
  private readonly buckets: ReadonlySet<number>
  private readonly mask: bigint
  private readonly consumer: string
  private readonly now: () => number
  private readonly lateness: LatenessEvents

  private position: FeedPosition = { xid: '0', id: 0 }
  /** The registry version the loaded devices, rules and profiles are at least as new as. */
  private registry = '-'
  /** The feed's time of the newest row read (the engine's clock while it catches up). */
  private feedTime = 0
  private lastTickAt = -Infinity
  /** While the state is rebuilt from rows already evaluated before: nothing is reported. */
  private muted = false
  caughtUp = false
  running = false
  private stopping = false
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined
  private woken = false
  private unlisten: (() => Promise<void>) | undefined
  private readonly marks: { pos: FeedPosition; at: Date; seq: number }[] = []
  private lastSaved = 0
  private failing: string | undefined
  private beyondLogged = 0

  constructor(
    private readonly db: Db,
    private readonly reporter: ApiReporter,
    private readonly opts: EngineOptions & { partition: Partition },
    private readonly log: Logger,
  ) {
    this.now = opts.now ?? Date.now
    const mine = partitionBuckets(opts.partition)
    this.buckets = new Set(mine)
    this.mask = bucketMask(mine)
    this.consumer = `rules:${opts.partition.index}/${opts.partition.count}`
    this.profiles = new ProfileOverrides(log)
    this.lateness = {
      placed: () => opts.metrics?.late('placed'),
      beyondBound: (ev, s, clock) => {
        opts.metrics?.late('beyond_bound')
        // Logged at most once a minute: a device with a badly wrong clock would otherwise fill the log.
        if (this.now() - this.beyondLogged < 60_000) return
        this.beyondLogged = this.now()
        this.log.warn({ deviceId: ev.deviceId, ruleId: ev.ruleId, metric: s.metric, ts: new Date(s.ts).toISOString(), behindMs: clock - s.ts, boundMs: opts.latenessMs }, 'a reading arrived later than RULES_LATENESS; not evaluated (hb_rules_late_samples_total{outcome="beyond_bound"})')
      },
    }
  }

  private newStormControl(): StormControl {
    return new StormControl({
      device: (id) => this.devices.get(id),
      evaluatorsOf: (deviceId) => this.byDevice.get(deviceId) ?? [],
      evaluator: (k) => this.byKey.get(k),
      now: () => this.clock(),
      report: (ev, o) => this.report(ev, o),
    })
  }

  get evaluatorCount(): number {
    return this.byKey.size
  }

  get deviceCount(): number {
    return this.devices.size
  }

  problem(): string | undefined {
    if (this.failing) return this.failing
    return this.reporter.full ? `reports to the API are not delivered (${this.reporter.pending} waiting): the feed is not read meanwhile` : undefined
  }

  async start(): Promise<void> {
    this.stopping = false
    this.caughtUp = false
    this.reporter.resume()
    this.unlisten = await this.db.listen(FEED_CHANNEL, (payload) => {
      // Rows of other partitions' buckets only do not wake this one.
      let m: bigint
      try {
        m = BigInt(payload)
      } catch {
        m = -1n
      }
      if ((m & this.mask) !== 0n) this.poke()
    })
    await this.rebuild()
    this.running = true
    this.loop = this.run()
    this.log.info({ devices: this.devices.size, rules: this.rules.length, evaluators: this.byKey.size, partition: this.consumer, position: this.position }, 'rules engine evaluating the feed')
  }

  async stop(): Promise<void> {
    this.stopping = true
    this.poke()
    await this.loop
    this.running = false
    await this.unlisten?.()
    await this.reporter.stop()
    await this.saveSettled(true).catch((err: unknown) => this.log.warn({ err }, 'could not save the feed position at shutdown; the next start re-evaluates from the last saved one'))
    // Everything is made anew when the partition is won again.
    this.byKey.clear()
    this.byDevice.clear()
    this.builtFrom.clear()
    this.lastRepeat.clear()
    this.storm = this.newStormControl()
    this.marks.length = 0
  }

  private poke(): void {
    this.woken = true
    this.wake?.()
  }

  // ---- The clock -----------------------------------------------------------------------------

  /** The server's time once everything is read; the feed's own while catching up. */
  private clock(): number {
    return this.caughtUp ? this.now() : this.feedTime
  }

  // ---- Reading the feed ----------------------------------------------------------------------

  private async run(): Promise<void> {
    let delay = 200
    while (!this.stopping) {
      try {
        // A full queue of reports (the API away): neither read nor tick. The rows behind hold
        // the devices' time; the server's clock would make every device behind them look silent.
        const waiting = this.reporter.full
        const rows = waiting ? [] : await this.read()
        this.failing = undefined
        delay = 200
        if (rows.length > 0) {
          await this.apply(rows)
          this.opts.metrics?.position(this.position.id, Math.max(0, (this.now() - this.feedTime) / 1000))
        } else if (!waiting) {
          if (!this.caughtUp) {
            this.caughtUp = true
            this.log.info({ position: this.position }, 'rules engine has read the whole feed; on the server clock now')
          }
          this.opts.metrics?.position(this.position.id, 0)
          this.tick(this.now())
        }
        await this.saveSettled(false)
        if (rows.length === 0 || waiting) await this.idle(this.woken ? RETRY_READ_MS : this.opts.tickMs)
      } catch (err) {
        // The database is away: keep the place and try again; nothing read is lost.
        this.failing = 'cannot read the feed from the database'
        this.log.warn({ err, retryMs: delay }, 'reading the feed failed; retrying')
        await this.idle(delay)
        delay = Math.min(delay * 2, 10_000)
      }
    }
  }

  private idle(ms: number): Promise<void> {
    this.woken = false
    return new Promise((resolve) => {
      const t = setTimeout(done, ms)
      function done(): void {
        clearTimeout(t)
        resolve()
      }
      this.wake = () => {
        this.wake = undefined
        done()
      }
    })
  }

  /** The next rows; a registry change committed before any of them is loaded first. */
  private async read(through?: FeedPosition): Promise<readonly FeedRow[]> {
    const { rows, registry } = await readFeed(this.db, this.position, this.opts.readRows ?? 500, through)
    if (registry !== this.registry) {
      this.registry = registry
      await this.load()
    }
    return rows
  }

  /** Applies rows in feed order. */
  private async apply(rows: readonly FeedRow[]): Promise<void> {
    let evaluated = 0
    const observe = this.muted ? undefined : this.opts.metrics?.rowEvaluated
    for (const row of rows) {
      const before = evaluated
      this.position = { xid: row.xid, id: row.id }
      this.feedTime = Math.max(this.feedTime, row.at.getTime())
      if ((row.buckets & this.mask) === 0n) continue
      const entries = decodeEntries(row.entries, this.buckets)
      // Durations and silences that completed before this row's commit, on the feed's clock.
      if (!this.caughtUp && this.feedTime - this.lastTickAt >= this.opts.tickMs) this.tick(this.feedTime)
      for (const e of entries) {
        const device = this.devices.get(e.d)
        if (!device) continue
        if ('s' in e) {
          device.status = e.s
          for (const ev of this.byDevice.get(e.d) ?? []) this.handle(ev, ev.onStatus(e.s, e.at - device.lagMs))
          continue
        }
        for (const [metric, ts, value] of e.r) {
          // Device time, never later than when it arrived.
          const t = Math.min(ts, e.at)
          device.lastSeen = Math.max(device.lastSeen, e.at)
          if (t >= device.lastTs) {
            device.lastTs = t
            device.lagMs = Math.max(0, Math.max(e.at, this.feedTime) - t)
          }
          this.sample(device, { metric, ts: t, value })
          evaluated++
        }
      }
      if (observe && evaluated > before) observe(this.now() - row.at.getTime(), evaluated - before)
    }
    this.opts.metrics?.evaluated(evaluated)
    if (this.marks.length >= MAX_MARKS) this.marks.shift()
    this.marks.push({ pos: this.position, at: new Date(this.feedTime), seq: this.reporter.lastSeq })
  }

  /** Saves the newest place whose reports have all been delivered. */
  private async saveSettled(force: boolean): Promise<void> {
    if (this.muted || (!force && this.now() - this.lastSaved < SAVE_EVERY_MS)) return
    this.lastSaved = this.now()
    const settled = this.reporter.settledThrough()
    let best: (typeof this.marks)[number] | undefined
    while (this.marks.length > 0 && (this.marks[0]?.seq ?? Infinity) <= settled) best = this.marks.shift()
    if (best) await saveCursor(this.db, this.consumer, best.pos, best.at)
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
        status: known?.status,
        lagMs: known?.lagMs ?? 0,
        lastTs: known?.lastTs ?? -Infinity,
        lastSeen: known?.lastSeen ?? 0,
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
   * whose rule or device is gone. One whose inputs did not change is kept as it is, with its
   * pending durations.
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
        const applied = this.profiles.apply(rule, device)
        const inner = createEvaluator(applied, device.id, { expectedIntervalMs: device.expectedIntervalMs })
        if (old) inner.restoreActive(old.active)
        // No-data rules take any reading as a sign of life, whenever it was taken: a late one changes
        // nothing there, so they need no placing (and would keep every reading of the device).
        const metrics = ruleMetrics(applied, device.id)
        const ev = metrics === 'any' ? inner : new InOrderEvaluator(inner, this.opts.latenessMs, this.lateness, metrics)
        this.byKey.set(k, ev)
        this.builtFrom.set(k, source)
        const list = (this.byDevice.get(device.id) ?? []).filter((e) => e !== old)
        list.push(ev)
        this.byDevice.set(device.id, list)
      }
    }
    for (const [k, ev] of this.byKey) {
      if (wanted.has(k)) continue
      if (ev.active && !this.muted) {
        this.reporter.enqueue({ ruleId: ev.ruleId, deviceId: ev.deviceId, condition: 'cleared', value: null, at: new Date(this.clock()).toISOString(), ...because({ key: 'rule.removed' }), repeat: false })
      }
      this.byKey.delete(k)
      this.builtFrom.delete(k)
      const list = this.byDevice.get(ev.deviceId)?.filter((e) => e !== ev) ?? []
      if (list.length > 0) this.byDevice.set(ev.deviceId, list)
      else this.byDevice.delete(ev.deviceId)
    }
  }

  // ---- Rebuild at start ----------------------------------------------------------------------

  /**
   * The state at the saved place: the feed before it is read again without reporting (as far
   * back as the rules' windows and the lateness bound need), each device's last report before
   * that seeds the no-data rules, the API's open alerts say which conditions are raised.
   */
  private async rebuild(): Promise<void> {
    // The version first: a change committed after it is seen by the first read, and loaded again.
    this.registry = await registryVersion(this.db)
    await this.load()
    const own = await getCursor(this.db, this.consumer)
    // A new partitioning (count changed) starts where the oldest earlier partition stopped: nothing is skipped.
    const from = own ?? (await cursorsLike(this.db, 'rules:'))[0]
    const head = await feedHead(this.db)
    const through: FeedPosition = from ?? head
    const throughAt = from?.at.getTime() ?? this.now()
    const keepMs = Math.max(this.opts.latenessMs, ...this.rules.map(replayWindowMs))
    const replayFrom = await feedPositionBefore(this.db, new Date(throughAt - keepMs))
    const tail = await feedTail(this.db)
    if (from && tail && comparePositions(tail, from) > 0 && comparePositions(from, { xid: '0', id: 0 }) > 0) {
      this.log.error({ saved: from, oldestKept: tail }, 'the feed was pruned past this partition\'s saved place (away longer than FEED_RETENTION): readings in between are not evaluated')
    }
    const [statuses, lastReports, open] = await Promise.all([allStatuses(this.db), lastReportPerDevice(this.db), unresolvedRuleAlerts(this.db)])
    this.muted = true
    try {
      const replayStart = throughAt - keepMs
      for (const r of lastReports) {
        const device = this.devices.get(r.deviceId)
        const ts = r.ts.getTime()
        // Devices that reported within the replayed span get their readings from the replay.
        if (!device || ts >= replayStart) continue
        device.lastTs = ts
        device.lastSeen = ts
        for (const ev of this.byDevice.get(r.deviceId) ?? []) if (ev.type === 'nodata') ev.onSample({ metric: '*', ts, value: 0 })
      }
      for (const s of statuses) {
        const device = this.devices.get(s.deviceId)
        if (!device) continue
        device.status = s.status
        for (const ev of this.byDevice.get(s.deviceId) ?? []) ev.onStatus(s.status, s.changedAt.getTime())
      }
      this.position = replayFrom
      this.feedTime = replayStart
      let replayed = 0
      for (;;) {
        const rows = await this.read(through)
        if (rows.length === 0) break
        await this.apply(rows)
        replayed += rows.length
      }
      this.position = through
      this.feedTime = Math.max(this.feedTime, throughAt)
      const active = new Set(open.filter((a) => a.condition === 'active').map((a) => key(a.ruleId, a.deviceId)))
      for (const [k, ev] of this.byKey) ev.restoreActive(active.has(k))
      this.marks.length = 0
      this.log.info({ resumeAt: through, savedAt: from ? new Date(throughAt).toISOString() : null, replayedRows: replayed, openAlerts: open.length, devices: this.devices.size }, 'rebuilt rule state from the feed')
    } finally {
      this.muted = false
    }
    if (!from) await saveCursor(this.db, this.consumer, through, new Date(throughAt))
  }

  // ---- Evaluation ----------------------------------------------------------------------------

  private sample(device: Device, s: Sample): void {
    for (const ev of this.byDevice.get(device.id) ?? []) this.handle(ev, ev.onSample(s))
  }

  private tick(now: number): void {
    this.lastTickAt = now
    // Gateways first, so a child going silent with its gateway finds the gateway already down.
    const order = [...this.byDevice.entries()].sort(([a], [b]) => Number(this.devices.get(b)?.kind === 'gateway') - Number(this.devices.get(a)?.kind === 'gateway'))
    for (const [id, evs] of order) {
      const deviceNow = now - (this.devices.get(id)?.lagMs ?? 0)
      for (const ev of evs) {
        const due = ev.nextDeadline()
        if (due !== undefined && due <= deviceNow) this.handle(ev, ev.onTick(deviceNow))
      }
    }
    if (!this.muted) this.storm.tick(now)
  }

  // ---- Outcomes ------------------------------------------------------------------------------

  private handle(ev: Evaluator, outcomes: Outcome[]): void {
    if (this.muted) return
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
    const now = this.clock()
    switch (o.type) {
      case 'raise':
        this.lastRepeat.set(k, now)
        this.opts.metrics?.reported('raise')
        this.reporter.enqueue({ ...base, condition: 'active', reason: o.reason, reasonDetail: o.reasonDetail, faultAt: base.at, repeat: false })
        return
      case 'clear':
        this.lastRepeat.delete(k)
        this.opts.metrics?.reported('clear')
        this.reporter.enqueue({ ...base, condition: 'cleared', reason: o.reason, reasonDetail: o.reasonDetail, faultAt: base.at, repeat: false })
        return
      case 'update': {
        // Repeats are throttled; a change of the flapping mark always goes through.
        const last = this.lastRepeat.get(k) ?? 0
        if (o.flapping === undefined && now - last < this.opts.repeatEveryMs) return
        this.lastRepeat.set(k, now)
        this.reporter.enqueue({ ...base, condition: 'active', repeat: o.flapping === undefined })
        return
      }
    }
  }
}
