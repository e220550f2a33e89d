// The rule editor's model: which params each rule type has, how a stored definition becomes form
// text and back. Fields the form does not show (overrides, flapping, clear, or, rearmAfter) are
// kept from the stored definition when the type stays the same. Mirrors rules/definitions.ts.
import { formatDuration } from '../../../shared/duration.ts'
import { ruleText } from '../../../shared/catalogue-text.ts'
import { lang } from '../i18n/index.ts'
import type { Rule } from '../lib/types.ts'

export const RULE_TYPES = ['threshold', 'count', 'rate', 'nodata', 'forecast'] as const
export type RuleType = (typeof RULE_TYPES)[number]

export type ParamKind = 'metric' | 'op' | 'mode' | 'duration' | 'number'
export const PARAM_KIND: Record<string, ParamKind> = {
  metric: 'metric',
  op: 'op',
  mode: 'mode',
  value: 'number',
  count: 'number',
  rise: 'number',
  fall: 'number',
  factor: 'number',
  minSamples: 'number',
  for: 'duration',
  window: 'duration',
  per: 'duration',
  after: 'duration',
  offlineGrace: 'duration',
  horizon: 'duration',
}
export const PARAMS: Record<RuleType, readonly string[]> = {
  threshold: ['metric', 'op', 'value', 'for'],
  count: ['metric', 'mode', 'op', 'value', 'count', 'window'],
  rate: ['metric', 'window', 'per', 'rise', 'fall'],
  nodata: ['after', 'factor', 'offlineGrace'],
  forecast: ['metric', 'op', 'value', 'window', 'horizon', 'minSamples'],
}

export const COMMON = ['id', 'name', 'description', 'type', 'severity', 'scope', 'scope.kind', 'scope.communityId', 'scope.deviceId', 'ackDeadline', 'resolveDeadline'] as const

/** Every field path the form shows, as the API names them in its messages. */
export const KNOWN: readonly string[] = [...COMMON, ...Object.keys(PARAM_KIND).map((p) => `params.${p}`)]

export interface RuleForm {
  id: string
  name: string
  description: string
  type: RuleType
  severity: string
  kind: string
  communityId: string
  deviceId: string
  enabled: boolean
  autoResolve: boolean
  ackDeadline: string
  resolveDeadline: string
  params: Record<string, string>
}

const text = (v: unknown, key: string): string => {
  if (typeof v === 'number') return PARAM_KIND[key] === 'duration' ? formatDuration(v) : String(v)
  return typeof v === 'string' ? v : ''
}

export function formOf(rule: Rule | null): RuleForm {
  const d = (rule?.definition ?? {}) as Record<string, unknown> & { scope?: Record<string, string>; params?: Record<string, unknown> }
  const type = RULE_TYPES.find((x) => x === d.type) ?? 'threshold'
  const params: Record<string, string> = {}
  for (const p of PARAMS[type]) params[p] = text(d.params?.[p], p)
  return {
    id: rule?.id ?? '',
    name: text(d.name, 'name'),
    description: text(d.description, 'description'),
    type,
    severity: text(d.severity, 'severity') || 'major',
    kind: d.scope?.kind ?? '',
    communityId: d.scope?.communityId ?? '',
    deviceId: d.scope?.deviceId ?? '',
    enabled: rule?.enabled ?? true,
    autoResolve: d.autoResolve !== false,
    ackDeadline: typeof d.ackDeadline === 'number' ? formatDuration(d.ackDeadline) : '',
    resolveDeadline: typeof d.resolveDeadline === 'number' ? formatDuration(d.resolveDeadline) : '',
    params,
  }
}

/** The definition to send: the stored one with the form's fields written over it. */
export function definitionOf(f: RuleForm, stored: Rule | null): Record<string, unknown> {
  const base: Record<string, unknown> = stored ? structuredClone(stored.definition) : {}
  const sameType = base.type === f.type
  const kept = sameType && typeof base.params === 'object' && base.params !== null ? Object.entries(base.params) : []
  if (!sameType) delete base.overrides
  const shown = new Set(PARAMS[f.type])
  // What the form shows comes from the form (empty: left out); the rest is kept as stored.
  const params: Record<string, unknown> = Object.fromEntries(kept.filter(([k]) => !shown.has(k)))
  for (const p of PARAMS[f.type]) {
    const v = (f.params[p] ?? '').trim()
    // Durations go as typed ("5m"); the API parses them and names the field when it cannot.
    if (v !== '') params[p] = PARAM_KIND[p] === 'number' ? Number(v) : v
  }
  const scope: Record<string, string> = {}
  if (f.kind) scope.kind = f.kind
  if (f.communityId) scope.communityId = f.communityId
  if (f.deviceId.trim()) scope.deviceId = f.deviceId.trim()
  const { ackDeadline: _a, resolveDeadline: _r, ...rest } = base
  return {
    ...rest,
    id: f.id.trim(),
    name: f.name,
    description: f.description,
    type: f.type,
    severity: f.severity,
    scope,
    enabled: f.enabled,
    autoResolve: f.autoResolve,
    params,
    ...(f.ackDeadline.trim() ? { ackDeadline: f.ackDeadline.trim() } : {}),
    ...(f.resolveDeadline.trim() ? { resolveDeadline: f.resolveDeadline.trim() } : {}),
  }
}

/**
 * The rule's name as people read it: a default rule's from the catalogue in the reader's language
 * (shared/catalogue-text.ts), unless the office renamed it; any other rule's as it was given.
 */
export function ruleTitle(r: Rule): string {
  const name = r.definition.name
  if (name !== undefined && name !== ruleText(r.id, 'en')?.title) return name
  return ruleText(r.id, lang.get())?.title ?? name ?? r.id
}
