import { describe, expect, it } from 'vitest'
import type { DeviceInfo } from '../../core/device-directory.ts'
import { checkReadings, parseMessage } from '../../core/telemetry.ts'

const NOW = Date.UTC(2026, 5, 1, 12)
const devices = new Map<string, DeviceInfo>([
  ['mh-1', { id: 'mh-1', kind: 'manhole', gatewayId: 'gw-1', enabled: true }],
  ['el-1', { id: 'el-1', kind: 'elevator', gatewayId: null, enabled: true }],
  ['el-off', { id: 'el-off', kind: 'elevator', gatewayId: null, enabled: false }],
  ['gw-1', { id: 'gw-1', kind: 'gateway', gatewayId: null, enabled: true }],
])

function run(topic: string, payload: unknown) {
  const raw = typeof payload === 'string' ? payload : JSON.stringify(payload)
  const { readings, rejects } = checkReadings(parseMessage(topic, Buffer.from(raw)), devices, { receivedAt: NOW, maxFutureSkewMs: 300_000 })
  return { readings, rejects: rejects.rows() }
}

describe('telemetry validation', () => {
  it('accepts one entry, stamps a missing ts with the receive time, stores booleans as 0/1', () => {
    const r = run('hb/v1/devices/el-1/telemetry', { values: { running: true, speed_mps: 1.5, trapped: false } })
    expect(r.rejects).toEqual([])
    expect(r.readings).toEqual([
      { deviceId: 'el-1', metric: 'running', ts: NOW, value: 1 },
      { deviceId: 'el-1', metric: 'speed_mps', ts: NOW, value: 1.5 },
      { deviceId: 'el-1', metric: 'trapped', ts: NOW, value: 0 },
    ])
  })

  it('accepts RFC 3339 timestamps with an offset', () => {
    const r = run('hb/v1/devices/el-1/telemetry', { ts: '2026-06-01T19:59:00+08:00', values: { speed_mps: 1 } })
    expect(r.readings[0]?.ts).toBe(Date.UTC(2026, 5, 1, 11, 59))
  })

  it('keeps the good entries of a batch and names the path of the bad one', () => {
    const r = run('hb/v1/devices/el-1/telemetry', [
      { ts: NOW - 2000, values: { speed_mps: 1 } },
      { ts: NOW - 1000, values: { speed_mps: 'fast' } },
      { ts: NOW, values: { speed_mps: 2 }, extra: 1 },
      { ts: NOW, values: { car_load_kg: 300 } },
    ])
    expect(r.readings.map((x) => x.value)).toEqual([1, 300])
    expect(r.rejects.map((x) => x.reasonCode)).toEqual(['schema_violation', 'schema_violation'])
    expect(r.rejects[0]?.reason).toContain('[1].values.speed_mps')
    expect(r.rejects[1]?.reason).toContain('[2]')
    expect(r.rejects[1]?.reason).toContain('extra')
  })

  it.each([
    ['malformed JSON', '{"values":', 'malformed_json', 'not valid JSON'],
    ['an empty values object', { values: {} }, 'schema_violation', 'holds no metric'],
    ['a metric of another kind', { values: { water_level_m: 3 } }, 'unknown_metric', '"water_level_m" for an elevator'],
    ['a value out of physical range', { values: { speed_mps: 42 } }, 'out_of_range', 'speed_mps = 42, expected 0..20 m/s'],
    ['a boolean metric sent as 2', { values: { trapped: 2 } }, 'out_of_range', 'true/false or 0/1'],
    ['a boolean for a numeric metric', { values: { speed_mps: true } }, 'schema_violation', 'expected a number'],
    ['a timestamp an hour ahead', { ts: NOW + 3_600_000, values: { speed_mps: 1 } }, 'future_timestamp', '3600 s ahead'],
    ['epoch seconds instead of milliseconds', { ts: NOW / 1000, values: { speed_mps: 1 } }, 'invalid_timestamp', 'looks like seconds'],
    ['a date that is not a date', { ts: '2026-13-45T99:00:00Z', values: { speed_mps: 1 } }, 'schema_violation', 'ts'],
  ])('rejects %s with a precise reason', (_name, payload, code, text) => {
    const r = run('hb/v1/devices/el-1/telemetry', payload)
    expect(r.readings).toEqual([])
    expect(r.rejects).toHaveLength(1)
    expect(r.rejects[0]?.reasonCode).toBe(code)
    expect(r.rejects[0]?.reason).toContain(text)
  })

  it('rejects an unknown or disabled device', () => {
    expect(run('hb/v1/devices/ghost/telemetry', { values: { speed_mps: 1 } }).rejects[0]?.reasonCode).toBe('unknown_device')
    expect(run('hb/v1/devices/el-off/telemetry', { values: { speed_mps: 1 } }).rejects[0]?.reasonCode).toBe('unknown_device')
  })

  it('rejects a topic outside the contract', () => {
    expect(run('hb/v1/devices/el-1/other', { values: { speed_mps: 1 } }).rejects[0]?.reasonCode).toBe('unknown_topic')
  })

  it('cuts the payload excerpt to a bounded length', () => {
    const r = run('hb/v1/devices/el-1/telemetry', `{"values": "${'x'.repeat(5000)}`)
    expect(r.rejects[0]?.excerpt?.length).toBeLessThanOrEqual(513)
  })

  it('takes gateway batches only for registered children', () => {
    const r = run('hb/v1/gateways/gw-1/telemetry', {
      'mh-1': [{ ts: NOW, values: { water_level_cm: 30 } }],
      'el-1': [{ ts: NOW, values: { speed_mps: 1 } }],
      'bad id!': [{ ts: NOW, values: { x: 1 } }],
      'mh-2': 'not a list',
    })
    expect(r.readings).toEqual([{ deviceId: 'mh-1', metric: 'water_level_cm', ts: NOW, value: 30 }])
    expect(r.rejects.map((x) => x.reasonCode).sort()).toEqual(['not_a_child', 'schema_violation', 'schema_violation'])
  })

  it('refuses a gateway topic from something that is not a gateway', () => {
    const r = run('hb/v1/gateways/el-1/telemetry', { 'mh-1': [{ ts: NOW, values: { water_level_cm: 30 } }] })
    expect(r.readings).toEqual([])
    expect(r.rejects[0]?.reasonCode).toBe('unknown_device')
  })
})

describe('nothing vanishes (issue 18)', () => {
  it('dead-letters an empty batch and a gateway message without entries as empty_message', () => {
    expect(run('hb/v1/devices/el-1/telemetry', []).rejects.map((r) => r.reasonCode)).toEqual(['empty_message'])
    expect(run('hb/v1/gateways/gw-1/telemetry', {}).rejects.map((r) => r.reasonCode)).toEqual(['empty_message'])
    expect(run('hb/v1/gateways/gw-1/telemetry', { 'mh-1': [] }).rejects.map((r) => r.reasonCode)).toEqual(['empty_message'])
  })

  it('keeps the first reading of a (device, metric, ts) and dead-letters the others as duplicate_reading, entries without ts included', () => {
    const r = run('hb/v1/devices/el-1/telemetry', [
      { ts: NOW - 1000, values: { speed_mps: 1, car_load_kg: 10 } },
      { ts: NOW - 1000, values: { speed_mps: 2 } },
      { ts: NOW - 999, values: { speed_mps: 3 } },
      { values: { speed_mps: 4 } },
      { values: { speed_mps: 5 } },
    ])
    expect(r.readings.map((x) => x.value)).toEqual([1, 10, 3, 4])
    expect(r.rejects.map((x) => [x.reasonCode, x.reason.includes('[1].values.speed_mps') || x.reason.includes('[4].values.speed_mps')])).toEqual([
      ['duplicate_reading', true],
      ['duplicate_reading', true],
    ])
    expect(r.rejects[1]?.reason).toContain('no ts')
  })
})

describe('the hand-checked fast path', () => {
  // A small deterministic generator of JSON-like values, biased towards almost-valid entries.
  let seed = 42
  const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
  const pick = <T,>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const scalar = () => pick<unknown>([0, -1, 1.5, 2 ** 60, NaN, 'x', '', true, null, [], {}, Date.UTC(2026, 0, 1), '2026-01-01T00:00:00Z'])
  const entry = () => {
    const e: Record<string, unknown> = {}
    if (rnd() < 0.8) e.values = rnd() < 0.8 ? Object.fromEntries(Array.from({ length: Math.floor(rnd() * 3) }, () => [pick(['a', '', 'x'.repeat(65), 'speed_mps']), scalar()])) : scalar()
    if (rnd() < 0.5) e.ts = scalar()
    if (rnd() < 0.3) e.seq = scalar()
    if (rnd() < 0.1) e[pick(['extra', '__proto__'])] = scalar()
    return e
  }

  it('accepts exactly what the schema accepts (with at least one value), and gives the same entry', async () => {
    const { telemetryEntrySchema } = await import('../../core/contract.ts')
    const { checkEntry } = await import('../../core/telemetry.ts')
    let accepted = 0
    for (let i = 0; i < 20_000; i++) {
      const e = JSON.parse(JSON.stringify(entry())) as unknown
      const fast = checkEntry(e)
      const slow = telemetryEntrySchema.safeParse(e)
      // The one rule beyond the schema: an entry must carry at least one value.
      expect(typeof fast !== 'string', JSON.stringify(e)).toBe(slow.success && Object.keys(slow.data.values).length > 0)
      if (typeof fast === 'string') continue
      accepted++
      expect(fast).toEqual(slow.data)
    }
    expect(accepted).toBeGreaterThan(100)
  })
})

describe('bounded cost of one message', () => {
  const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`

  it('refuses a payload nested 10,000 levels deep as too_deep, with one rejection and no exception', () => {
    const r = run('hb/v1/devices/el-1/telemetry', deep(10_000))
    expect(r.readings).toEqual([])
    expect(r.rejects.map((x) => x.reasonCode)).toEqual(['too_deep'])
    expect(r.rejects[0]?.excerpt?.length).toBeLessThanOrEqual(520)
  })

  it('counts only real nesting: brackets inside strings are text', () => {
    const r = run('hb/v1/devices/el-1/telemetry', `{"values":{"speed_mps":1},"x":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`)
    expect(r.rejects.map((x) => x.reasonCode)).toEqual(['schema_violation'])
    expect(r.rejects[0]?.reason).toContain('unexpected key "x"')
  })

  it('refuses a gateway message over the entry limit with one summary rejection, before looking at any entry', () => {
    const entries = Array.from({ length: 10_001 }, () => ({ values: { nope: 'x' } }))
    const r = run('hb/v1/gateways/gw-1/telemetry', { 'mh-1': entries })
    expect(r.rejects).toHaveLength(1)
    expect(r.rejects[0]?.reasonCode).toBe('too_many_entries')
    expect(r.rejects[0]?.reason).toContain('10001 entries')
  })

  it('refuses an entry with more values than the limit as one rejection for the message', () => {
    const values = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, 1]))
    const r = run('hb/v1/devices/el-1/telemetry', [{ values: { speed_mps: 1 } }, { values }])
    expect(r.readings).toEqual([])
    expect(r.rejects.map((x) => x.reasonCode)).toEqual(['too_many_entries'])
  })

  it('words at most 100 rejections per message and sums up the rest in the last one', () => {
    const entries = Array.from({ length: 5000 }, (_, i) => (i % 2 ? { values: { speed_mps: 'x' } } : { ts: NOW, values: { nope: 1 } }))
    const r = run('hb/v1/devices/el-1/telemetry', entries)
    expect(r.rejects).toHaveLength(100)
    expect(r.rejects[99]?.reason).toMatch(/^4901 more rejections in this message \((schema_violation, unknown_metric|unknown_metric, schema_violation)\); first: /)
  })
})

describe('timestamp window', () => {
  const DAY = 24 * 3_600_000
  const check = (ts: number, maxPastAgeMs?: number) =>
    checkReadings(parseMessage('hb/v1/devices/el-1/telemetry', Buffer.from(JSON.stringify({ ts, values: { speed_mps: 1 } }))), devices, {
      receivedAt: NOW,
      ...(maxPastAgeMs === undefined ? {} : { maxPastAgeMs }),
    })

  it('refuses a reading older than the past limit (7 days by default) as too_old', () => {
    expect(check(NOW - 6 * DAY).readings).toHaveLength(1)
    const old = check(NOW - 8 * DAY)
    expect(old.readings).toEqual([])
    expect(old.rejects.rows().map((x) => x.reasonCode)).toEqual(['too_old'])
    expect(check(Date.UTC(2000, 0, 2)).rejects.rows()[0]?.reasonCode).toBe('too_old')
  })

  it('takes the past limit from the options', () => {
    expect(check(NOW - 2 * 3_600_000, 3_600_000).rejects.rows()[0]?.reasonCode).toBe('too_old')
    expect(check(NOW - 30 * DAY, 60 * DAY).readings).toHaveLength(1)
  })
})
