// Turns one MQTT telemetry message into accepted readings and precise rejections — the contract
// (core/contract.ts) applied, for every entry point of the ingest (MQTT, the HTTP device API, the
// vendor push receivers, the AMQP workers). The rules engine does not parse telemetry: it
// evaluates what the ingest committed, from the commit-ordered feed (core/feed.ts).
//
// Three steps: parse the payload's shape (pure), resolve the device ids it names (async, cached,
// by the caller), then check every value against the metric catalogue (pure). A bad entry or
// value never spoils the rest of the message. The cost of a message is bounded before any
// per-entry work (issue 7, items 5 and 15):
// - nesting deeper than MAX_JSON_DEPTH is refused before JSON.parse (10,000 levels once made
//   JSON.stringify overflow the stack and the broker drop the connection, message unrecorded);
// - a message with more entries, or an entry with more values, than the limits is refused whole,
//   with one rejection;
// - entries are checked by hand (no zod error formatting: a gateway message of thousands of
//   invalid entries blocked the event loop for 1.4–1.8 s), and past `maxRejections` a rejection is
//   only counted, never worded, so a message costs at most that many excerpts.
// Nothing vanishes: an empty message and a second reading for a (device, metric, ts) already in
// the message are dead-lettered (`empty_message`, `duplicate_reading`), on every way in.
import { REJECT_REASONS, MAX_ENTRIES, MAX_PAYLOAD_BYTES, ID_PATTERN, metricSpec, parseTopic, timestampSchema, type RejectReason, type TelemetryEntry } from './contract.ts'
import type { DeviceInfo } from './device-directory.ts'
import { withArticle } from '../shared/text.ts'

export interface Reading {
  deviceId: string
  metric: string
  ts: number
  value: number
}

export interface Rejection {
  deviceId: string | null
  reasonCode: RejectReason
  reason: string
  excerpt: string | null
}

/** Limits of one message; the ingest takes them from the configuration (INGEST_*). */
export interface TelemetryLimits {
  /** Entries per device in one message (per child in a gateway message), as the contract's MAX_ENTRIES. */
  maxEntries: number
  /** Metric values per entry. */
  maxValuesPerEntry: number
  /** Rejections worded per message; the rest are summed up in one more. */
  maxRejections: number
  /** How far ahead of the server clock a timestamp may be. */
  maxFutureSkewMs: number
  /** How far behind the receive time a timestamp may be. */
  maxPastAgeMs: number
}

/** The defaults of the INGEST_* settings (core/config.ts). */
export const DEFAULT_TELEMETRY_LIMITS: TelemetryLimits = {
  maxEntries: MAX_ENTRIES,
  maxValuesPerEntry: 64,
  maxRejections: 100,
  maxFutureSkewMs: 300_000,
  maxPastAgeMs: 7 * 24 * 3_600_000,
}

/** Deepest nesting a payload may have: a gateway message needs 4 levels. */
export const MAX_JSON_DEPTH = 32

const EXCERPT_MAX = 512

export function excerpt(value: unknown): string {
  // JSON.stringify returns undefined for undefined and functions, whatever its declared type says.
  const json = JSON.stringify(value) as string | undefined
  const text = typeof value === 'string' ? value : (json ?? String(value))
  return text.length > EXCERPT_MAX ? `${text.slice(0, EXCERPT_MAX)}…` : text
}

/** The start of a raw payload, as text. */
export function payloadExcerpt(payload: Buffer): string {
  return excerpt(payload.subarray(0, EXCERPT_MAX).toString('utf8'))
}

/**
 * Rejections of one message. Past `cap` a rejection is counted by reason but not worded (no
 * message text, no excerpt), so a message full of bad entries costs a bounded amount of work;
 * `rows()` sums those up in one more rejection.
 */
export class Rejections {
  readonly kept: Rejection[] = []
  private readonly overflow = new Map<RejectReason, number>()
  private overflowCount = 0
  private firstOverflow: Rejection | undefined

  constructor(private readonly cap: number) {}

  /** `detail` is called only for a rejection that is kept (or the first one beyond the cap). */
  add(deviceId: string | null, code: RejectReason, detail: (() => string) | undefined, value: unknown): void {
    if (this.kept.length < this.cap || this.firstOverflow === undefined) {
      const r: Rejection = {
        deviceId,
        reasonCode: code,
        reason: detail ? `${REJECT_REASONS[code]}: ${detail()}` : REJECT_REASONS[code],
        excerpt: value === undefined ? null : excerpt(value),
      }
      if (this.kept.length < this.cap) {
        this.kept.push(r)
        return
      }
      this.firstOverflow = r
    }
    this.overflowCount++
    this.overflow.set(code, (this.overflow.get(code) ?? 0) + 1)
  }

  get count(): number {
    return this.kept.length + this.overflowCount
  }

  /** How many rejections per reason, the summed-up ones included. */
  byReason(): Map<RejectReason, number> {
    const out = new Map(this.overflow)
    for (const r of this.kept) out.set(r.reasonCode, (out.get(r.reasonCode) ?? 0) + 1)
    return out
  }

  /** The rejections to record: those kept, and one that sums up the rest. */
  rows(): Rejection[] {
    const first = this.firstOverflow
    if (!first) return this.kept
    const codes = [...this.overflow.keys()].join(', ')
    return [...this.kept, { ...first, reason: `${this.overflowCount} more rejections in this message (${codes}); first: ${first.reason}` }]
  }
}

/** Entries grouped by the device they are for, after the shape check. */
export interface ParsedMessage {
  /** The device or gateway the topic names. */
  sourceId: string | null
  gateway: boolean
  entries: { deviceId: string; entry: TelemetryEntry; path: string }[]
  rejects: Rejections
}

/** Step 1: topic and shape. */
export function parseMessage(topic: string, payload: Buffer, limits: Partial<TelemetryLimits> = {}): ParsedMessage {
  const parsedTopic = parseTopic(topic)
  if (parsedTopic === undefined || parsedTopic.type === 'device-status') {
    const out = emptyMessage(null, false, limits)
    out.rejects.add(null, 'unknown_topic', () => topic, undefined)
    return out
  }
  const gateway = parsedTopic.type === 'gateway-telemetry'
  return parsePayload(gateway ? parsedTopic.gatewayId : parsedTopic.deviceId, gateway, payload, limits)
}

function emptyMessage(sourceId: string | null, gateway: boolean, limits: Partial<TelemetryLimits>): ParsedMessage {
  const cap = limits.maxRejections ?? DEFAULT_TELEMETRY_LIMITS.maxRejections
  return { sourceId, gateway, entries: [], rejects: new Rejections(Math.max(1, cap - 1)) }
}

/**
 * Step 1 for a payload whose device (or gateway) is already known — from the MQTT topic, or from
 * the credentials of another entry point (the HTTP device API): size, depth, JSON, shape.
 */
export function parsePayload(sourceId: string, gateway: boolean, payload: Buffer, limits: Partial<TelemetryLimits> = {}): ParsedMessage {
  const out = emptyMessage(sourceId, gateway, limits)
  const rejects = out.rejects
  if (payload.length > MAX_PAYLOAD_BYTES) {
    rejects.add(sourceId, 'payload_too_large', () => `${payload.length} bytes > ${MAX_PAYLOAD_BYTES}`, payloadExcerpt(payload))
    return out
  }
  if (jsonDepthExceeds(payload, MAX_JSON_DEPTH)) {
    rejects.add(sourceId, 'too_deep', () => `more than ${MAX_JSON_DEPTH} levels of arrays and objects`, payloadExcerpt(payload))
    return out
  }
  let json: unknown
  try {
    json = JSON.parse(payload.toString('utf8')) as unknown
  } catch (err) {
    rejects.add(sourceId, 'malformed_json', () => (err as Error).message, payloadExcerpt(payload))
    return out
  }
  collectEntries(out, json, { ...DEFAULT_TELEMETRY_LIMITS, ...limits })
  return out
}

/**
 * Step 1 for entries already in memory — what a device profile's decoder made of a vendor
 * payload: one entry or an array of entries of the contract, for one device.
 */
export function parseEntries(deviceId: string, json: unknown, limits: Partial<TelemetryLimits> = {}): ParsedMessage {
  const out = emptyMessage(deviceId, false, limits)
  collectEntries(out, json, { ...DEFAULT_TELEMETRY_LIMITS, ...limits })
  return out
}

/** The entries of a parsed JSON payload, per device, into `out` (shape checked, rejections added). */
function collectEntries(out: ParsedMessage, json: unknown, lim: TelemetryLimits): void {
  const { rejects } = out
  const sourceId = out.sourceId ?? ''
  // The lists of entries per device, before looking at any entry.
  const lists: { deviceId: string; list: unknown[]; prefix: string; batch: boolean }[] = []
  if (!out.gateway) {
    lists.push({ deviceId: sourceId, list: Array.isArray(json) ? json : [json], prefix: '', batch: Array.isArray(json) })
  } else if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    // Gateway: { childId: [entries] }.
    rejects.add(sourceId, 'schema_violation', () => '(root): expected an object of child id → array of entries', json)
    return
  } else {
    for (const [childId, list] of Object.entries(json as Record<string, unknown>)) {
      if (!ID_PATTERN.test(childId)) {
        rejects.add(null, 'schema_violation', () => `${childId}: expected 1–64 characters of A–Z, a–z, 0–9, _ . : - (not starting with a symbol)`, { [childId]: list })
      } else if (!Array.isArray(list)) {
        rejects.add(childId, 'schema_violation', () => `.${childId}: expected an array of entries`, list)
      } else {
        lists.push({ deviceId: childId, list, prefix: `.${childId}`, batch: true })
      }
    }
  }
  const over = overLimit(lists, lim)
  if (over !== undefined) {
    rejects.add(sourceId, 'too_many_entries', () => over, undefined)
    return
  }
  // `[]` (or a gateway's `{}`) was once acknowledged and left no trace (issue 18, item 7).
  if (rejects.count === 0 && lists.every((l) => l.list.length === 0)) {
    const what = out.gateway ? 'no child holds an entry' : 'an empty array'
    rejects.add(sourceId, 'empty_message', () => `${what}: send at least one entry { "values": { metric: value } }`, json)
    return
  }
  for (const { deviceId, list, prefix, batch } of lists) {
    for (let i = 0; i < list.length; i++) {
      const path = batch ? `${prefix}[${i}]` : prefix
      const item = list[i]
      const checked = checkEntry(item)
      if (typeof checked === 'string') rejects.add(deviceId, 'schema_violation', () => `${path || '(root)'}${checked}`, item)
      else out.entries.push({ deviceId, entry: checked, path })
    }
  }
}

/** Why the message is over its limits, or undefined; costs at most one pass over the entries. */
function overLimit(lists: readonly { list: readonly unknown[] }[], lim: TelemetryLimits): string | undefined {
  for (const { list } of lists) {
    if (list.length > lim.maxEntries) return `${list.length} entries for one device, at most ${lim.maxEntries} per message`
  }
  for (const { list } of lists) {
    for (const item of list) {
      const values = typeof item === 'object' && item !== null ? (item as { values?: unknown }).values : undefined
      if (typeof values !== 'object' || values === null) continue
      let n = 0
      for (const key in values) if (Object.hasOwn(values, key) && ++n > lim.maxValuesPerEntry) return `an entry with more than ${lim.maxValuesPerEntry} values`
    }
  }
  return undefined
}

/** True when arrays and objects nest deeper than `max`; brackets inside strings do not count. */
export function jsonDepthExceeds(payload: Buffer, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < payload.length; i++) {
    const c = payload[i]
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/** Looser than RFC 3339: what fails it cannot be a date-time, so zod (which builds an error) is skipped. */
const DATE_TIME_SHAPE = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)$/i
const isDateTime = (v: string) => DATE_TIME_SHAPE.test(v) && timestampSchema.safeParse(v).success

/**
 * One entry checked by hand against `telemetryEntrySchema`: the entry, or what is wrong with it
 * (a path suffix and message). Accepts exactly what the schema accepts (test/unit/telemetry.test.ts
 * compares them on generated entries); only an RFC 3339 `ts` goes through zod.
 */
export function checkEntry(item: unknown): TelemetryEntry | string {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return ': expected an object with "values"'
  let values: Record<string, number | boolean> | undefined
  let ts: number | string | undefined
  let seq: number | undefined
  for (const key in item) {
    const v = (item as Record<string, unknown>)[key]
    if (key === 'values') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return '.values: expected an object of metric → number or boolean'
      values = v as Record<string, number | boolean>
    } else if (key === 'ts') {
      if (typeof v === 'string' ? !isDateTime(v) : !isCount(v)) return '.ts: expected epoch milliseconds or an RFC 3339 date-time with an offset'
      ts = v as number | string
    } else if (key === 'seq') {
      if (!isCount(v)) return '.seq: expected a non-negative integer'
      seq = v
    } else {
      return `: unexpected key "${key.length > 64 ? `${key.slice(0, 64)}…` : key}"`
    }
  }
  if (values === undefined) return '.values: required'
  let n = 0
  for (const metric in values) {
    const v = values[metric]
    if (metric.length === 0 || metric.length > 64) return `.values: metric names have 1–64 characters`
    if (typeof v !== 'boolean' && (typeof v !== 'number' || !Number.isFinite(v))) return `.values.${metric}: expected a number or boolean`
    n++
  }
  if (n === 0) return '.values: holds no metric'
  return { values, ...(ts === undefined ? {} : { ts }), ...(seq === undefined ? {} : { seq }) }
}

/** The earliest timestamp accepted; anything before it is a clock that was never set. */
const EARLIEST_MS = Date.UTC(2000, 0, 1)

export interface CheckOptions extends Partial<Pick<TelemetryLimits, 'maxFutureSkewMs' | 'maxPastAgeMs'>> {
  receivedAt: number
}

/**
 * Step 3: devices and values. `devices` holds every known device the message names. The
 * rejections are added to the message's own list (`msg.rejects`), readings are returned.
 *
 * An entry without `ts` is stamped with `receivedAt`, so a QoS 1 redelivery of it (after a lost
 * PUBACK) is a new reading at a new time and is stored again; entries with `ts` are stored once.
 */
export function checkReadings(msg: ParsedMessage, devices: ReadonlyMap<string, DeviceInfo>, opts: CheckOptions): { readings: Reading[]; rejects: Rejections } {
  const maxFutureSkewMs = opts.maxFutureSkewMs ?? DEFAULT_TELEMETRY_LIMITS.maxFutureSkewMs
  const maxPastAgeMs = opts.maxPastAgeMs ?? DEFAULT_TELEMETRY_LIMITS.maxPastAgeMs
  const readings: Reading[] = []
  const rejects = msg.rejects
  // A (device, metric, ts) given twice in the message: the unique key would keep one and drop the
  // rest unrecorded (1,000 entries with one `ts` once stored 1 and answered 1,000). The times of
  // each device's entries are tracked as numbers; only once one repeats are the readings keyed
  // by text (a text key per value from the start made 10,000 entries of 3 values 5× slower).
  const times = new Map<string, Set<number>>()
  let taken: Set<string> | undefined
  if (msg.gateway && msg.sourceId !== null) {
    const gw = devices.get(msg.sourceId)
    if (!gw?.enabled || gw.kind !== 'gateway') {
      rejects.add(msg.sourceId, 'unknown_device', () => `no enabled gateway "${msg.sourceId ?? ''}"`, undefined)
      return { readings, rejects }
    }
  }
  for (const { deviceId, entry, path } of msg.entries) {
    const device = devices.get(deviceId)
    if (!device?.enabled) {
      rejects.add(deviceId, 'unknown_device', () => `"${deviceId}"`, entry)
      continue
    }
    if (msg.gateway && device.gatewayId !== msg.sourceId) {
      rejects.add(deviceId, 'not_a_child', () => `"${deviceId}" is not a child of gateway "${msg.sourceId ?? ''}"`, entry)
      continue
    }
    const ts = entry.ts === undefined ? opts.receivedAt : typeof entry.ts === 'number' ? entry.ts : Date.parse(entry.ts)
    if (!Number.isFinite(ts) || ts < EARLIEST_MS) {
      const hint = typeof entry.ts === 'number' && entry.ts * 1000 >= EARLIEST_MS ? ' (looks like seconds; send epoch milliseconds)' : ''
      rejects.add(deviceId, 'invalid_timestamp', () => `${path}.ts = ${String(entry.ts)} is before 2000-01-01${hint}`, entry)
      continue
    }
    if (ts < opts.receivedAt - maxPastAgeMs) {
      const behind = Math.round((opts.receivedAt - ts) / 1000)
      rejects.add(deviceId, 'too_old', () => `${path}.ts is ${behind} s behind the server clock (limit ${maxPastAgeMs / 1000} s)`, entry)
      continue
    }
    if (ts > opts.receivedAt + maxFutureSkewMs) {
      const ahead = Math.round((ts - opts.receivedAt) / 1000)
      rejects.add(deviceId, 'future_timestamp', () => `${path}.ts is ${ahead} s ahead of the server clock (limit ${maxFutureSkewMs / 1000} s)`, entry)
      continue
    }
    let seen = times.get(deviceId)
    if (!seen) times.set(deviceId, (seen = new Set()))
    if (seen.has(ts)) taken ??= new Set(readings.map((r) => readingKey(r.deviceId, r.metric, r.ts)))
    else seen.add(ts)
    for (const metric in entry.values) {
      const raw = entry.values[metric] ?? 0
      const spec = metricSpec(device.kind, metric)
      if (spec === undefined) {
        rejects.add(deviceId, 'unknown_metric', () => `"${metric}" for ${withArticle(device.kind)}`, { [metric]: raw })
        continue
      }
      if (typeof raw === 'boolean' && !spec.boolean) {
        rejects.add(deviceId, 'schema_violation', () => `${path}.values.${metric}: expected a number in ${spec.unit}`, { [metric]: raw })
        continue
      }
      const value = typeof raw === 'boolean' ? (raw ? 1 : 0) : raw
      if (value < spec.min || value > spec.max || (spec.boolean && value !== 0 && value !== 1)) {
        const range = spec.boolean ? 'true/false or 0/1' : `${spec.min}..${spec.max} ${spec.unit}`
        rejects.add(deviceId, 'out_of_range', () => `${metric} = ${value}, expected ${range}`, { [metric]: raw })
        continue
      }
      const key = taken && readingKey(deviceId, metric, ts)
      if (key !== undefined && taken?.has(key)) {
        const when = entry.ts === undefined ? 'the receive time (this entry has no ts)' : new Date(ts).toISOString()
        rejects.add(deviceId, 'duplicate_reading', () => `${path}.values.${metric} at ${when}: one reading per metric and time; give each entry its own ts`, { [metric]: raw })
        continue
      }
      if (key !== undefined) taken?.add(key)
      readings.push({ deviceId, metric, ts, value })
    }
  }
  return { readings, rejects }
}

const readingKey = (deviceId: string, metric: string, ts: number) => `${deviceId}\u0000${metric}\u0000${ts}`

/** Every device id a parsed message needs looked up. */
export function idsOf(msg: ParsedMessage): Set<string> {
  const ids = new Set(msg.entries.map((e) => e.deviceId))
  if (msg.sourceId !== null) ids.add(msg.sourceId)
  return ids
}
