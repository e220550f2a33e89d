// Named scenarios: which faults a fleet switches on, and on which devices. Pure and seeded, so
// the same fleet and seed always pick the same devices.
import type { DeviceKind } from '../core/contract.ts'
import { faultKinds, type Fault } from './faults.ts'
import { Rng } from './rng.ts'

export const SCENARIOS = ['normal', 'rain', 'leak', 'entrapment', 'cover', 'silent', 'bad', 'mixed'] as const
export type ScenarioName = (typeof SCENARIOS)[number]

export function isScenario(name: string): name is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(name)
}

export interface FaultAssignment {
  deviceId: string
  fault: Fault
}

export interface ScenarioOptions {
  /** Share of the eligible devices a scenario's fault hits (at least one when any is eligible). */
  share?: number
  seed?: number
}

/** Weather hits every manhole; the other faults hit a share of the devices they apply to. */
const PLAN: Record<ScenarioName, readonly { fault: Fault; all?: true }[]> = {
  normal: [],
  rain: [{ fault: 'rain', all: true }],
  leak: [{ fault: 'tank_leak' }],
  entrapment: [{ fault: 'entrapment' }],
  cover: [{ fault: 'cover_displaced' }],
  silent: [{ fault: 'silent' }],
  bad: [{ fault: 'bad_payload' }],
  // A bit of everything except the downpour, each fault on different devices where possible.
  mixed: [{ fault: 'tank_leak' }, { fault: 'entrapment' }, { fault: 'cover_displaced' }, { fault: 'silent' }, { fault: 'bad_payload' }],
}

export function planScenario(
  name: ScenarioName,
  devices: readonly { id: string; kind: DeviceKind }[],
  opts: ScenarioOptions = {},
): FaultAssignment[] {
  const share = opts.share ?? 0.1
  const rng = new Rng(opts.seed ?? 1)
  // Sorted first so the pick depends on the set of devices, not on the order they were listed in.
  const sorted = [...devices].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const taken = new Set<string>()
  const out: FaultAssignment[] = []
  for (const step of PLAN[name]) {
    const kinds = faultKinds(step.fault)
    const eligible = sorted.filter((d) => kinds.includes(d.kind))
    if (eligible.length === 0) continue
    let chosen = eligible
    if (step.all !== true) {
      const free = eligible.filter((d) => !taken.has(d.id))
      const pool = free.length > 0 ? free : eligible
      const count = Math.max(1, Math.round(share * eligible.length))
      chosen = rng.shuffle(pool).slice(0, count)
    }
    for (const d of chosen) {
      taken.add(d.id)
      out.push({ deviceId: d.id, fault: step.fault })
    }
  }
  return out
}
