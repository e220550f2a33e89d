// The worst unresolved alert per device and per community, and which devices are offline (an
// unresolved alert of an offline rule: the device or its gateway went silent or lost its link).
import type { Alert, Severity } from './types.ts'
import { SEVERITIES } from './types.ts'

export interface Health {
  worst: Map<string, Severity>
  offline: Set<string>
  alertOf: Map<string, Alert>
}

const rank = (s: Severity) => SEVERITIES.indexOf(s)

export function health(list: Iterable<Alert>): { devices: Health; communities: Health } {
  const devices: Health = { worst: new Map(), offline: new Set(), alertOf: new Map() }
  const communities: Health = { worst: new Map(), offline: new Set(), alertOf: new Map() }
  const note = (h: Health, id: string, a: Alert) => {
    const before = h.worst.get(id)
    if (before === undefined || rank(a.severity) < rank(before)) {
      h.worst.set(id, a.severity)
      h.alertOf.set(id, a)
    }
  }
  for (const a of list) {
    if (a.state === 'resolved') continue
    if (a.deviceId !== null) {
      note(devices, a.deviceId, a)
      if (a.ruleId.endsWith('-offline')) devices.offline.add(a.deviceId)
    }
    if (a.communityId !== null) note(communities, a.communityId, a)
  }
  return { devices, communities }
}

/** The board's severity colours (style.css --critical … --ok), so a marker reads as its badge does. */
export const SEV_COLOUR: Record<Severity | 'ok' | 'offline', string> = {
  critical: '#b71c1c',
  major: '#b34700',
  minor: '#7a5d00',
  warning: '#0d47a1',
  ok: '#1b5e20',
  offline: '#616161',
}
