import { describe, expect, it } from 'vitest'
import {
  describeIssues,
  formatDuration,
  paramsFor,
  parseDuration,
  ruleAppliesTo,
  ruleDefinitionSchema,
  ruleMetrics,
  ruleProblems,
} from '../../rules/definitions.ts'
import { rule } from './harness.ts'

const base = { id: 'a-rule', name: 'A rule', description: 'why', severity: 'major' }
const tilt = { metric: 'cover_tilt_deg', op: '>', value: 30 }

/** The "path: message" lines a definition is rejected with ([] when it parses). */
function problems(input: Record<string, unknown>): string[] {
  const r = ruleDefinitionSchema.safeParse({ ...base, ...input })
  return r.success ? [] : describeIssues(r.error)
}

describe('durations', () => {
  it('accept "30s", "5m", "1.5h", "2d", "250ms" and milliseconds, normalised to ms', () => {
    expect(['30s', '5m', '1.5h', '2d', '250ms', ' 10 m '].map(parseDuration)).toEqual([30_000, 300_000, 5_400_000, 172_800_000, 250, 600_000])
    expect(parseDuration('5 minutes')).toBeUndefined()
    const r = rule({ type: 'threshold', scope: { kind: 'manhole' }, params: { ...tilt, op: '>', for: '90s' }, rearmAfter: 60_000 })
    expect(r.type === 'threshold' && r.params.for).toBe(90_000)
    expect(r.rearmAfter).toBe(60_000)
  })

  it('format in the largest exact unit', () => {
    expect([0, 250, 90_000, 600_000, 3_600_000, 86_400_000].map(formatDuration)).toEqual(['0s', '250ms', '90s', '10m', '1h', '1d'])
  })

  it('reject anything else, saying what is expected', () => {
    expect(problems({ type: 'nodata', scope: { kind: 'gateway' }, params: { after: '5 minutes' } })).toEqual([
      'params.after: expected a duration such as "30s", "5m", "1h", "2d" or a number of milliseconds (got "5 minutes")',
    ])
    expect(problems({ type: 'nodata', scope: { kind: 'gateway' }, rearmAfter: '40d' })).toEqual(['rearmAfter: must be between 0s and 30d (got 40d)'])
  })
})

describe('rule definitions', () => {
  it('fill in the defaults', () => {
    const r = rule({ type: 'nodata', scope: { kind: 'gateway' } })
    expect(r).toMatchObject({ enabled: true, autoResolve: true, rearmAfter: 600_000, params: {} })
  })

  it('say which side clear.value must be on (hysteresis)', () => {
    expect(problems({ type: 'threshold', scope: { kind: 'manhole' }, params: { ...tilt, clear: { value: 35 } } })).toEqual([
      "params.clear.value: clear.value must be below value for op '>' (hysteresis): the alert clears once the reading is back below clear.value, so 35 would clear while still raised",
    ])
    const low = { metric: 'water_level_m', op: '<', value: 1.5, clear: { value: 1.2 } }
    expect(problems({ type: 'threshold', scope: { kind: 'fire_tank' }, params: low })).toEqual([
      "params.clear.value: clear.value must be above value for op '<' (hysteresis): the alert clears once the reading is back above clear.value, so 1.2 would clear while still raised",
    ])
  })

  it('check metrics against the catalogue of the scoped kind, naming the valid ones', () => {
    expect(problems({ type: 'threshold', scope: { kind: 'manhole' }, params: { ...tilt, metric: 'tilt' } })).toEqual([
      'params.metric: "tilt" is not a metric of kind manhole; expected one of cover_tilt_deg, cover_open, water_level_cm, gas_lel_pct, battery_pct, rssi_dbm',
    ])
    expect(problems({ type: 'forecast', scope: { kind: 'elevator' }, params: { metric: 'water_level_m', op: '<', value: 1, window: '10m', horizon: '1h' } })).toEqual([
      'params.metric: "water_level_m" is not a metric of kind elevator; expected one of running, speed_mps, car_load_kg, vibration_mg, door_faults, trapped, machine_room_temp_c',
    ])
  })

  it("check values against the metric's physical range", () => {
    expect(problems({ type: 'threshold', scope: { kind: 'manhole' }, params: { metric: 'gas_lel_pct', op: '>=', value: 120 } })).toEqual([
      'params.value: 120 is outside the physical range of gas_lel_pct (0–100 %LEL)',
    ])
    expect(problems({ type: 'threshold', scope: { kind: 'elevator' }, params: { metric: 'trapped', op: '>', value: 1 } })).toEqual([
      "params.value: trapped > 1 can never hold: the metric's range is 0–1 bool",
    ])
    expect(problems({ type: 'threshold', scope: { kind: 'manhole' }, params: { ...tilt, clear: { value: -5 } } })).toEqual([
      'params.clear.value: -5 is outside the physical range of cover_tilt_deg (0–90 deg)',
    ])
  })

  it('reject unknown fields, types and enum values by name', () => {
    expect(problems({ type: 'threshold', scope: { kind: 'manhole' }, params: { ...tilt, fro: '1m' } })).toEqual(['params: Unrecognized key: "fro"'])
    expect(problems({ type: 'thresh', scope: { kind: 'manhole' } })).toEqual(['type: type must be one of threshold, count, rate, nodata, forecast'])
    expect(problems({ type: 'nodata', scope: { kind: 'gateway' }, severity: 'urgent' })).toEqual(['severity: severity must be one of critical, major, minor, warning'])
    expect(problems({ type: 'nodata', scope: { kind: 'gateway' }, id: 'Bad Id' })).toEqual(['id: id must be a lower-case slug such as "tank-below-reserve"'])
  })

  it('need a scope kind or device', () => {
    expect(problems({ type: 'nodata', scope: { communityId: 'c-1' } })).toEqual(['scope: set scope.kind or scope.deviceId: which devices the rule watches'])
  })

  it('check what each rule type needs', () => {
    expect(problems({ type: 'count', scope: { kind: 'elevator' }, params: { metric: 'vibration_mg', count: 3, window: '5m' } })).toEqual([
      'params.op: op and value are required in mode "occurrences": they say which readings count',
    ])
    expect(problems({ type: 'count', scope: { kind: 'elevator' }, params: { metric: 'vibration_mg', op: '>', value: 1, count: 2.5, window: '5m' } })).toEqual([
      'params.count: must be a whole number of occurrences',
    ])
    expect(problems({ type: 'rate', scope: { kind: 'manhole' }, params: { metric: 'water_level_cm', window: '5m', per: '10m' } })).toEqual([
      'params.rise: set rise, fall or both: the change per `per` beyond which the rule raises',
    ])
    expect(problems({ type: 'forecast', scope: { kind: 'fire_tank' }, params: { metric: 'water_level_m', op: '<=', value: 1.5, window: '10m', horizon: '2h' } })).toEqual([
      'params.op: op must be "<" or ">" (the direction the trend must not cross value)',
    ])
    expect(problems({ type: 'nodata', scope: { kind: 'gateway' }, ackDeadline: '10m', resolveDeadline: '5m' })).toEqual([
      'resolveDeadline: must not be shorter than ackDeadline (10m)',
    ])
  })

  it('validate each override merged with the params, under the override path', () => {
    const params = { ...tilt, clear: { value: 25 } }
    expect(problems({ type: 'threshold', scope: { kind: 'manhole' }, params, overrides: { 'mh-1': { value: 20 }, 'mh-2': { metric: 'foo' } } })).toEqual([
      "overrides.mh-1.clear.value: clear.value must be below value for op '>' (hysteresis): the alert clears once the reading is back below clear.value, so 25 would clear while still raised (with this device's override applied)",
      'overrides.mh-2.metric: "foo" is not a metric of kind manhole; expected one of cover_tilt_deg, cover_open, water_level_cm, gas_lel_pct, battery_pct, rssi_dbm (with this device\'s override applied)',
    ])
    expect(problems({ type: 'threshold', scope: { kind: 'manhole' }, params, overrides: { 'mh-1': { vlaue: 40 } } })).toEqual(['overrides.mh-1: Unrecognized key: "vlaue"'])
    expect(problems({ type: 'threshold', scope: { kind: 'manhole' }, params, overrides: { 'bad id!': {} } })).toEqual([
      'overrides.bad id!: override keys are device ids, expected 1–64 characters of A–Z, a–z, 0–9, _ . : - (not starting with a symbol)',
    ])
  })

  it('check a device-scoped rule against the kind the caller looks up', () => {
    const r = rule({ type: 'threshold', scope: { deviceId: 'el-1' }, params: { metric: 'water_level_m', op: '<', value: 1 } })
    expect(ruleProblems(r, undefined)).toEqual([])
    expect(ruleProblems(r, 'elevator')).toEqual([expect.stringMatching(/^params\.metric: "water_level_m" is not a metric of kind elevator/) as unknown])
    expect(ruleProblems(r, 'fire_tank')).toEqual([])
  })
})

describe('rule helpers', () => {
  const r = rule({
    type: 'threshold',
    scope: { kind: 'fire_tank', communityId: 'c-1' },
    params: { metric: 'water_level_m', op: '<', value: 1.5, for: '60s', clear: { value: 1.6 } },
    overrides: { 'ft-big': { value: 3, clear: { value: 3.2, for: '1m' } } },
  })

  it('paramsFor applies only the named fields of the device override', () => {
    expect(paramsFor(r, 'ft-1')).toEqual({ metric: 'water_level_m', op: '<', value: 1.5, for: 60_000, clear: { value: 1.6 } })
    expect(paramsFor(r, 'ft-big')).toEqual({ metric: 'water_level_m', op: '<', value: 3, for: 60_000, clear: { value: 3.2, for: 60_000 } })
  })

  it('ruleMetrics lists what the rule reads', () => {
    expect(ruleMetrics(r)).toEqual(['water_level_m'])
    const cover = rule({ type: 'threshold', scope: { kind: 'manhole' }, params: { ...tilt, op: '>', or: [{ metric: 'cover_open', op: '>=', value: 1 }] } })
    expect(ruleMetrics(cover)).toEqual(['cover_tilt_deg', 'cover_open'])
    expect(ruleMetrics(rule({ type: 'nodata', scope: { kind: 'gateway' } }))).toBe('any')
  })

  it('ruleAppliesTo matches kind, community and device', () => {
    expect(ruleAppliesTo(r, { id: 'ft-1', kind: 'fire_tank', communityId: 'c-1' })).toBe(true)
    expect(ruleAppliesTo(r, { id: 'ft-1', kind: 'fire_tank', communityId: 'c-2' })).toBe(false)
    expect(ruleAppliesTo(r, { id: 'el-1', kind: 'elevator', communityId: 'c-1' })).toBe(false)
  })
})
