// Rule definitions: what an operator posts to the rules API and what the default catalogue is
// written in. One zod schema per rule type; the checks that need the metric catalogue or more than
// one field run once the shape is right, and every message names the field and what to fix.
import { z } from 'zod'
import { DEVICE_KINDS, METRICS, idSchema, metricSpec, type DeviceKind, type MetricSpec } from '../core/contract.ts'
import { UNIT_MS, formatDuration, parseDuration } from '../shared/duration.ts'
import { SEVERITIES, type Severity } from '../shared/domain.ts'

export { SEVERITIES, type Severity }

export const RULE_TYPES = ['threshold', 'count', 'rate', 'nodata', 'forecast'] as const
export type RuleType = (typeof RULE_TYPES)[number]

export const OPS = ['>', '>=', '<', '<='] as const
export type Op = (typeof OPS)[number]

// ---- Durations ------------------------------------------------------------------------------

const DURATION_HINT = 'expected a duration such as "30s", "5m", "1h", "2d" or a number of milliseconds'
/** Longest window or delay a rule may use: beyond it the state kept per device grows without purpose. */
const MAX_DURATION_MS = 30 * UNIT_MS.d

export { formatDuration, parseDuration }

function duration(minMs: number) {
  return z.union([z.number(), z.string()], { error: DURATION_HINT }).transform((input, ctx) => {
    const ms = typeof input === 'number' ? input : parseDuration(input)
    if (ms === undefined || !Number.isInteger(ms)) {
      ctx.addIssue({ code: 'custom', message: `${DURATION_HINT} (got ${JSON.stringify(input)})` })
      return z.NEVER
    }
    if (ms < minMs || ms > MAX_DURATION_MS) {
      ctx.addIssue({ code: 'custom', message: `must be between ${formatDuration(minMs)} and ${formatDuration(MAX_DURATION_MS)} (got ${formatDuration(ms)})` })
      return z.NEVER
    }
    return ms
  })
}

// ---- Parameters per rule type -----------------------------------------------------------------
// Each type has its field schemas once: the params object applies constant defaults, the per-device
// override is the same fields, all optional and without defaults (so an override only changes what
// it names). Cross-field and catalogue checks are in `paramProblems`, run on params and on each
// params+override merge alike.

const metric = z.string().min(1).max(64)
const op = z.enum(OPS, { error: `op must be one of ${OPS.join(' ')}` })

const thresholdFields = {
  metric,
  op,
  value: z.number(),
  /** How long the condition must hold, uninterrupted, before the rule raises (0 = at once). */
  for: duration(0),
  /** Hysteresis: clears only once the reading is strictly past `clear.value` (default: `value`) for `clear.for`. */
  clear: z.strictObject({ value: z.number().optional(), for: duration(0).optional() }),
  /** Further conditions on other metrics of the device: the rule's condition holds when any does. */
  or: z.array(z.strictObject({ metric, op, value: z.number(), clear: z.strictObject({ value: z.number() }).optional() })).max(8),
}
const thresholdParams = z.strictObject({
  ...thresholdFields,
  for: thresholdFields.for.default(0),
  clear: thresholdFields.clear.optional(),
  or: thresholdFields.or.optional(),
})

const countFields = {
  metric,
  /** `occurrences`: readings meeting op/value; `sum`: the sum of the readings (op/value, if set, filter them). */
  mode: z.enum(['occurrences', 'sum'], { error: 'mode must be "occurrences" or "sum"' }),
  op,
  value: z.number(),
  /** Raises when the occurrences (or the sum) within the window reach this. */
  count: z.number().positive(),
  window: duration(1000),
}
const countParams = z.strictObject({ ...countFields, mode: countFields.mode.default('occurrences'), op: op.optional(), value: countFields.value.optional() })

const rateFields = {
  metric,
  window: duration(1000),
  /** Rates are stated per this duration, e.g. cm per 10 min. */
  per: duration(1000),
  rise: z.number().positive(),
  /** A magnitude: raises when the reading falls faster than this. */
  fall: z.number().positive(),
}
const rateParams = z.strictObject({ ...rateFields, rise: rateFields.rise.optional(), fall: rateFields.fall.optional() })

const nodataFields = {
  /** Silence that raises; when unset, `factor` × the device's expected reporting interval. */
  after: duration(1000),
  factor: z.number().min(1),
  /** Delay after a broker `offline` status (Last Will) before raising, to ride out a quick reconnect. */
  offlineGrace: duration(0),
}
const nodataParams = z.strictObject(nodataFields).partial()

const forecastFields = {
  metric,
  op: z.enum(['<', '>'], { error: 'op must be "<" or ">" (the direction the trend must not cross value)' }),
  value: z.number(),
  /** Readings the linear trend is fitted over. */
  window: duration(1000),
  /** How far ahead a predicted crossing raises. */
  horizon: duration(1000),
  minSamples: z.number().int().min(3),
}
const forecastParams = z.strictObject({ ...forecastFields, minSamples: forecastFields.minSamples.default(5) })

// ---- The rule ---------------------------------------------------------------------------------

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/

const scope = z
  .strictObject({ kind: z.enum(DEVICE_KINDS, { error: `scope.kind must be one of ${DEVICE_KINDS.join(', ')}` }).optional(), communityId: idSchema.optional(), deviceId: idSchema.optional() })
  .refine((s) => s.kind !== undefined || s.deviceId !== undefined, { message: 'set scope.kind or scope.deviceId: which devices the rule watches' })

const common = {
  id: z.string().max(64).regex(SLUG, 'id must be a lower-case slug such as "tank-below-reserve"'),
  name: z.string().min(1).max(120),
  /** One line: why the condition matters (rendered into the README's catalogue table). */
  description: z.string().min(1).max(300),
  severity: z.enum(SEVERITIES, { error: `severity must be one of ${SEVERITIES.join(', ')}` }),
  scope,
  enabled: z.boolean().default(true),
  /** true: the alert resolves itself when the condition clears; false: a person must resolve it. */
  autoResolve: z.boolean().default(true),
  /** After a manual resolve while the condition is still active, how long before it is raised again. */
  rearmAfter: duration(0).default(10 * UNIT_MS.m),
  /** Override the severity's acknowledge / resolve deadlines. */
  ackDeadline: duration(1000).optional(),
  resolveDeadline: duration(1000).optional(),
  /** More than `maxTransitions` raise/clear transitions within `window` → one alert marked flapping. */
  flapping: z.strictObject({ maxTransitions: z.number().int().min(1), window: duration(1000) }).optional(),
}

/** Per-device parameter overrides: device id → the params fields to change for that device. */
const overrides = <T extends z.ZodType>(partial: T) =>
  z.record(idSchema, partial, { error: (issue) => (issue.code === 'invalid_key' ? `override keys are device ids, ${issue.issues[0]?.message ?? 'invalid'}` : undefined) }).optional()

const variants = [
  z.strictObject({ ...common, type: z.literal('threshold'), params: thresholdParams, overrides: overrides(z.strictObject(thresholdFields).partial()) }),
  z.strictObject({ ...common, type: z.literal('count'), params: countParams, overrides: overrides(z.strictObject(countFields).partial()) }),
  z.strictObject({ ...common, type: z.literal('rate'), params: rateParams, overrides: overrides(z.strictObject(rateFields).partial()) }),
  z.strictObject({ ...common, type: z.literal('nodata'), params: nodataParams.default({}), overrides: overrides(nodataParams) }),
  z.strictObject({ ...common, type: z.literal('forecast'), params: forecastParams, overrides: overrides(z.strictObject(forecastFields).partial()) }),
] as const

export const ruleDefinitionSchema = z
  .discriminatedUnion('type', [...variants], { error: `type must be one of ${RULE_TYPES.join(', ')}` })
  .superRefine((rule, ctx) => {
    for (const p of ruleProblemList(rule, rule.scope.kind)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message })
  })

export type RuleDefinition = z.output<typeof ruleDefinitionSchema>
/** What an operator may write: durations as strings, defaults omitted. */
export type RuleDefinitionInput = z.input<typeof ruleDefinitionSchema>
export type RuleOf<T extends RuleType> = Extract<RuleDefinition, { type: T }>
export type ParamsOf<T extends RuleType> = RuleOf<T>['params']
export type ThresholdParams = ParamsOf<'threshold'>
export type CountParams = ParamsOf<'count'>
export type RateParams = ParamsOf<'rate'>
export type NodataParams = ParamsOf<'nodata'>
export type ForecastParams = ParamsOf<'forecast'>

/**
 * The rule's params with the device's override (if any) applied. The merge is shallow: an
 * override's `clear` (or `or`) replaces the params' one as a whole.
 */
export function paramsFor<R extends RuleDefinition>(rule: R, deviceId: string): R['params'] {
  const override: object | undefined = rule.overrides?.[deviceId]
  if (override === undefined) return rule.params
  const set: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(override)) if (value !== undefined) set[key] = value
  // Each override field was validated by the same field schema as the params, and the merge by
  // `paramProblems`, so the result is this rule type's params.
  return { ...rule.params, ...set }
}

/** Does the rule watch this device? */
export function ruleAppliesTo(rule: RuleDefinition, device: { id: string; kind: DeviceKind; communityId?: string | null }): boolean {
  const s = rule.scope
  return (s.kind === undefined || s.kind === device.kind) && (s.deviceId === undefined || s.deviceId === device.id) && (s.communityId === undefined || s.communityId === device.communityId)
}

/** The metrics whose readings the rule reads; `'any'` for nodata (a reading of any metric counts). */
export function ruleMetrics(rule: RuleDefinition, deviceId?: string): readonly string[] | 'any' {
  switch (rule.type) {
    case 'nodata':
      return 'any'
    case 'threshold': {
      const p = deviceId === undefined ? rule.params : paramsFor(rule, deviceId)
      return [p.metric, ...(p.or ?? []).map((c) => c.metric)]
    }
    case 'count':
    case 'rate':
    case 'forecast':
      return [(deviceId === undefined ? rule.params : paramsFor(rule, deviceId)).metric]
  }
}

/**
 * Problems with a parsed rule against the catalogue of `kind` (e.g. for a rule scoped to one device
 * only, whose kind the API looks up), as "path: message" lines. Empty when it is fine.
 */
export function ruleProblems(rule: RuleDefinition, kind: DeviceKind | undefined): string[] {
  return ruleProblemList(rule, kind).map((p) => `${p.path.join('.')}: ${p.message}`)
}

/** Zod issues as "path: message" lines for an API error body or a log. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
}

// ---- Checks that need more than one field --------------------------------------------------

interface Problem {
  path: (string | number)[]
  message: string
}

function ruleProblemList(rule: RuleDefinition, kind: DeviceKind | undefined): Problem[] {
  const out: Problem[] = []
  const { ackDeadline, resolveDeadline } = rule
  if (ackDeadline !== undefined && resolveDeadline !== undefined && resolveDeadline < ackDeadline) {
    out.push({ path: ['resolveDeadline'], message: `must not be shorter than ackDeadline (${formatDuration(ackDeadline)})` })
  }
  out.push(...paramProblems(rule, undefined, kind).map((p) => ({ ...p, path: ['params', ...p.path] })))
  for (const deviceId of Object.keys(rule.overrides ?? {})) {
    const merged = paramProblems(rule, deviceId, kind)
    out.push(...merged.map((p) => ({ path: ['overrides', deviceId, ...p.path], message: `${p.message} (with this device's override applied)` })))
  }
  return out
}

/** Problems with the rule's params, or with its params merged with one device's override. */
function paramProblems(rule: RuleDefinition, deviceId: string | undefined, kind: DeviceKind | undefined): Problem[] {
  const out: Problem[] = []
  switch (rule.type) {
    case 'threshold': {
      const p = deviceId === undefined ? rule.params : paramsFor(rule, deviceId)
      out.push(...conditionProblems(kind, [], p.metric, p.op, p.value, p.clear?.value))
      p.or?.forEach((c, i) => out.push(...conditionProblems(kind, ['or', i], c.metric, c.op, c.value, c.clear?.value)))
      break
    }
    case 'count': {
      const p = deviceId === undefined ? rule.params : paramsFor(rule, deviceId)
      if (p.mode === 'occurrences' && (p.op === undefined || p.value === undefined)) {
        out.push({ path: [p.op === undefined ? 'op' : 'value'], message: 'op and value are required in mode "occurrences": they say which readings count' })
      }
      if (p.mode === 'occurrences' && !Number.isInteger(p.count)) out.push({ path: ['count'], message: 'must be a whole number of occurrences' })
      out.push(...metricProblems(kind, [], p.metric, p.value))
      break
    }
    case 'rate': {
      const p = deviceId === undefined ? rule.params : paramsFor(rule, deviceId)
      if (p.rise === undefined && p.fall === undefined) out.push({ path: ['rise'], message: 'set rise, fall or both: the change per `per` beyond which the rule raises' })
      out.push(...metricProblems(kind, [], p.metric, undefined))
      break
    }
    case 'forecast': {
      const p = deviceId === undefined ? rule.params : paramsFor(rule, deviceId)
      out.push(...metricProblems(kind, [], p.metric, p.value))
      break
    }
    case 'nodata':
      break
  }
  return out
}

function conditionProblems(kind: DeviceKind | undefined, at: (string | number)[], name: string, o: Op, value: number, clearValue: number | undefined): Problem[] {
  const out = metricProblems(kind, at, name, value)
  const spec = kind === undefined ? undefined : metricSpec(kind, name)
  if (clearValue !== undefined) {
    const above = o === '>' || o === '>='
    if (above ? clearValue > value : clearValue < value) {
      out.push({
        path: [...at, 'clear', 'value'],
        message: `clear.value must be ${above ? 'below' : 'above'} value for op '${o}' (hysteresis): the alert clears once the reading is back ${above ? 'below' : 'above'} clear.value, so ${clearValue} would clear while still raised`,
      })
    }
    if (spec !== undefined && !inRange(spec, clearValue)) out.push(rangeProblem([...at, 'clear', 'value'], name, spec, clearValue))
  }
  if (spec !== undefined && inRange(spec, value) && ((o === '>' && value >= spec.max) || (o === '<' && value <= spec.min))) {
    out.push({ path: [...at, 'value'], message: `${name} ${o} ${value} can never hold: the metric's range is ${spec.min}–${spec.max} ${spec.unit}` })
  }
  return out
}

function metricProblems(kind: DeviceKind | undefined, at: (string | number)[], name: string, value: number | undefined): Problem[] {
  if (kind === undefined) return []
  const spec = metricSpec(kind, name)
  if (spec === undefined) {
    return [{ path: [...at, 'metric'], message: `"${name}" is not a metric of kind ${kind}; expected one of ${Object.keys(METRICS[kind]).join(', ')}` }]
  }
  return value === undefined || inRange(spec, value) ? [] : [rangeProblem([...at, 'value'], name, spec, value)]
}

function inRange(spec: MetricSpec, value: number): boolean {
  return value >= spec.min && value <= spec.max
}

function rangeProblem(path: (string | number)[], name: string, spec: MetricSpec, value: number): Problem {
  return { path, message: `${value} is outside the physical range of ${name} (${spec.min}–${spec.max} ${spec.unit})` }
}
