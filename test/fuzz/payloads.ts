// What the MQTT fuzz suite sends: fast-check arbitraries for telemetry, gateway and status
// payloads (generated, then some mutated byte-wise), and a fixed list of extreme cases that a
// random search would rarely reach (10,000 levels of nesting, 10,000-entry batches, the 1 MiB
// limit, the exact payload of issue 7 item 1).
//
// A case is a recipe, not bytes: `build` runs just before the publication, with the lane that
// sends it, so device ids fit the lane and times relative to "now" (the future-skew limit ± 1 ms)
// are relative to the moment of sending. For a given seed the recipes — and so the payloads,
// up to those relative times — are the same on every run.
import fc from 'fast-check'
import { loadConfig } from '../../core/config.ts'
import { METRICS, MAX_ENTRIES, MAX_PAYLOAD_BYTES, type DeviceKind } from '../../core/contract.ts'

/** The device or gateway a case is published by, and the ids its payload may name. */
export interface Lane {
  deviceId: string
  kind: DeviceKind
  /** A gateway's children (empty for a device). */
  children: string[]
  /** A registered device that is not a child of this lane. */
  stranger: string
}

export type Target = 'telemetry' | 'status' | 'topic'

export interface FuzzCase {
  label: string
  /** Device lanes take device telemetry, status and topic cases; gateway lanes gateway telemetry. */
  gateway: boolean
  target: Target
  build(lane: Lane): { topic: string; payload: Buffer }
}

const DAY = 86_400_000
/** Server-side limits the boundaries are drawn around: the defaults of core/config.ts (the stack runs with them). */
const defaults = loadConfig({})
const FUTURE_SKEW_MS = defaults.ingest.maxFutureSkewMs
const PAST_LIMIT_MS = defaults.ingest.maxPastAgeMs
const EARLIEST_MS = Date.UTC(2000, 0, 1)

// ---- A tiny JSON writer that can also emit what JSON.stringify cannot ------------------------

/** Text put into the payload as is: literals such as 1e400, NaN or 123456789012345678901234567890. */
class Raw {
  constructor(readonly text: string) {}
}
/** A time resolved when the case is built: ms since now, sent as ms, seconds or RFC 3339. */
class RelTime {
  constructor(
    readonly offsetMs: number,
    readonly as: 'ms' | 's' | 'rfc3339',
  ) {}
}
/** A metric of the sending device's kind, picked by index when the case is built. */
class KindMetric {
  constructor(readonly index: number) {}
}
/** An entry's `values`, in order, duplicate names allowed (the last one wins in JSON.parse). */
class Values {
  constructor(readonly pairs: readonly (readonly [string | KindMetric, J])[]) {}
}
type J = Raw | RelTime | Values | string | number | boolean | null | J[] | { [key: string]: J }

/** The JSON text of `v`; `kind` names the metrics a KindMetric stands for. */
function write(v: J, kind: DeviceKind = 'manhole'): string {
  if (v instanceof Raw) return v.text
  if (v instanceof Values) {
    const names = Object.keys(METRICS[kind])
    return `{${v.pairs.map(([k, x]) => `${JSON.stringify(typeof k === 'string' ? k : (names[k.index % names.length] ?? ''))}:${write(x, kind)}`).join(',')}}`
  }
  if (v instanceof RelTime) {
    const t = Date.now() + v.offsetMs
    return v.as === 'ms' ? String(t) : v.as === 's' ? String(Math.floor(t / 1000)) : JSON.stringify(new Date(t).toISOString())
  }
  if (Array.isArray(v)) return `[${v.map((x) => write(x, kind)).join(',')}]`
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${write(x, kind)}`).join(',')}}`
  // JSON.stringify escapes lone surrogates (\ud800) and control characters, so they reach the
  // server as the characters themselves after its JSON.parse.
  return JSON.stringify(v)
}

// ---- Strings from every plane, with the characters databases and parsers trip on ------------

const NASTY = ['\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFEFF', '\uFFFE', '\uFFFF', '\u{10FFFF}', '\u{1F600}', '\u{E0041}', '\u202E', '\u0085', '\u2028', '\n', '\t', '"', '\\', '/', '%s', '\u0301']
/** One code point of a random plane 0–16 (lone surrogates included: plane 0 holds D800–DFFF). */
const planeChar = fc.tuple(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 0xffff })).map(([p, o]) => String.fromCodePoint(p * 0x10000 + o))
const nastyChar = fc.oneof(planeChar, fc.constantFrom(...NASTY), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }))
const nastyString = fc.string({ unit: nastyChar, maxLength: 40 })

/** One code point from each of the 17 planes (for planes 15–16, private use). */
export const EVERY_PLANE = Array.from({ length: 17 }, (_, p) => String.fromCodePoint(p * 0x10000 + (p === 0 ? 0x4e2d : 0x0041)))

const ALL_METRICS = [...new Set(Object.values(METRICS).flatMap((m) => Object.keys(m)))]
const metricName: fc.Arbitrary<string | KindMetric> = fc.oneof(
  { weight: 8, arbitrary: fc.nat(15).map((i) => new KindMetric(i)) },
  { weight: 2, arbitrary: fc.constantFrom(...ALL_METRICS) },
  { weight: 2, arbitrary: nastyString },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...ALL_METRICS), fc.constantFrom(...NASTY), fc.nat(20)).map(([m, c, i]) => m.slice(0, i) + c + m.slice(i)) },
  { weight: 1, arbitrary: fc.constantFrom('', '__proto__', 'constructor', 'toString', 'a'.repeat(64), 'a'.repeat(65), 'x'.repeat(5000)) },
)

/** `arb` in `weight` of `weight + otherwise` draws, null in the others. */
function sometimes<T>(arb: fc.Arbitrary<T>, weight: number, otherwise: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: otherwise, arbitrary: fc.constant(null) }, { weight, arbitrary: arb })
}

// ---- Values and times ---------------------------------------------------------------------

const HUGE = [1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, -0, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]
const RAW_NUMBERS = ['1e400', '-1e400', '123456789012345678901234567890123456789', '0.00000000000000000000000000001', '1E2', '-0.0', '5e-324', 'NaN', 'Infinity', '0x10', '01', '.5', '+1']
const value: fc.Arbitrary<J> = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 100 }) },
  { weight: 3, arbitrary: fc.double({ min: -200, max: 6000, noNaN: true }) },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 2, arbitrary: fc.constantFrom(...HUGE) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_NUMBERS).map((t) => new Raw(t)) },
  { weight: 1, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.constantFrom<J>(null, [], {}, [1], { v: 1 }, '1', 'true') },
)

/** Times around every limit: 2000-01-01, the past limit, the future-skew limit, the ends of Date. */
const BOUNDARY_TS: J[] = [
  0, 1, -1, EARLIEST_MS - 1, EARLIEST_MS, EARLIEST_MS + 1, 8.64e15, 8.64e15 + 1, -8.64e15, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21,
  Date.UTC(9999, 11, 31, 23, 59, 59, 999), 1.5,
  new RelTime(0, 'ms'), new RelTime(0, 's'), new RelTime(-PAST_LIMIT_MS + 60_000, 'ms'), new RelTime(-PAST_LIMIT_MS - 1, 'ms'),
  new RelTime(-PAST_LIMIT_MS + 1, 'ms'), new RelTime(FUTURE_SKEW_MS - 1, 'ms'), new RelTime(FUTURE_SKEW_MS + 1, 'ms'),
  new RelTime(FUTURE_SKEW_MS, 'ms'), new RelTime(DAY, 'ms'), new RelTime(-1000, 'rfc3339'), new RelTime(FUTURE_SKEW_MS + 1000, 'rfc3339'),
]
const RFC3339 = [
  '2000-01-01T00:00:00Z', '1999-12-31T23:59:59.999Z', '2000-01-01T00:00:00.000+00:00', '2000-01-01T08:00:00+08:00',
  '2026-01-01T00:00:00Z', '2026-01-01t00:00:00z', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00', '2026-01-01T00:00Z',
  '2026-01-01T00:00:00.123456789+08:00', '2026-01-01T00:00:00-00:00', '2026-01-01T00:00:00+14:00', '2026-01-01T00:00:00-12:00',
  '2026-01-01T00:00:00+24:00', '2016-12-31T23:59:60Z', '2026-02-30T00:00:00Z', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z',
  '2026-01-01', '20260101T000000Z', '2026-W01-1', 'NaN', 'Infinity', '-Infinity', 'null', 'undefined', '', ' ', 'now', '0', '1e3', '0x10',
  '2026-01-01T00:00:00Z\u0000', '\uD800', '２０２６-01-01T00:00:00Z',
]
const recentMs = fc.integer({ min: -2 * DAY, max: 0 }).map((o) => new RelTime(o, 'ms'))
const ts: fc.Arbitrary<J | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: recentMs },
  { weight: 4, arbitrary: fc.constantFrom(...BOUNDARY_TS) },
  { weight: 3, arbitrary: fc.constantFrom(...RFC3339) },
  { weight: 1, arbitrary: fc.constantFrom<J>(true, null, [], {}, new Raw('1e400'), new Raw('NaN')) },
)
const seq: fc.Arbitrary<J | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.nat() },
  { weight: 1, arbitrary: fc.constantFrom<J>(-1, 1.5, '1', null, 2 ** 64, new Raw('1e400')) },
)

// ---- Entries and messages -----------------------------------------------------------------

/** A telemetry entry: mostly well-formed, with every field sometimes of the wrong kind. */
const entry: fc.Arbitrary<J> = fc
  .record({
    ts,
    seq,
    values: fc.oneof(
      { weight: 12, arbitrary: fc.array(fc.tuple(metricName, value), { maxLength: 6 }).map((pairs): J => new Values(pairs)) },
      { weight: 1, arbitrary: fc.constantFrom<J>(null, [], 1, 'values', [{ battery_pct: 1 }]) },
    ),
    extra: sometimes(fc.tuple(nastyString, value), 1, 8),
  })
  .map(({ ts: t, seq: s, values, extra }) => {
    const e: { [key: string]: J } = {}
    if (t !== undefined) e.ts = t
    if (s !== undefined) e.seq = s
    e.values = values
    if (extra) e[extra[0]] = extra[1]
    return e
  })

/**
 * An entry firmware would plausibly send: metrics of the device's kind, small values, a recent or
 * absent time. Most are stored; some values fall outside a metric's range. They keep the suite
 * checking that the good part of a message is stored, not only that the bad part is rejected.
 */
const plausibleEntry: fc.Arbitrary<J> = fc
  .record({
    ts: fc.oneof(fc.constant(undefined), recentMs, recentMs.map((t) => new RelTime(t.offsetMs, 'rfc3339'))),
    values: fc.array(fc.tuple(fc.nat(15).map((i) => new KindMetric(i)), fc.oneof(fc.integer({ min: 0, max: 90 }), fc.boolean())), { minLength: 1, maxLength: 4 }),
  })
  .map(({ ts: t, values }): J => ({ ...(t === undefined ? {} : { ts: t }), values: new Values(values) }))
/** Mostly plausible, sometimes hostile. */
const anyEntry = fc.oneof({ weight: 1, arbitrary: plausibleEntry }, { weight: 1, arbitrary: entry })

const wrongRoot = fc.oneof(fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<J>, fc.constantFrom<J>(null, 1, 'x', true, [], {}))

/** Byte-level damage to a payload: flips, cuts, insertions of random bytes, repeats. */
const mutation = fc.oneof(
  fc.tuple(fc.constant('flip' as const), fc.nat(), fc.integer({ min: 1, max: 255 })),
  fc.tuple(fc.constant('cut' as const), fc.nat(), fc.nat(64)),
  fc.tuple(fc.constant('insert' as const), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })),
  fc.tuple(fc.constant('repeat' as const), fc.nat(), fc.nat(64)),
)
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never
const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 })

function mutate(buf: Buffer, ops: readonly Mutation[]): Buffer {
  let b = buf
  for (const op of ops) {
    const at = b.length === 0 ? 0 : op[1] % b.length
    if (op[0] === 'flip') {
      b = Buffer.from(b)
      if (b.length > 0) b[at] = (b[at] ?? 0) ^ op[2]
    } else if (op[0] === 'cut') b = Buffer.concat([b.subarray(0, at), b.subarray(at + op[2])])
    else if (op[0] === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(op[2]), b.subarray(at)])
    else b = Buffer.concat([b.subarray(0, at + op[2]), b.subarray(at, at + op[2]), b.subarray(at + op[2])])
  }
  return b
}

const telemetry = (deviceId: string) => `hb/v1/devices/${deviceId}/telemetry`
const gatewayTopic = (gatewayId: string) => `hb/v1/gateways/${gatewayId}/telemetry`
const status = (deviceId: string) => `hb/v1/devices/${deviceId}/status`

/** A device message: one entry, a batch, or the wrong shape altogether. */
const deviceBody = fc.oneof(
  { weight: 6, arbitrary: anyEntry },
  { weight: 3, arbitrary: fc.array(anyEntry, { maxLength: 20 }) },
  { weight: 1, arbitrary: wrongRoot },
)

/** Keys of a gateway message: its children, a stranger, unknown and invalid ids. */
const gatewayKey = fc.oneof(
  { weight: 8, arbitrary: fc.nat(63).map((i) => (lane: Lane) => lane.children[i % Math.max(1, lane.children.length)] ?? 'none') },
  { weight: 1, arbitrary: fc.constant((lane: Lane) => lane.stranger) },
  { weight: 1, arbitrary: fc.constantFrom('ghost-1', '__proto__', 'constructor', '', 'a'.repeat(65)).map((k) => () => k) },
  { weight: 2, arbitrary: nastyString.map((k) => () => k) },
)
const gatewayBody = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .array(fc.tuple(gatewayKey, fc.oneof({ weight: 9, arbitrary: fc.array(anyEntry, { maxLength: 8 }) }, { weight: 1, arbitrary: wrongRoot })), { maxLength: 6 })
      .map((pairs) => (lane: Lane): J => Object.fromEntries(pairs.map(([k, v]) => [k(lane), v]))),
  },
  { weight: 1, arbitrary: wrongRoot.map((v) => (): J => v) },
)

const STATUS_TEXT = ['online', 'offline', ' online\n', 'ONLINE', '', 'online\u0000', '\uD800', '"online"', 'offline '.repeat(1000)]

/** The generated cases, drawn with the run's seed. */
export function generatedCases(seed: number, runs: number): FuzzCase[] {
  const arb: fc.Arbitrary<FuzzCase> = fc.oneof(
    { weight: 50, arbitrary: fc.tuple(deviceBody, sometimes(mutations, 1, 4)).map(([body, ops]) => deviceCase(body, ops)) },
    { weight: 20, arbitrary: fc.tuple(gatewayBody, sometimes(mutations, 1, 4)).map(([body, ops]) => gatewayCase(body, ops)) },
    { weight: 8, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((bytes) => bytesCase(bytes)) },
    { weight: 4, arbitrary: fc.oneof(fc.constantFrom(...STATUS_TEXT), nastyString).map((text) => statusCase(text)) },
    { weight: 1, arbitrary: fc.tuple(topicVariant, entry).map(([variant, body]) => topicCase(variant, body)) },
  )
  return fc.sample(arb, { seed, numRuns: runs })
}

function deviceCase(body: J, ops: Mutation[] | null): FuzzCase {
  return {
    label: ops ? 'device message, mutated' : 'device message',
    gateway: false,
    target: 'telemetry',
    build: (lane) => {
      const text = Buffer.from(write(body, lane.kind))
      return { topic: telemetry(lane.deviceId), payload: ops ? mutate(text, ops) : text }
    },
  }
}

function gatewayCase(body: (lane: Lane) => J, ops: Mutation[] | null): FuzzCase {
  return {
    label: ops ? 'gateway message, mutated' : 'gateway message',
    gateway: true,
    target: 'telemetry',
    build: (lane) => {
      // Every gateway child of the suite is a manhole (write's default kind).
      const text = Buffer.from(write(body(lane)))
      return { topic: gatewayTopic(lane.deviceId), payload: ops ? mutate(text, ops) : text }
    },
  }
}

function bytesCase(bytes: Uint8Array): FuzzCase {
  return { label: 'random bytes', gateway: false, target: 'telemetry', build: (lane) => ({ topic: telemetry(lane.deviceId), payload: Buffer.from(bytes) }) }
}

function statusCase(text: string): FuzzCase {
  return { label: 'status message', gateway: false, target: 'status', build: (lane) => ({ topic: status(lane.deviceId), payload: Buffer.from(text) }) }
}

/** Topics beside the lane's own: every one must be refused at the edge (or dead-lettered). */
const topicVariant = fc.oneof(
  fc.constantFrom(
    (id: string) => `hb/v1/devices/${id}/telemetry\u0000`,
    (id: string) => `hb/v1/devices/${id}\u0000/telemetry`,
    (id: string) => `hb/v1/devices/${id}\uD800/telemetry`,
    (id: string) => `hb/v1/devices/${id}/telemetry/`,
    (id: string) => `/hb/v1/devices/${id}/telemetry`,
    (id: string) => `hb/v1/devices/${id}//telemetry`,
    (id: string) => `hb/v1/devices/${id.toUpperCase()}/telemetry`,
    (id: string) => `hb/v1/gateways/${id}/telemetry`,
    (id: string) => `hb/v1/devices/${id}/commands`,
    (id: string) => `hb/v2/devices/${id}/telemetry`,
    () => 'hb/v1/devices/fz-mh-1/telemetry',
  ),
  nastyString.filter((s) => s.length > 0 && !/[+#]/.test(s)).map((s) => (id: string) => `hb/v1/devices/${id}/${s}`),
)

function topicCase(variant: (id: string) => string, body: J): FuzzCase {
  return { label: 'foreign topic', gateway: false, target: 'topic', build: (lane) => ({ topic: variant(lane.deviceId), payload: Buffer.from(write(body, lane.kind)) }) }
}

// ---- The extremes, sent on every run ----------------------------------------------------------

const deep = (open: string, close: string, depth: number, inner = '') => open.repeat(depth) + inner + close.repeat(depth)
const metricOf = (lane: Lane) => (lane.kind === 'elevator' ? 'car_load_kg' : 'battery_pct')

function fixed(label: string, gateway: boolean, body: (lane: Lane) => string | Buffer): FuzzCase {
  return {
    label,
    gateway,
    target: 'telemetry',
    build: (lane) => {
      const b = body(lane)
      return { topic: gateway ? gatewayTopic(lane.deviceId) : telemetry(lane.deviceId), payload: typeof b === 'string' ? Buffer.from(b) : b }
    },
  }
}

/** `n` entries, one metric each, at distinct times ending now (or with a bad value). */
function batch(n: number, metric: (i: number) => string, value: (i: number) => J): J[] {
  const now = Date.now()
  return Array.from({ length: n }, (_, i) => ({ ts: now - 60_000 - (n - i) * 10, values: { [metric(i)]: value(i) } }))
}

export function extremeCases(): FuzzCase[] {
  const D = 10_000
  const childEntries = (lane: Lane, perChild: number, bad: boolean) =>
    Object.fromEntries(lane.children.map((c) => [c, batch(perChild, () => 'battery_pct', (i) => (bad ? 1000 + i : i % 100))]))
  return [
    // Issue 7 item 1, exactly as reported, and its relatives.
    fixed('NUL in a metric name (issue 7 item 1)', false, () => '{"values":{"a\\u0000b":1}}'),
    fixed('NUL in a gateway child id', true, (l) => `{"${l.children[0] ?? ''}\\u0000":[{"values":{"battery_pct":1}}]}`),
    fixed('raw NUL byte inside a JSON string', false, () => Buffer.from('{"values":{"a\u0000b":1}}')),
    fixed('NUL in an RFC 3339 timestamp', false, (l) => `{"ts":"2026-01-01T00:00:00Z\\u0000","values":{"${metricOf(l)}":1}}`),
    fixed('lone surrogates in metric names', false, () => '{"values":{"\\ud800":1,"\\udfff":2,"a\\udbffb":3}}'),
    fixed('CESU-8 surrogate bytes (invalid UTF-8)', false, () => Buffer.concat([Buffer.from('{"values":{"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('":1}}')])),
    fixed('a metric name from every Unicode plane', false, () => write({ values: Object.fromEntries(EVERY_PLANE.map((c, i) => [`m${c}`, i])) })),
    fixed('every troublesome character as a metric name', false, () => write({ values: Object.fromEntries(NASTY.map((c, i) => [c, i])) })),
    // Issue 7 item 15: nesting that a recursive JSON.stringify cannot walk.
    fixed('10,000 nested arrays as the payload', false, () => deep('[', ']', D)),
    fixed('10,000 nested arrays as a value', false, () => `{"values":{"battery_pct":${deep('[', ']', D)}}}`),
    fixed('10,000 nested objects as values', false, () => `{"values":${deep('{"a":', '}', D, '1')}}`),
    fixed('10,000 nested arrays as a timestamp', false, (l) => `{"ts":${deep('[', ']', D)},"values":{"${metricOf(l)}":1}}`),
    fixed('10,000 nested arrays for a gateway child', true, (l) => `{"${l.children[0] ?? ''}":[${deep('[', ']', D)}]}`),
    fixed('100,000 unclosed brackets', false, () => '['.repeat(100_000)),
    // Big arrays (MAX_ENTRIES per message, per device in a gateway message).
    fixed(`${MAX_ENTRIES} valid entries`, false, (l) => write(batch(MAX_ENTRIES, () => metricOf(l), (i) => i % 100))),
    fixed(`${MAX_ENTRIES + 1} entries`, false, (l) => write(batch(MAX_ENTRIES + 1, () => metricOf(l), (i) => i % 100))),
    fixed(`${MAX_ENTRIES} entries, every value out of range`, false, (l) => write(batch(MAX_ENTRIES, () => metricOf(l), () => -5))),
    fixed(`${MAX_ENTRIES} entries with a NUL in every metric name`, false, () => write(batch(MAX_ENTRIES, (i) => `m\u0000${i}`, () => 1))),
    fixed(`${MAX_ENTRIES} entries of the wrong type`, false, () => write(Array.from({ length: MAX_ENTRIES }, (_, i) => i))),
    fixed('gateway: 1,000 valid entries per child', true, (l) => write(childEntries(l, 1000, false))),
    fixed('gateway: 1,000 out-of-range entries per child', true, (l) => write(childEntries(l, 1000, true))),
    fixed(`gateway: ${MAX_ENTRIES} invalid entries for one child`, true, (l) => write({ [l.children[0] ?? '']: Array.from({ length: MAX_ENTRIES }, () => ({ values: { battery_pct: 'x' } })) })),
    fixed(`gateway: ${MAX_ENTRIES + 1} entries for one child`, true, (l) => write({ [l.children[0] ?? '']: batch(MAX_ENTRIES + 1, () => 'battery_pct', () => 1) })),
    fixed('gateway: 5,000 unknown devices', true, () => write(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`ghost-${i}`, [{ values: { battery_pct: 1 } }]])))),
    fixed('gateway: 5,000 invalid ids', true, () => write(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`\u0000${i}`, [{ values: { battery_pct: 1 } }]])))),
    // Sizes around the payload limit (the broker's packet limit is higher, so these reach ingest).
    fixed('payload of exactly the limit', false, (l) => padTo(`{"values":{"${metricOf(l)}":1}}`, MAX_PAYLOAD_BYTES)),
    fixed('payload one byte over the limit', false, (l) => padTo(`{"values":{"${metricOf(l)}":1}}`, MAX_PAYLOAD_BYTES + 1)),
    fixed('a 900 kB metric name', false, () => `{"values":{"${'n'.repeat(900_000)}":1}}`),
    fixed('a 900 kB number', false, () => `{"values":{"battery_pct":${'9'.repeat(900_000)}}}`),
    fixed('the same key 10,000 times', false, () => `{"values":{${Array.from({ length: 10_000 }, (_, i) => `"battery_pct":${i % 100}`).join(',')}}}`),
  ]
}

/** JSON padded with trailing spaces (still valid) to exactly `size` bytes. */
function padTo(json: string, size: number): Buffer {
  const b = Buffer.alloc(size, 0x20)
  b.write(json)
  return b
}
