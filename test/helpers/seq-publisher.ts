// A well-behaved device for the fuzz and chaos suites: it publishes QoS 1 telemetry with sequence
// numbers at a steady pace, keeps at most `window` messages unacknowledged (as firmware with a
// small outbound queue does; `Infinity` for a firehose), and records which sequence numbers were
// PUBACKed and how long each PUBACK took. Sequence n carries `ts = baseTs + n` (epoch ms), so a
// stored row names the message it came from and "stored exactly once" can be checked per number.
// It never writes into a socket that is backed up (it waits for the kernel to take more), so a
// firehose offers the server as much as the server reads, and nothing piles up in the test.
import type { MqttClient } from 'mqtt'
import { topics } from '../../core/contract.ts'

export interface SeqPublisherOptions {
  deviceId: string
  metric: string
  /** `ts` of sequence number 0 (epoch ms). */
  baseTs: number
  /** Pause between two publications. */
  intervalMs: number
  /** Most messages waiting for their PUBACK; the publisher pauses beyond it. */
  window: number
  /** The value sent with sequence number n (must be in the metric's range). */
  value?: (seq: number) => number
  /** Bytes of whitespace after the JSON (still valid JSON): big messages that carry one reading. */
  padding?: number
  /**
   * The client reconnects by itself (another broker of a cluster): keep publishing through a
   * closed connection — MQTT.js queues QoS 1 messages meanwhile and resends what was not
   * acknowledged once it is back (clean: false).
   */
  reconnects?: boolean
  /**
   * Another entry point's message for sequence number n (a ChirpStack `up` event), in place of
   * the contract's telemetry; it must store one reading of `metric` at `baseTs + n`.
   */
  message?: (seq: number) => { topic: string; payload: string }
}

export class SeqPublisher {
  /** Sequence numbers handed to the client, in order (0, 1, 2, ...). */
  sent = 0
  /** PUBACKed sequence numbers with their PUBACK latency in ms. */
  readonly acked = new Map<number, number>()
  /** Set when the connection closed under the publisher (the server went away). */
  closed = false
  private readonly pending = new Set<Promise<void>>()
  private running = false
  private loop: Promise<void> | undefined

  constructor(
    private readonly client: MqttClient,
    private readonly opts: SeqPublisherOptions,
  ) {
    client.on('close', () => {
      if (!opts.reconnects) this.closed = true
    })
  }

  get inFlight(): number {
    return this.pending.size
  }

  start(): void {
    this.running = true
    this.loop = this.run()
  }

  private async run(): Promise<void> {
    const { deviceId, metric, baseTs, intervalMs, window } = this.opts
    const valueOf = this.opts.value ?? ((n: number) => n % 1000)
    const padding = ' '.repeat(this.opts.padding ?? 0)
    while (this.running && !this.closed) {
      if (this.pending.size >= window) {
        await Promise.race(this.pending)
        continue
      }
      if (this.client.stream.writableNeedDrain) {
        await new Promise((r) => setTimeout(r, 10))
        continue
      }
      const seq = this.sent++
      const { topic, payload } = this.opts.message?.(seq) ?? {
        topic: topics.deviceTelemetry(deviceId),
        payload: JSON.stringify({ ts: baseTs + seq, seq, values: { [metric]: valueOf(seq) } }) + padding,
      }
      const started = performance.now()
      const p = this.client.publishAsync(topic, payload, { qos: 1 }).then(
        () => {
          this.acked.set(seq, performance.now() - started)
        },
        // A publication cut off by a closed connection is simply not acknowledged.
        () => undefined,
      )
      this.pending.add(p)
      void p.finally(() => this.pending.delete(p))
      await new Promise((r) => setTimeout(r, intervalMs))
    }
  }

  /**
   * Stops publishing and waits, at most `waitMs`, for the outstanding PUBACKs. Returns how many
   * are still missing (0 when everything sent was acknowledged).
   */
  async stop(waitMs: number): Promise<number> {
    this.running = false
    await this.loop
    const deadline = Date.now() + waitMs
    while (this.pending.size > 0 && !this.closed && Date.now() < deadline) {
      await Promise.race([...this.pending, new Promise((r) => setTimeout(r, 100))])
    }
    return this.sent - this.acked.size
  }

  /** PUBACK latencies in ms; a message never acknowledged counts as an infinite latency. */
  latencies(): number[] {
    const out = [...this.acked.values()]
    for (let i = out.length; i < this.sent; i++) out.push(Number.POSITIVE_INFINITY)
    return out
  }
}

/** The nearest-rank percentile (p in 0..100) of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1] ?? Number.NaN
}

/**
 * Compares what a device got acknowledged with what is stored (`storedTs`: every stored `ts` of
 * its metric, epoch ms): PUBACKed numbers that are missing, rows stored more than once, and rows
 * that no publication of this run can explain.
 */
export function checkStored(pub: SeqPublisher, baseTs: number, storedTs: readonly number[]): { missing: number[]; duplicated: number[]; foreign: number[] } {
  const seen = new Map<number, number>()
  for (const ts of storedTs) seen.set(ts - baseTs, (seen.get(ts - baseTs) ?? 0) + 1)
  const missing = [...pub.acked.keys()].filter((seq) => !seen.has(seq)).sort((a, b) => a - b)
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([seq]) => seq)
  const foreign = [...seen.keys()].filter((seq) => !Number.isInteger(seq) || seq < 0 || seq >= pub.sent)
  return { missing, duplicated, foreign }
}
