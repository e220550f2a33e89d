// The default rule catalogue: data, validated by the same schema as an operator's rules when this
// module loads, so a bad default fails at start-up and in tests, not at 3 a.m.
//
// Levels were checked against the simulator models (simulators/models/*.ts), so that normal
// behaviour stays quiet and every injected fault trips its rule (test/rules/catalogue.test.ts):
// - manhole tilt reads 0–5° seated, 32–70° displaced. Natural gas pockets reach ~15 %LEL (two at
//   once ~20+) and air out with a 10 min half-life: the alarm sits at 25 %LEL, and at 10 %LEL only
//   when it lasts 20 min (neither fired over 1,500 simulated manhole-days; 10 %LEL for 60 s fired
//   1.5 times a day). Natural showers fill a well by at most 3 cm/min, the injected `rain` by
//   5 cm/min. A heavy natural downpour can fill a well past the overflow level: that is a real
//   overflow risk, and the rule says so.
// - fire tanks refill from 70 % of their 3–6 m height, so a normal level stays above ~2.1 m, and
//   use draws at most ~0.0035 m/min (0.42 m in the 2 h horizon); a leak loses 0.05 m/min. Outlet
//   pressure is 9.81 kPa per metre of head above the transmitter, ≥ ~70 kPa normally.
// - elevators run at ≤ 2.5 m/s with ≤ ~50 mg of vibration; the machine room stays below ~35 °C;
//   door faults come a handful a day.
// A real site tunes its levels per device through `overrides` (a tank's reserve depends on its
// design, a well's overflow level on its depth).
import { z } from 'zod'
import { metricSpec } from '../core/contract.ts'
import { RULE_TEXT, type CatalogueRuleId } from '../shared/catalogue-text.ts'
import { formatDuration, ruleDefinitionSchema, type RuleDefinition, type RuleDefinitionInput } from './definitions.ts'

/** Two cycles of raise and clear within half an hour make one alert marked flapping. */
const FLAPPING = { maxTransitions: 3, window: '30m' } as const

/** A rule's id with its English name and description, from the one copy of the catalogue's text. */
const named = (id: CatalogueRuleId) => ({ id, name: RULE_TEXT[id].en.title, description: RULE_TEXT[id].en.why })

const RAW: RuleDefinitionInput[] = [
  // ---- Manhole covers
  {
    ...named('manhole-cover-displaced'), type: 'threshold', severity: 'critical', autoResolve: false,
    scope: { kind: 'manhole' },
    params: { metric: 'cover_tilt_deg', op: '>', value: 30, clear: { value: 10 }, or: [{ metric: 'cover_open', op: '>=', value: 1 }] },
  },
  {
    ...named('manhole-sewer-overflow'), type: 'threshold', severity: 'major', autoResolve: true,
    scope: { kind: 'manhole' },
    params: { metric: 'water_level_cm', op: '>', value: 120, for: '2m', clear: { value: 100, for: '1m' } },
  },
  {
    ...named('manhole-water-rising'), type: 'rate', severity: 'warning', autoResolve: true,
    scope: { kind: 'manhole' },
    params: { metric: 'water_level_cm', window: '5m', per: '10m', rise: 40 },
  },
  {
    ...named('manhole-gas-danger'), type: 'threshold', severity: 'critical', autoResolve: false,
    scope: { kind: 'manhole' },
    params: { metric: 'gas_lel_pct', op: '>=', value: 25, for: '30s', clear: { value: 20 } },
  },
  {
    ...named('manhole-gas-persistent'), type: 'threshold', severity: 'minor', autoResolve: true,
    scope: { kind: 'manhole' },
    params: { metric: 'gas_lel_pct', op: '>=', value: 10, for: '20m', clear: { value: 8 } },
  },
  {
    ...named('manhole-low-battery'), type: 'threshold', severity: 'minor', autoResolve: true,
    scope: { kind: 'manhole' },
    params: { metric: 'battery_pct', op: '<', value: 15, for: '10m', clear: { value: 20 } },
  },
  // ---- Fire-fighting water tanks
  {
    ...named('fire-tank-below-reserve'), type: 'threshold', severity: 'critical', autoResolve: false,
    scope: { kind: 'fire_tank' },
    params: { metric: 'water_level_m', op: '<', value: 1.5, for: '60s', clear: { value: 1.6 } },
  },
  {
    ...named('fire-tank-reserve-forecast'), type: 'forecast', severity: 'warning', autoResolve: true,
    scope: { kind: 'fire_tank' },
    params: { metric: 'water_level_m', op: '<', value: 1.5, window: '10m', horizon: '2h', minSamples: 5 },
  },
  {
    ...named('fire-tank-freezing'), type: 'threshold', severity: 'major', autoResolve: true,
    scope: { kind: 'fire_tank' },
    params: { metric: 'water_temp_c', op: '<', value: 2, for: '5m', clear: { value: 3 } },
  },
  {
    ...named('fire-tank-low-pressure'), type: 'threshold', severity: 'major', autoResolve: true,
    scope: { kind: 'fire_tank' },
    params: { metric: 'outlet_pressure_kpa', op: '<', value: 60, for: '60s', clear: { value: 65 } },
  },
  {
    ...named('fire-tank-low-battery'), type: 'threshold', severity: 'minor', autoResolve: true,
    scope: { kind: 'fire_tank' },
    params: { metric: 'battery_pct', op: '<', value: 15, for: '10m', clear: { value: 20 } },
  },
  // ---- Elevators
  {
    ...named('elevator-entrapment'), type: 'threshold', severity: 'critical', autoResolve: false, ackDeadline: '5m', resolveDeadline: '30m',
    scope: { kind: 'elevator' },
    params: { metric: 'trapped', op: '>=', value: 1 },
  },
  {
    ...named('elevator-overspeed'), type: 'threshold', severity: 'critical', autoResolve: false,
    scope: { kind: 'elevator' },
    params: { metric: 'speed_mps', op: '>', value: 3.5, for: '5s', clear: { value: 3 } },
  },
  {
    ...named('elevator-vibration'), type: 'threshold', severity: 'major', autoResolve: false,
    scope: { kind: 'elevator' },
    params: { metric: 'vibration_mg', op: '>', value: 1500, for: '60s', clear: { value: 1000 } },
  },
  {
    ...named('elevator-door-faults'), type: 'count', severity: 'minor', autoResolve: true,
    scope: { kind: 'elevator' },
    params: { metric: 'door_faults', mode: 'sum', count: 3, window: '10m' },
  },
  {
    ...named('elevator-machine-room-hot'), type: 'threshold', severity: 'major', autoResolve: true,
    scope: { kind: 'elevator' },
    params: { metric: 'machine_room_temp_c', op: '>', value: 40, for: '5m', clear: { value: 37 } },
  },
  // ---- Any device offline
  ...(['manhole', 'fire_tank', 'elevator', 'gateway'] as const).map((kind): RuleDefinitionInput => ({
    ...named(`${kind === 'fire_tank' ? 'fire-tank' : kind}-offline`), type: 'nodata', severity: 'major', autoResolve: true,
    scope: { kind },
    params: { factor: 3 },
  })),
]

const catalogueSchema = z.array(ruleDefinitionSchema).superRefine((rules, ctx) => {
  const seen = new Set<string>()
  rules.forEach((r, i) => {
    if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate rule id "${r.id}"` })
    seen.add(r.id)
  })
})

export const DEFAULT_RULES: readonly RuleDefinition[] = catalogueSchema.parse(RAW.map((r) => ({ flapping: FLAPPING, ...r })))

/** One line saying when a rule raises, with units, for tables and logs. */
export function describeCondition(rule: RuleDefinition): string {
  const unit = (metric: string): string => {
    const spec = rule.scope.kind === undefined ? undefined : metricSpec(rule.scope.kind, metric)
    return spec === undefined || spec.boolean === true ? '' : ` ${spec.unit}`
  }
  const dur = (ms: number | undefined, word: string): string => (ms === undefined || ms === 0 ? '' : ` ${word} ${formatDuration(ms)}`)
  switch (rule.type) {
    case 'threshold': {
      const p = rule.params
      const all = [{ ...p, clear: p.clear?.value }, ...(p.or ?? []).map((c) => ({ ...c, clear: c.clear?.value }))]
      const raise = all.map((c) => `${c.metric} ${c.op} ${c.value}${unit(c.metric)}`).join(' or ')
      // The clear side is spelled out only where it differs from the raise level (hysteresis).
      const hysteresis = all.some((c) => c.clear !== undefined && c.clear !== c.value) || (p.clear?.for ?? 0) > 0
      const clear = all.map((c) => `${c.metric} ${c.op.startsWith('>') ? '<' : '>'} ${c.clear ?? c.value}${unit(c.metric)}`).join(' and ')
      return `${raise}${dur(p.for, 'for')}${hysteresis ? `; clears at ${clear}${dur(p.clear?.for, 'for')}` : ''}`
    }
    case 'count': {
      const p = rule.params
      const filter = p.op === undefined || p.value === undefined ? '' : ` ${p.op} ${p.value}`
      const what = p.mode === 'sum' ? `sum of ${p.metric}${filter ? ` readings${filter}` : ''}` : `${p.metric}${filter} readings`
      return `${what} ≥ ${p.count} within ${formatDuration(p.window)}`
    }
    case 'rate': {
      const p = rule.params
      const parts = [p.rise === undefined ? '' : `rises > ${p.rise}${unit(p.metric)}`, p.fall === undefined ? '' : `falls > ${p.fall}${unit(p.metric)}`]
      return `${p.metric} ${parts.filter(Boolean).join(' or ')} per ${formatDuration(p.per)} (fitted over ${formatDuration(p.window)})`
    }
    case 'nodata': {
      const p = rule.params
      const silence = p.after === undefined ? `${p.factor ?? 3} × the expected interval` : formatDuration(p.after)
      return `no reading for ${silence}, or Last Will \`offline\`${dur(p.offlineGrace, 'for')}`
    }
    case 'forecast': {
      const p = rule.params
      return `${p.metric} trend ${p.op} ${p.value}${unit(p.metric)} within ${formatDuration(p.horizon)} (fitted over ${formatDuration(p.window)}, ≥ ${p.minSamples} readings)`
    }
  }
}

/** The catalogue as a markdown table for the README. */
export function catalogueTable(rules: readonly RuleDefinition[] = DEFAULT_RULES): string {
  const rows = rules.map((r) => `| \`${r.id}\` | ${r.scope.kind ?? r.scope.deviceId ?? ''} | ${r.type} | ${describeCondition(r).replaceAll('|', '\\|')} | ${r.severity} | ${r.autoResolve ? 'yes' : 'no'} | ${r.description} |`)
  return ['| id | kind | type | condition | severity | auto-resolve | why |', '|---|---|---|---|---|---|---|', ...rows].join('\n')
}
