// "Simulate a fault" (issue 21): an admin makes a demo device report an entrapment, a displaced
// cover or a low tank, to show the office the loop on a running demo. The readings go through the
// one telemetry pipeline (intake/telemetry-sink.ts) as the HTTP device API's would, so the rules
// engine raises the alert from the committed record — nothing inserts an alert directly.
//
// Only demo devices (core/provision.ts demoLayout) unless SIMULATE_FAULTS=any; off with
// SIMULATE_FAULTS=off. A low tank needs its level under the reserve for the rule's 60 s, so that
// fault is a short series ending now (a device flushing what it buffered), not one reading.
import type { DeviceKind } from '../core/contract.ts'
import { AppError } from '../core/errors.ts'
import { demoLayout } from '../core/provision.ts'
import type { IngestResult, TelemetrySink } from './telemetry-sink.ts'

/** The faults one can simulate, with the kind of device each applies to. */
export const SIMULATED_FAULTS = {
  /** 困人: car stopped between floors with passengers inside (rule elevator-entrapment). */
  entrapment: 'elevator',
  /** 井盖位移: cover knocked aside (rule manhole-cover-displaced). */
  cover_displaced: 'manhole',
  /** 水位过低: tank below its fire reserve for over a minute (rule fire-tank-below-reserve). */
  low_level: 'fire_tank',
} as const satisfies Record<string, DeviceKind>

export type SimulatedFault = keyof typeof SIMULATED_FAULTS
export const SIMULATED_FAULT_NAMES = Object.keys(SIMULATED_FAULTS) as SimulatedFault[]

/** SIMULATE_FAULTS: which devices may be made to report a fault. */
export const SIMULATE_FAULT_MODES = ['demo', 'any', 'off'] as const
export type SimulateFaultMode = (typeof SIMULATE_FAULT_MODES)[number]

let demoIds: Set<string> | undefined
export function isDemoDevice(id: string): boolean {
  demoIds ??= new Set(demoLayout().devices.map((d) => d.id))
  return demoIds.has(id)
}

/** The entries (our telemetry contract) a device with this fault would send, the last one at `now`. */
export function faultEntries(fault: SimulatedFault, now: number): { ts: number; values: Record<string, number> }[] {
  switch (fault) {
    case 'entrapment':
      return [{ ts: now, values: { trapped: 1, running: 0, speed_mps: 0 } }]
    case 'cover_displaced':
      return [{ ts: now, values: { cover_tilt_deg: 62, cover_open: 1 } }]
    case 'low_level':
      // 90 s under the 1.5 m reserve, one reading every 30 s, falling.
      return [90, 60, 30, 0].map((ago, i) => ({ ts: now - ago * 1000, values: { water_level_m: 1.3 - i * 0.05 } }))
  }
}

/** Refuses what may not be simulated, with what to do instead (403/400 with a code). */
export function checkSimulation(mode: SimulateFaultMode, device: { id: string; kind: DeviceKind }, fault: SimulatedFault): void {
  if (mode === 'off') throw new AppError('simulation_not_allowed', 'Simulating faults is off on this server (SIMULATE_FAULTS=off)')
  if (mode === 'demo' && !isDemoDevice(device.id)) {
    throw new AppError('simulation_not_allowed', `"${device.id}" is not a demo device; faults are simulated on demo devices only unless SIMULATE_FAULTS=any`)
  }
  const kind = SIMULATED_FAULTS[fault]
  if (device.kind !== kind) throw new AppError('validation_failed', `body.fault: "${fault}" is a fault of ${kind.replace('_', ' ')} devices; "${device.id}" is a ${device.kind.replace('_', ' ')}`)
}

/** Submits the fault's readings through the pipeline; settles after their commit. */
export function submitFault(sink: TelemetrySink, deviceId: string, fault: SimulatedFault, by: string, now = Date.now()): Promise<IngestResult> {
  return sink.submit({ deviceId, source: `simulate/${deviceId}`, clientId: `simulated by ${by}`, receivedAt: now, body: { kind: 'entries', json: faultEntries(fault, now) } })
}
