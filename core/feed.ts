// The commit-ordered feed (issue 17): every transaction that commits readings or a device status
// change also appends one `feed` row holding what it committed (core/db/migrations.ts, version
// 15). The rules engine reads the feed from a durable position (core/repos/feed.ts, rules/engine.ts), so
// what is evaluated is exactly what was committed, whatever the way in and whichever process
// committed it; a reader that was away resumes where it stopped.
//
// Why a table and not logical decoding or a broker: it is written in the committing transaction
// (nothing committed can miss it, nothing rolled back can appear in it), it works on the embedded
// server and any PostgreSQL without `wal_level=logical` or replication rights, a dead reader pins
// no WAL, and partitions skip rows by a bucket mask. The README's design section has the figures.
//
// Order. Rows are read in (xid, id) order, and only below the oldest feed writer still running:
// every row there is final, and a row that commits later always has a larger xid than everything
// read before it, so a reader that advances its position never skips one. A writer announces
// itself (a shared advisory lock, core/repos/feed.ts) before its transaction has an id; other
// transactions — on other databases of the server, a long import here, a psql session left open —
// hold nothing back.
//
// Registry changes (devices, rules, profiles) bump a version in their own transaction; every read
// of the feed returns the version its rows were read with, so a reader reloads the registry before
// it evaluates a row that committed after a change.
//
// Partitions. bucket = FNV-1a(partition key) mod 64, partition key = the device's gateway id, or its
// own id: a gateway and its children always share a bucket, so one rules process holds both (storm
// control needs them together). A rules process takes the buckets b with b % count == index
// (RULES_PARTITION index/count). A row's `buckets` is the bit mask of the buckets it holds.
//
// Entries (the row's `entries`, a JSON array): `{d, b, at, r: [[metric, ts, value], …]}` for the
// readings of one device committed together (ts = device time, at = when they were received), `{d, b,
// at, s}` for a status change.
import type { DeviceStatus } from './contract.ts'

export const FEED_BUCKETS = 64

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
  return fnv1a(device.gatewayId ?? device.id) % FEED_BUCKETS
}

/** `index/count`: this rules process takes the buckets b with b % count === index. */
export interface Partition {
  index: number
  count: number
}

export const ALL_BUCKETS: Partition = { index: 0, count: 1 }

export function partitionBuckets(p: Partition): number[] {
  return Array.from({ length: FEED_BUCKETS }, (_, b) => b).filter((b) => b % p.count === p.index)
}

/** The 64-bit mask of some buckets, as PostgreSQL's signed bigint holds it. */
export function bucketMask(buckets: Iterable<number>): bigint {
  let mask = 0n
  for (const b of buckets) mask |= 1n << BigInt(b)
  return BigInt.asIntN(64, mask)
}

export type ReadingsEntry = { d: string; b: number; at: number; r: [metric: string, ts: number, value: number][] }
export type StatusEntry = { d: string; b: number; at: number; s: DeviceStatus }
export type FeedEntry = ReadingsEntry | StatusEntry

/** A reader's place in the feed: the last row it has dealt with (xid as text: xid8 is 64-bit). */
export interface FeedPosition {
  xid: string
  id: number
}

export function comparePositions(a: FeedPosition, b: FeedPosition): number {
  const x = BigInt(a.xid) - BigInt(b.xid)
  return x !== 0n ? (x < 0n ? -1 : 1) : a.id - b.id
}

/** Collects what one transaction commits, grouped per device, for one feed row. */
export class FeedBatch {
  private readonly entries: FeedEntry[] = []
  private readonly byKey = new Map<string, ReadingsEntry>()
  private mask = 0n

  get empty(): boolean {
    return this.entries.length === 0
  }

  reading(device: { id: string; bucket: number }, at: number, metric: string, ts: number, value: number): void {
    const k = `${device.id}\u0000${at}`
    let e = this.byKey.get(k)
    if (!e) {
      e = { d: device.id, b: device.bucket, at, r: [] }
      this.byKey.set(k, e)
      this.entries.push(e)
      this.mask |= 1n << BigInt(device.bucket)
    }
    e.r.push([metric, ts, value])
  }

  status(device: { id: string; bucket: number }, at: number, s: DeviceStatus): void {
    this.entries.push({ d: device.id, b: device.bucket, at, s })
    this.mask |= 1n << BigInt(device.bucket)
  }

  /** The row's bucket mask and its entries as stored. */
  row(): { buckets: bigint; entries: string } {
    return { buckets: BigInt.asIntN(64, this.mask), entries: JSON.stringify(this.entries) }
  }
}

/** The entries of a stored row that concern `buckets`; malformed items are left out. */
export function decodeEntries(text: string, buckets: ReadonlySet<number>): FeedEntry[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return []
  }
  if (!Array.isArray(parsed)) return []
  const out: FeedEntry[] = []
  for (const x of parsed as unknown[]) {
    if (typeof x !== 'object' || x === null) continue
    const e = x as Record<string, unknown>
    if (typeof e.d !== 'string' || typeof e.b !== 'number' || typeof e.at !== 'number' || !buckets.has(e.b)) continue
    if (Array.isArray(e.r)) out.push(e as ReadingsEntry)
    else if (e.s === 'online' || e.s === 'offline') out.push({ d: e.d, b: e.b, at: e.at, s: e.s })
  }
  return out
}
