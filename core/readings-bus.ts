// The committed-readings bus: after a batch commits, the ingest that committed it publishes its
// readings (and device status changes) on `hb/v1/readings/{bucket}`, and the rules engine
// evaluates those — whatever the way in (MQTT, the HTTP device API, OneNET, CTWing, the AMQP
// workers) and whichever process ran the ingest (issues 10 and 11). The rules engine no longer
// reads the raw device topics, so it never re-parses, re-checks or sees a refused reading.
//
// Partitions. bucket = FNV-1a(partition key) mod 64, partition key = the device's gateway id, or
// its own id: a gateway and its children always share a bucket, so one rules process holds both
// (storm control needs them together). A rules process takes the buckets b with b % count ==
// index (RULES_PARTITION index/count).
//
// Best effort after commit. The readings are already durable when they are published; the bus is
// how the rules engine hears of them quickly, not where they are kept. The publisher's queue is
// bounded (BUS_MAX_QUEUED items): a message that cannot be sent (the publisher's broker connection
// is down) goes back to the queue and is tried again every second, and beyond the bound the oldest
// items are dropped (counted, logged) — those readings stay stored but reach the rules engine only
// at its next rebuild. A rules engine whose own connection drops rebuilds its state from the
// database when it comes back, as at start-up (rules/engine.ts), so what it missed is replayed.
//
// Payload: a compact JSON array, one item per reading `{d, m, ts, v, at}` (device, metric,
// device time, value, received time — the engine evaluates on server time, rules/server-time.ts)
// or per status change `{d, s, at}`; items of one bucket from one flush, at most
// BUS_MAX_ITEMS_PER_MESSAGE per message.
import { topics, type DeviceStatus } from './contract.ts'
import type { Logger } from './log.ts'

export const READINGS_BUCKETS = 64
/** ~60 bytes an item: messages stay far below any broker's packet limit. */
export const BUS_MAX_ITEMS_PER_MESSAGE = 2000
/** Items a publisher holds while its transport is busy; beyond, the oldest are dropped. */
export const BUS_MAX_QUEUED = 200_000
const RETRY_MS = 1000

export const readingsTopic = topics.readings

/** The bucket of a topic of the bus, or undefined for any other topic. */
export function bucketOfTopic(topic: string): number | undefined {
  const m = /^hb\/v1\/readings\/(\d{1,2})$/.exec(topic)
  const b = m ? Number(m[1]) : NaN
  return b >= 0 && b < READINGS_BUCKETS ? b : undefined
}

/** 32-bit FNV-1a of the UTF-16 code units (ids are ASCII, ID_PATTERN), stable across processes and versions. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

export function bucketOf(device: { id: string; gatewayId: string | null }): number {
  return fnv1a(device.gatewayId ?? device.id) % READINGS_BUCKETS
}

/** `index/count`: this rules process takes the buckets b with b % count === index. */
export interface Partition {
  index: number
  count: number
}

export const ALL_BUCKETS: Partition = { index: 0, count: 1 }

export function partitionBuckets(p: Partition): number[] {
  return Array.from({ length: READINGS_BUCKETS }, (_, b) => b).filter((b) => b % p.count === p.index)
}

export type BusItem = { d: string; m: string; ts: number; v: number; at: number } | { d: string; s: DeviceStatus; at: number }

/** The items of a bus message; malformed items are left out (the topic is written by services only). */
export function decodeBusMessage(payload: Buffer): BusItem[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload.toString('utf8'))
  } catch {
    return []
  }
  if (!Array.isArray(parsed)) return []
  const out: BusItem[] = []
  for (const x of parsed as unknown[]) {
    if (typeof x !== 'object' || x === null) continue
    const i = x as Record<string, unknown>
    if (typeof i.d !== 'string' || typeof i.at !== 'number') continue
    if (typeof i.m === 'string' && typeof i.ts === 'number' && typeof i.v === 'number') out.push({ d: i.d, m: i.m, ts: i.ts, v: i.v, at: i.at })
    else if (i.s === 'online' || i.s === 'offline') out.push({ d: i.d, s: i.s, at: i.at })
  }
  return out
}

/** What the ingest hands over once a commit is done. */
export interface ReadingsBus {
  /** Committed readings, received at `receivedAt`; `gatewayOf` names each device's gateway (partition key). */
  readings(readings: readonly { deviceId: string; metric: string; ts: number; value: number }[], receivedAt: number, gatewayOf: (deviceId: string) => string | null): void
  /** A stored status change (a Last Will, a platform's online/offline message). */
  status(device: { id: string; gatewayId: string | null }, status: DeviceStatus, at: number): void
}

/** Sends one message; rejects when it cannot (not connected): the items are queued again. */
export type BusTransport = (topic: string, payload: Buffer) => Promise<void>

/**
 * Groups what the ingest hands over per bucket and publishes it. Items handed over in one turn
 * of the event loop (every submission of one commit settles in the same turn) go out together,
 * at the next `setImmediate`; while a flush is being sent, new items wait (bounded) for the next.
 */
export class BusPublisher implements ReadingsBus {
  private queue: { bucket: number; item: BusItem }[] = []
  private scheduled = false
  private sending: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private dropped = 0
  private lastLog = 0

  private readonly maxQueued: number

  constructor(
    private readonly send: BusTransport,
    private readonly log: Logger,
    private readonly opts: { maxQueued?: number; /** Counts drops (hb_readings_bus_dropped_total). */ onDropped?: (n: number) => void } = {},
  ) {
    this.maxQueued = opts.maxQueued ?? BUS_MAX_QUEUED
  }

  readings(readings: readonly { deviceId: string; metric: string; ts: number; value: number }[], receivedAt: number, gatewayOf: (deviceId: string) => string | null): void {
    if (readings.length === 0) return
    let lastDevice = ''
    let bucket = 0
    for (const r of readings) {
      // Readings of one device come together: one hash per run of the same device.
      if (r.deviceId !== lastDevice) {
        lastDevice = r.deviceId
        bucket = bucketOf({ id: r.deviceId, gatewayId: gatewayOf(r.deviceId) })
      }
      this.queue.push({ bucket, item: { d: r.deviceId, m: r.metric, ts: r.ts, v: r.value, at: receivedAt } })
    }
    this.schedule()
  }

  status(device: { id: string; gatewayId: string | null }, status: DeviceStatus, at: number): void {
    this.queue.push({ bucket: bucketOf(device), item: { d: device.id, s: status, at } })
    this.schedule()
  }

  /** Resolves once everything handed over so far has been sent (or waits for a retry), or after `timeoutMs`. */
  async drain(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (((this.queue.length > 0 && !this.retryTimer) || this.sending || this.scheduled) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  private trim(): void {
    if (this.queue.length <= this.maxQueued) return
    const excess = this.queue.length - this.maxQueued
    this.queue.splice(0, excess)
    this.noteDropped(excess, 'queue full')
  }

  private schedule(): void {
    this.trim()
    if (this.scheduled || this.sending || this.retryTimer) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.flush()
    })
  }

  private flush(): void {
    if (this.queue.length === 0) return
    const batch = this.queue
    this.queue = []
    const perBucket = new Map<number, BusItem[]>()
    for (const { bucket, item } of batch) {
      const list = perBucket.get(bucket)
      if (list) list.push(item)
      else perBucket.set(bucket, [item])
    }
    const sends: Promise<void>[] = []
    const failed: { bucket: number; item: BusItem }[] = []
    let failure: unknown
    for (const [bucket, items] of perBucket) {
      for (let i = 0; i < items.length; i += BUS_MAX_ITEMS_PER_MESSAGE) {
        const part = items.slice(i, i + BUS_MAX_ITEMS_PER_MESSAGE)
        const sent = this.send(readingsTopic(bucket), Buffer.from(JSON.stringify(part))).catch((err: unknown) => {
          failure = err
          for (const item of part) failed.push({ bucket, item })
        })
        sends.push(sent)
      }
    }
    this.sending = Promise.all(sends).then(() => {
      this.sending = undefined
      if (failed.length === 0) {
        if (this.queue.length > 0) this.schedule()
        return
      }
      // Back at the head of the queue, in their order; tried again in a second.
      this.queue = [...failed, ...this.queue]
      this.noteProblem('the broker did not take them; retrying', failure)
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined
        this.schedule()
      }, RETRY_MS)
      this.retryTimer.unref()
      this.trim()
    })
  }

  /** Stops retrying; what is still queued is dropped (it is stored; see the header). */
  stop(): void {
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    if (this.queue.length > 0) this.noteDropped(this.queue.length, 'stopping')
    this.queue = []
  }

  /** Items dropped so far (queue full, or stopped). */
  get droppedCount(): number {
    return this.dropped
  }

  private noteDropped(n: number, why: string): void {
    this.dropped += n
    this.opts.onDropped?.(n)
    this.noteProblem(`${n} items dropped (${why}); they are stored, and reach the rules engine at its next rebuild`)
  }

  private noteProblem(what: string, err?: unknown): void {
    const now = Date.now()
    // One line at most every 10 s: a broker outage would otherwise log once per commit.
    if (now - this.lastLog < 10_000) return
    this.lastLog = now
    this.log.warn({ err, queued: this.queue.length, droppedSoFar: this.dropped }, `readings bus: ${what}`)
  }
}
