// Device profiles as data: what kind of device a vendor model is, how often it reports, the rule
// settings its manufacturer recommends, and how to turn its payload into readings of the contract.
//
// A decoder has up to two stages, applied in this order:
// 1. `script`: a JavaScript `decodeUplink(input)` in the ChirpStack v4 / The Things Stack codec
//    convention — input `{ bytes, fPort, recvTime, variables }`, output `{ data, warnings, errors }`
//    — run in the WebAssembly sandbox (core/decoders/sandbox.ts);
// 2. `fields`: a declarative mapping from JSON paths to catalogue metrics, with scale, offset, unit
//    conversion and maps for words ("open" → true). It reads the script's `data` when there is a
//    script, else the JSON payload itself (a DTU's or a platform's JSON).
// With a script and no `fields`, the keys of `data` must be catalogue metrics already.
import { z } from 'zod'
import { DEVICE_KINDS, idSchema, metricSpec } from '../contract.ts'
import { parseDuration } from '../../shared/duration.ts'
import { withArticle } from '../../shared/text.ts'

/** Unit conversions a mapping may ask for; each turns the vendor's unit into the catalogue's. */
export const CONVERSIONS = {
  mm_to_m: (v: number) => v / 1000,
  mm_to_cm: (v: number) => v / 10,
  cm_to_m: (v: number) => v / 100,
  m_to_cm: (v: number) => v * 100,
  mv_to_v: (v: number) => v / 1000,
  f_to_c: (v: number) => ((v - 32) * 5) / 9,
  bar_to_kpa: (v: number) => v * 100,
  mpa_to_kpa: (v: number) => v * 1000,
  psi_to_kpa: (v: number) => v * 6.894757,
  g_to_mg: (v: number) => v * 1000,
} as const satisfies Record<string, (v: number) => number>
export type Conversion = keyof typeof CONVERSIONS

/** `a.b[0].c`: object keys (letters, digits, _ and -) and array indexes. */
export const PATH_PATTERN = /^[A-Za-z0-9_$-]+(\[\d+\]|\.[A-Za-z0-9_$-]+)*$/
const pathSchema = z.string().max(200).regex(PATH_PATTERN, 'expected a path like data.level or values[0].v (keys of letters, digits, _ - $; array indexes in [])')

const fieldSchema = z.strictObject({
  metric: z.string().min(1).max(64),
  path: pathSchema,
  /** Words or numbers the device sends, to the value stored (a boolean map: "open" → true). */
  map: z.record(z.string().max(64), z.union([z.number(), z.boolean()])).optional(),
  scale: z.number().optional(),
  offset: z.number().optional(),
  convert: z.enum(Object.keys(CONVERSIONS) as [Conversion, ...Conversion[]]).optional(),
  /** A field the payload may lack (the device sends it now and then): no dead letter when absent. */
  optional: z.boolean().optional(),
})
export type FieldMapping = z.infer<typeof fieldSchema>

const duration = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v : parseDuration(v)
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration like "30m" or milliseconds' })
    return z.NEVER
  }
  return ms
})

export const MAX_SCRIPT_CHARS = 64 * 1024

export const decoderSchema = z
  .strictObject({
    script: z.string().min(1).max(MAX_SCRIPT_CHARS).optional(),
    fields: z.array(fieldSchema).min(1).max(64).optional(),
    /** Where the payload carries its own time; without it the receive time is used. */
    time: z.strictObject({ path: pathSchema, format: z.enum(['ms', 's', 'iso']) }).optional(),
  })
  .refine((d) => d.script !== undefined || d.fields !== undefined, { message: 'a decoder needs a script, fields, or both' })
export type DecoderSpec = z.infer<typeof decoderSchema>

export const profileSchema = z
  .strictObject({
    id: idSchema,
    name: z.string().trim().min(1).max(120),
    kind: z.enum(DEVICE_KINDS),
    manufacturer: z.string().max(120).optional(),
    model: z.string().max(120).optional(),
    /** Where the payload format comes from (the vendor's manual, codec repository, …). */
    source: z.string().max(500).optional(),
    /** How often the device reports; devices given the profile take it as their expected interval. */
    reportInterval: duration.optional(),
    /** Rule parameters the manufacturer recommends, per rule id: `{ "manhole-tilt": { "above": 20 } }`. */
    ruleOverrides: z.record(z.string().min(1).max(64), z.record(z.string().min(1).max(64), z.union([z.number(), z.string().max(64), z.boolean()]))).default({}),
    /** Passed to the script as `input.variables` (ChirpStack's device-profile variables). */
    variables: z.record(z.string().min(1).max(64), z.string().max(256)).default({}),
    decoder: decoderSchema.optional(),
  })
  .superRefine((p, ctx) => {
    for (const [i, f] of (p.decoder?.fields ?? []).entries()) {
      if (metricSpec(p.kind, f.metric) === undefined) {
        ctx.addIssue({ code: 'custom', path: ['decoder', 'fields', i, 'metric'], message: `"${f.metric}" is not a metric of ${withArticle(p.kind)} device` })
      }
    }
  })
export type DeviceProfile = z.output<typeof profileSchema>
export type DeviceProfileInput = z.input<typeof profileSchema>


/**
 * The expected report interval (whole seconds, 1 s to a day) a device takes from its profile's
 * `reportInterval`; undefined when the stored definition has none or no longer validates.
 */
export function expectedIntervalOf(definition: unknown): number | undefined {
  const parsed = profileSchema.safeParse(definition)
  const every = parsed.success ? parsed.data.reportInterval : undefined
  return every === undefined ? undefined : Math.min(86_400, Math.max(1, Math.round(every / 1000)))
}
