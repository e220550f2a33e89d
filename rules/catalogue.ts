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
import { metricSpec, type DeviceKind } from '../core/contract.ts'
import { formatDuration, ruleDefinitionSchema, type RuleDefinition, type RuleDefinitionInput } from './definitions.ts'

/** Two cycles of raise and clear within half an hour make one alert marked flapping. */
const FLAPPING = { maxTransitions: 3, window: '30m' } as const

const KIND_NAMES: Record<DeviceKind, string> = { manhole: 'Manhole sensor', fire_tank: 'Fire tank sensor', elevator: 'Elevator monitor', gateway: 'Gateway' }

const RAW: RuleDefinitionInput[] = [
  // ---- Manhole covers
  {
    id: 'manhole-cover-displaced', name: 'Manhole cover displaced', type: 'threshold', severity: 'critical', autoResolve: false,
    description: 'An open or tilted cover is a fall hazard for pedestrians and vehicles; someone must inspect and reseat it.',
    scope: { kind: 'manhole' },
    params: { metric: 'cover_tilt_deg', op: '>', value: 30, clear: { value: 10 }, or: [{ metric: 'cover_open', op: '>=', value: 1 }] },
  },
  {
    id: 'manhole-sewer-overflow', name: 'Sewer overflow risk', type: 'threshold', severity: 'major', autoResolve: true,
    description: 'Water high in the well for 2 min: the sewer is backing up and may overflow into the street.',
    scope: { kind: 'manhole' },
    params: { metric: 'water_level_cm', op: '>', value: 120, for: '2m', clear: { value: 100, for: '1m' } },
  },
  {
    id: 'manhole-water-rising', name: 'Well water rising fast', type: 'rate', severity: 'warning', autoResolve: true,
    description: 'Water rising faster than heavy rain fills a well: a blockage downstream or a burst main, overflow to come.',
    scope: { kind: 'manhole' },
    params: { metric: 'water_level_cm', window: '5m', per: '10m', rise: 40 },
  },
  {
    id: 'manhole-gas-danger', name: 'Combustible gas in the well', type: 'threshold', severity: 'critical', autoResolve: false,
    description: 'Gas at 25 % of its lower explosive limit (a common high-alarm set point) for 30 s: explosion risk; keep people and sparks away.',
    scope: { kind: 'manhole' },
    params: { metric: 'gas_lel_pct', op: '>=', value: 25, for: '30s', clear: { value: 20 } },
  },
  {
    id: 'manhole-gas-persistent', name: 'Gas not airing out', type: 'threshold', severity: 'minor', autoResolve: true,
    description: 'Gas at 10 % LEL (the confined-space hazard limit, OSHA 1910.146) for 20 min: a leak, not a pocket airing out; no entry without ventilation.',
    scope: { kind: 'manhole' },
    params: { metric: 'gas_lel_pct', op: '>=', value: 10, for: '20m', clear: { value: 8 } },
  },
  {
    id: 'manhole-low-battery', name: 'Manhole sensor battery low', type: 'threshold', severity: 'minor', autoResolve: true,
    description: 'Battery below 15 %: replace it before the cover goes unmonitored.',
    scope: { kind: 'manhole' },
    params: { metric: 'battery_pct', op: '<', value: 15, for: '10m', clear: { value: 20 } },
  },
  // ---- Fire-fighting water tanks
  {
    id: 'fire-tank-below-reserve', name: 'Fire tank below reserve', type: 'threshold', severity: 'critical', autoResolve: false,
    description: 'Water below the fire reserve for 60 s: hydrants and sprinklers may run dry in a fire; find the leak or failed pump.',
    scope: { kind: 'fire_tank' },
    params: { metric: 'water_level_m', op: '<', value: 1.5, for: '60s', clear: { value: 1.6 } },
  },
  {
    id: 'fire-tank-reserve-forecast', name: 'Fire tank predicted below reserve', type: 'forecast', severity: 'warning', autoResolve: true,
    description: 'The level trend reaches the fire reserve within 2 h: act before the tank is short.',
    scope: { kind: 'fire_tank' },
    params: { metric: 'water_level_m', op: '<', value: 1.5, window: '10m', horizon: '2h', minSamples: 5 },
  },
  {
    id: 'fire-tank-freezing', name: 'Fire tank water near freezing', type: 'threshold', severity: 'major', autoResolve: true,
    description: 'Water below 2 °C for 5 min: ice can block the outlet and burst pipes; check the heating and insulation.',
    scope: { kind: 'fire_tank' },
    params: { metric: 'water_temp_c', op: '<', value: 2, for: '5m', clear: { value: 3 } },
  },
  {
    id: 'fire-tank-low-pressure', name: 'Fire main pressure low', type: 'threshold', severity: 'major', autoResolve: true,
    description: 'Outlet pressure below 60 kPa for 60 s: a closed valve, burst pipe or empty tank; hydrants would not deliver.',
    scope: { kind: 'fire_tank' },
    params: { metric: 'outlet_pressure_kpa', op: '<', value: 60, for: '60s', clear: { value: 65 } },
  },
  {
    id: 'fire-tank-low-battery', name: 'Fire tank sensor battery low', type: 'threshold', severity: 'minor', autoResolve: true,
    description: 'Battery below 15 %: replace it before the tank goes unmonitored.',
    scope: { kind: 'fire_tank' },
    params: { metric: 'battery_pct', op: '<', value: 15, for: '10m', clear: { value: 20 } },
  },
  // ---- Elevators
  {
    id: 'elevator-entrapment', name: 'Passengers trapped', type: 'threshold', severity: 'critical', autoResolve: false, ackDeadline: '5m', resolveDeadline: '30m',
    description: 'People trapped in the car: acknowledge within 5 min and free them within 30 min.',
    scope: { kind: 'elevator' },
    params: { metric: 'trapped', op: '>=', value: 1 },
  },
  {
    id: 'elevator-overspeed', name: 'Elevator overspeed', type: 'threshold', severity: 'critical', autoResolve: false,
    description: 'Car faster than 3.5 m/s for 5 s: the speed governor or brake may have failed; take it out of service.',
    scope: { kind: 'elevator' },
    params: { metric: 'speed_mps', op: '>', value: 3.5, for: '5s', clear: { value: 3 } },
  },
  {
    id: 'elevator-vibration', name: 'Abnormal elevator vibration', type: 'threshold', severity: 'major', autoResolve: false,
    description: 'Vibration above 1500 mg for 60 s: worn guide rails, rollers or bearings; needs an inspection.',
    scope: { kind: 'elevator' },
    params: { metric: 'vibration_mg', op: '>', value: 1500, for: '60s', clear: { value: 1000 } },
  },
  {
    id: 'elevator-door-faults', name: 'Repeated door faults', type: 'count', severity: 'minor', autoResolve: true,
    description: '3 or more door faults within 10 min: a failing door operator or a blocked sill; doors trap and injure.',
    scope: { kind: 'elevator' },
    params: { metric: 'door_faults', mode: 'sum', count: 3, window: '10m' },
  },
  {
    id: 'elevator-machine-room-hot', name: 'Machine room overheating', type: 'threshold', severity: 'major', autoResolve: true,
    description: 'Machine room above 40 °C for 5 min: drives and controllers shut down or age fast; check the ventilation.',
    scope: { kind: 'elevator' },
    params: { metric: 'machine_room_temp_c', op: '>', value: 40, for: '5m', clear: { value: 37 } },
  },
  // ---- Any device offline
  ...(['manhole', 'fire_tank', 'elevator', 'gateway'] as const).map((kind): RuleDefinitionInput => ({
    id: `${kind.replace('_', '-')}-offline`, name: `${KIND_NAMES[kind]} offline`, type: 'nodata', severity: 'major', autoResolve: true,
    description: kind === 'gateway'
      ? 'Gateway silent for 3 expected intervals or disconnected: all its devices are unmonitored (their own offline alerts are held back under it).'
      : 'Device silent for 3 expected intervals or disconnected (Last Will): its hazards go unseen.',
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
