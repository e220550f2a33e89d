import { describe, expect, it } from 'vitest'
import type { DeviceKind } from '../../core/contract.ts'
import { faultAppliesTo } from '../../simulators/faults.ts'
import { SCENARIOS, planScenario } from '../../simulators/scenarios.ts'

function fleet(counts: Partial<Record<DeviceKind, number>>): { id: string; kind: DeviceKind }[] {
  return Object.entries(counts).flatMap(([kind, n]) =>
    Array.from({ length: n }, (_, i) => ({ id: `${kind}-${i}`, kind: kind as DeviceKind })),
  )
}

const devices = fleet({ manhole: 30, fire_tank: 20, elevator: 10, gateway: 2 })

describe('scenarios', () => {
  it('normal injects nothing; rain hits every manhole', () => {
    expect(planScenario('normal', devices)).toEqual([])
    const rain = planScenario('rain', devices)
    expect(rain).toHaveLength(30)
    expect(rain.every((f) => f.fault === 'rain' && f.deviceId.startsWith('manhole-'))).toBe(true)
  })

  it('hits a share of the eligible devices, at least one, the same ones for the same seed and set', () => {
    const leak = planScenario('leak', devices, { share: 0.1, seed: 4 })
    expect(leak).toHaveLength(2)
    expect(leak.every((f) => f.fault === 'tank_leak' && f.deviceId.startsWith('fire_tank-'))).toBe(true)
    expect(planScenario('leak', [...devices].reverse(), { share: 0.1, seed: 4 })).toEqual(leak)
    expect(planScenario('entrapment', fleet({ elevator: 1 }), { share: 0.1 })).toEqual([{ deviceId: 'elevator-0', fault: 'entrapment' }])
    expect(planScenario('leak', fleet({ manhole: 3 }))).toEqual([])
  })

  it('mixed spreads different faults over different devices, each one that applies', () => {
    const mixed = planScenario('mixed', devices, { share: 0.1 })
    expect(new Set(mixed.map((f) => f.fault))).toEqual(new Set(['tank_leak', 'entrapment', 'cover_displaced', 'silent', 'bad_payload']))
    expect(new Set(mixed.map((f) => f.deviceId)).size).toBe(mixed.length)
    const kindOf = new Map(devices.map((d) => [d.id, d.kind]))
    for (const f of mixed) expect(faultAppliesTo(f.fault, kindOf.get(f.deviceId) ?? 'gateway')).toBe(true)
  })

  it('every scenario plans only faults that apply', () => {
    const kindOf = new Map(devices.map((d) => [d.id, d.kind]))
    for (const name of SCENARIOS) {
      for (const f of planScenario(name, devices)) expect(faultAppliesTo(f.fault, kindOf.get(f.deviceId) ?? 'gateway'), name).toBe(true)
    }
  })
})
