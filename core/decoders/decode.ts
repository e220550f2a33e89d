// A vendor payload through a device profile's decoder (core/profiles/schema.ts) to entries of the
// telemetry contract, or a reason for the dead letter. The entries then take the same path as any
// other telemetry (intake/telemetry-sink.ts): catalogue, ranges and timestamps are checked there.
import { excerpt } from '../telemetry.ts'
import { CONVERSIONS, type DecoderSpec, type FieldMapping } from '../profiles/schema.ts'
import type { DecoderSandbox } from './sandbox.ts'

export interface VendorPayload {
  /** The payload as received (LoRaWAN FRMPayload, an NB-IoT platform's data, a DTU's HTTP body). */
  bytes: Buffer
  /** Already-parsed JSON, when the entry point had to parse it anyway. */
  json?: unknown
  fPort?: number | undefined
  receivedAt: number
}

export type DecodeResult = { ok: true; entries: { ts?: number; values: Record<string, number | boolean> }[]; warnings: string[] } | { ok: false; reason: string; excerpt: string }

export interface DecoderProfile {
  decoder: DecoderSpec
  variables: Readonly<Record<string, string>>
}

/** A value as JSON text, cut short: strings show their quotes. */
function shown(v: unknown): string {
  // JSON.stringify returns undefined for undefined and functions, whatever its declared type says.
  const json = JSON.stringify(v) as string | undefined
  return excerpt(json ?? String(v))
}

const PATH_TOKEN = /([^.[\]]+)|\[(\d+)\]/g

/** The value at `a.b[0].c`, or undefined. Own properties only: a path cannot reach `__proto__`. */
export function valueAt(root: unknown, path: string): unknown {
  let node = root
  for (const m of path.matchAll(PATH_TOKEN)) {
    if (typeof node !== 'object' || node === null) return undefined
    const key = m[1] ?? m[2] ?? ''
    if (!Object.hasOwn(node, key)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

const failed = (reason: string, payload: VendorPayload): DecodeResult => ({ ok: false, reason, excerpt: excerpt(payload.json ?? payload.bytes.toString('base64')) })

/** `key` names whose decoder this is for the sandbox's fairness and breaker: the profile's id. */
export async function decodePayload(profile: DecoderProfile, payload: VendorPayload, sandbox: DecoderSandbox, key?: string): Promise<DecodeResult> {
  const spec = profile.decoder
  let source: unknown
  const warnings: string[] = []
  if (spec.script !== undefined) {
    const input = { bytes: [...payload.bytes], fPort: payload.fPort ?? 1, recvTime: new Date(payload.receivedAt).toISOString(), variables: profile.variables }
    const outcome = await sandbox.run(spec.script, input, key)
    if (!outcome.ok) return failed(outcome.reason, payload)
    const out = outcome.output
    if (typeof out !== 'object' || out === null || Array.isArray(out)) return failed('decodeUplink must return an object { data, warnings, errors }', payload)
    const { data, errors, warnings: said } = out as { data?: unknown; errors?: unknown; warnings?: unknown }
    if (Array.isArray(errors) && errors.length > 0) return failed(`the decoder reported errors: ${errors.map(String).join('; ').slice(0, 300)}`, payload)
    if (Array.isArray(said)) warnings.push(...said.slice(0, 10).map((w) => String(w).slice(0, 200)))
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return failed('decodeUplink returned no `data` object', payload)
    source = data
  } else {
    source = payload.json
    if (source === undefined) {
      try {
        source = JSON.parse(payload.bytes.toString('utf8')) as unknown
      } catch {
        return failed('the payload is not JSON, and the profile has no script to decode bytes', payload)
      }
    }
  }

  const values: Record<string, number | boolean> = {}
  if (spec.fields !== undefined) {
    for (const field of spec.fields) {
      const v = mapField(field, valueAt(source, field.path))
      if (v === undefined) continue
      if (typeof v === 'string') return failed(v, payload)
      values[field.metric] = v
    }
  } else {
    for (const [key, v] of Object.entries(source as Record<string, unknown>)) {
      if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) values[key] = v
      else return failed(`the decoder returned ${shown(v)} for "${key}", not a number or boolean (map other fields with decoder.fields)`, payload)
    }
  }
  if (Object.keys(values).length === 0) return failed('the decoder produced no values', payload)

  let ts: number | undefined
  if (spec.time !== undefined) {
    const raw = valueAt(source, spec.time.path)
    ts = spec.time.format === 'iso' ? (typeof raw === 'string' ? Date.parse(raw) : NaN) : typeof raw === 'number' ? raw * (spec.time.format === 's' ? 1000 : 1) : NaN
    if (!Number.isFinite(ts)) return failed(`${spec.time.path}: expected a time (${spec.time.format}), got ${shown(raw)}`, payload)
    ts = Math.round(ts)
  }
  return { ok: true, entries: [ts === undefined ? { values } : { ts, values }], warnings }
}

/** One mapped value; undefined when an optional field is absent; a string says what is wrong. */
function mapField(f: FieldMapping, raw: unknown): number | boolean | string | undefined {
  if (raw === undefined || raw === null) return f.optional ? undefined : `${f.path}: missing from the payload`
  let v: unknown = raw
  if (f.map !== undefined) {
    const key = typeof raw === 'string' ? raw : JSON.stringify(raw)
    if (!Object.hasOwn(f.map, key)) return `${f.path} = ${shown(raw)} is none of ${Object.keys(f.map).join(', ')}`
    v = f.map[key]
  }
  // Platforms often send numbers as text ("12.5").
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) v = Number(v)
  if (typeof v === 'boolean' && f.scale === undefined && f.offset === undefined && f.convert === undefined) return v
  if (typeof v === 'boolean') v = v ? 1 : 0
  if (typeof v !== 'number' || !Number.isFinite(v)) return `${f.path}: expected a number, got ${shown(raw)}`
  let n = v * (f.scale ?? 1) + (f.offset ?? 0)
  if (f.convert !== undefined) n = CONVERSIONS[f.convert](n)
  return n
}
