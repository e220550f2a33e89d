// Conditions a test or an operator can switch on for one simulated device. Physical faults change
// what the model measures; `silent` and `bad_payload` change what the device sends.
import { DEVICE_KINDS, type DeviceKind } from '../core/contract.ts'

export const FAULTS = ['cover_displaced', 'rain', 'tank_leak', 'entrapment', 'silent', 'bad_payload'] as const
export type Fault = (typeof FAULTS)[number]

const APPLIES_TO: Record<Fault, readonly DeviceKind[]> = {
  /** Cover lifted or knocked aside: tilt above 30°, `cover_open` true. */
  cover_displaced: ['manhole'],
  /** A downpour: water in the well rises steadily until cleared, then drains. */
  rain: ['manhole'],
  /** Level falls linearly at the configured rate (m/min), so a forecast rule can extrapolate it. */
  tank_leak: ['fire_tank'],
  /** Car stopped with passengers inside: `trapped` true, `running` false, speed 0. */
  entrapment: ['elevator'],
  /** The device publishes nothing (its connection stays up, as with a hung sensor board). */
  silent: DEVICE_KINDS,
  /** The device publishes malformed JSON, out-of-range values or unknown metrics. */
  bad_payload: DEVICE_KINDS,
}

export function isFault(name: string): name is Fault {
  return (FAULTS as readonly string[]).includes(name)
}

export function faultAppliesTo(fault: Fault, kind: DeviceKind): boolean {
  return APPLIES_TO[fault].includes(kind)
}

export function faultKinds(fault: Fault): readonly DeviceKind[] {
  return APPLIES_TO[fault]
}

export class FaultNotApplicableError extends Error {
  constructor(
    readonly fault: Fault,
    readonly kind: DeviceKind,
  ) {
    super(`fault "${fault}" does not apply to a ${kind} (it applies to: ${APPLIES_TO[fault].join(', ')})`)
    this.name = 'FaultNotApplicableError'
  }
}
