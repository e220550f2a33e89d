// A load-generator process: real MQTT.js clients logged in as devices or gateways, publishing at
// QoS 1 with a bounded number of unacknowledged messages each, timing publish → PUBACK.
// Started by bench/generators.ts with an IPC channel; it runs in its own process so that its CPU
// is not taken from the broker's event loop, which is what the benchmark measures.
import mqtt, { type MqttClient } from 'mqtt'
import { topics } from '../core/contract.ts'
import { LatencyHistogram } from './histogram.ts'
import { deviceMessages, gatewayMessages, type Message } from './payloads.ts'
import { peakRssKiB } from './rss.ts'
import type { FromGenerator, LoadClient, LoadgenConfig, LoadgenResult, ToGenerator } from './protocol.ts'

interface Window {
  from: number
  until: number
}

class Stats {
  sent = 0
  acked = 0
  readingsAcked = 0
  totalSent = 0
  totalAcked = 0
  errors = 0
  firstError: string | undefined
  readonly latency = new LatencyHistogram()

  error(err: unknown): void {
    this.errors++
    this.firstError ??= err instanceof Error ? err.message : String(err)
  }
}

/** One client's closed loop: keeps `inflight` publishes outstanding until the window ends. */
class Publisher {
  private outstanding = 0
  private running = false
  private onIdle: (() => void) | undefined

  constructor(
    private readonly client: MqttClient,
    private readonly topic: string,
    private readonly next: () => Message,
    private readonly inflight: number,
    private readonly stats: Stats,
    private readonly window: Window,
  ) {}

  get pending(): number {
    return this.outstanding
  }

  start(): void {
    this.running = true
    this.pump()
  }

  /** Stops publishing; resolves when every outstanding publish has been answered. */
  stop(): Promise<void> {
    this.running = false
    if (this.outstanding === 0) return Promise.resolve()
    return new Promise((resolve) => (this.onIdle = resolve))
  }

  private pump(): void {
    while (this.running && this.outstanding < this.inflight) {
      if (Date.now() >= this.window.until) {
        this.running = false
        break
      }
      this.publishOne()
    }
    if (this.outstanding === 0) this.onIdle?.()
  }

  private publishOne(): void {
    const msg = this.next()
    const sentAt = Date.now()
    const measured = sentAt >= this.window.from && sentAt < this.window.until
    const started = performance.now()
    this.outstanding++
    this.stats.totalSent++
    if (measured) this.stats.sent++
    // MQTT.js calls back for QoS 1 when the PUBACK arrives, or with an error if the connection ends.
    this.client.publish(this.topic, msg.payload, { qos: 1 }, (err) => {
      this.outstanding--
      if (err) {
        // The connection is gone (no reconnects in a measurement): this client is done. Going on
        // would spin, since every further publish fails at once.
        this.stats.error(err)
        this.running = false
      } else {
        this.stats.totalAcked++
        if (measured) {
          this.stats.acked++
          this.stats.readingsAcked += msg.readings
          this.stats.latency.record(performance.now() - started)
        }
      }
      this.pump()
    })
  }
}

function send(msg: FromGenerator): void {
  process.send?.(msg)
}

const LOGINS_AT_ONCE = 8

function connect(url: string, c: LoadClient): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: c.id,
    username: c.id,
    password: c.secret,
    clean: true,
    // A refused or lost connection is an error to report, not something to retry mid-measurement.
    reconnectPeriod: 0,
    connectTimeout: 120_000,
    keepalive: 60,
  })
}

function publisherFor(client: MqttClient, c: LoadClient, cfg: LoadgenConfig, stats: Stats, window: Window): Publisher {
  if (cfg.scenario === 'gateways') {
    return new Publisher(client, topics.gatewayTelemetry(c.id), gatewayMessages(c.children ?? []), cfg.inflight, stats, window)
  }
  return new Publisher(client, topics.deviceTelemetry(c.id), deviceMessages(c.kind), cfg.inflight, stats, window)
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
  return Promise.race([promise.then(() => undefined), timeout]).finally(() => clearTimeout(timer))
}

async function run(cfg: LoadgenConfig, started: Promise<Window>): Promise<LoadgenResult> {
  const stats = new Stats()
  // A few logins at a time: the broker refuses ("server unavailable") a login beyond its bound on
  // concurrent password checks (MQTT_AUTH_MAX_CONCURRENT) rather than queueing it.
  const clients: MqttClient[] = []
  for (let i = 0; i < cfg.clients.length; i += LOGINS_AT_ONCE) {
    clients.push(...(await Promise.all(cfg.clients.slice(i, i + LOGINS_AT_ONCE).map((c) => connect(cfg.url, c)))))
  }
  for (const client of clients) client.on('error', (err) => stats.error(err))
  send({ type: 'ready', clients: clients.length })

  const window = await started
  const publishers = clients.map((client, i) => {
    const spec = cfg.clients[i]
    if (!spec) throw new Error('bench: client without a spec')
    return publisherFor(client, spec, cfg, stats, window)
  })
  let cpuAtFrom = process.cpuUsage()
  let cpuMs = 0
  const fromTimer = setTimeout(() => (cpuAtFrom = process.cpuUsage()), Math.max(0, window.from - Date.now()))
  const untilTimer = setTimeout(() => {
    const d = process.cpuUsage(cpuAtFrom)
    cpuMs = (d.user + d.system) / 1000
  }, Math.max(0, window.until - Date.now()))

  for (const p of publishers) p.start()
  // Each publisher stops itself at `until`; this waits for them, plus the drain allowance.
  await new Promise((r) => setTimeout(r, Math.max(0, window.until - Date.now())))
  await withTimeout(Promise.all(publishers.map((p) => p.stop())), cfg.drainMs)
  clearTimeout(fromTimer)
  clearTimeout(untilTimer)
  const unacked = publishers.reduce((n, p) => n + p.pending, 0)
  // Forced: whatever is still outstanding was counted as unacked and will not be waited for.
  await withTimeout(Promise.all(clients.map((c) => c.endAsync(unacked > 0))), 5000)
  return {
    clients: clients.length,
    sent: stats.sent,
    acked: stats.acked,
    readingsAcked: stats.readingsAcked,
    totalSent: stats.totalSent,
    totalAcked: stats.totalAcked,
    unacked,
    errors: stats.errors,
    firstError: stats.firstError,
    latency: stats.latency.toJSON(),
    cpuMs,
    maxRssKiB: peakRssKiB(),
  }
}

function main(): void {
  if (!process.send) {
    console.error('bench/loadgen.ts is started by `housing-brain bench ingest`, not by hand')
    process.exit(2)
  }
  // The bench process went away (crash, kill): nothing is left to report to.
  process.on('disconnect', () => process.exit(1))
  let startWindow: (w: Window) => void = () => undefined
  const started = new Promise<Window>((resolve) => (startWindow = resolve))
  process.on('message', (raw) => {
    const msg = raw as ToGenerator
    switch (msg.type) {
      case 'config':
        run(msg.config, started).then(
          (result) => finish({ type: 'result', result }),
          (err: unknown) => finish({ type: 'failed', message: err instanceof Error ? err.message : String(err) }),
        )
        break
      case 'start':
        startWindow({ from: msg.measureFrom, until: msg.measureUntil })
        break
    }
  })
}

/** Sends the last message and exits once it is flushed to the channel. */
function finish(msg: FromGenerator): void {
  process.send?.(msg, undefined, {}, () => process.exit(msg.type === 'result' ? 0 : 1))
}

main()
