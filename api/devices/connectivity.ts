// Is a device online? What its broker connection said (CONNECT, DISCONNECT, the Last Will) wins;
// an unresolved alert of an offline rule (the rules engine saw it or its gateway go silent) marks
// it offline too. A device that never reported a status — one behind a gateway, one from before
// status messages — is judged by its readings: online while the newest one is younger than
// SILENT_INTERVALS expected intervals. So is a device whose last status is `offline` but whose
// readings arrived after it (a DTU that lost its MQTT link and posts over HTTP, a Last Will
// followed by pushes through a platform): the readings are the newer evidence. Shared by the
// device page and the map.
import { z } from 'zod'
import type { DeviceConnectivity } from '../../core/repos/map.ts'
import { timestamp } from '../schemas.ts'

/** Expected intervals without a reading after which a device with no status is offline (the offline rules' own margin is similar). */
export const SILENT_INTERVALS = 3

export const CONNECTIVITY = ['online', 'offline', 'unknown'] as const

/** Most devices one map (and the overview's count) carries; a larger district is `truncated` (the device list pages through all). */
export const MAP_MAX_DEVICES = 20_000

export const connectivitySchema = z.object({
  connectivity: z.enum(CONNECTIVITY).describe(`online / offline; unknown when the device never reported a status or a reading. Without a status message, or with readings newer than an offline one, online means a reading within ${SILENT_INTERVALS} expected intervals`),
  basis: z.enum(['status', 'alert', 'readings']).nullable().describe('What decided it: the status message, an unresolved offline alert, or the age of the newest reading'),
  lastSeenAt: timestamp.nullable().describe('The newest reading or status change, whichever is later'),
})

export type Connectivity = z.infer<typeof connectivitySchema>

export function connectivityOf(d: DeviceConnectivity, now: Date): Connectivity {
  const times = [d.lastReadingAt, d.statusChangedAt].filter((t): t is Date => t !== null).map((t) => t.getTime())
  const lastSeenAt = times.length > 0 ? new Date(Math.max(...times)) : null
  const heardSince = d.status === 'offline' && d.lastReadingAt !== null && (d.statusChangedAt === null || d.lastReadingAt > d.statusChangedAt)
  const status = heardSince ? null : d.status
  if (d.offlineAlert && status !== 'offline') return { connectivity: 'offline', basis: 'alert', lastSeenAt }
  if (status !== null) return { connectivity: status, basis: 'status', lastSeenAt }
  if (d.lastReadingAt === null) return { connectivity: 'unknown', basis: null, lastSeenAt }
  const fresh = now.getTime() - d.lastReadingAt.getTime() <= SILENT_INTERVALS * d.expectedIntervalS * 1000
  return { connectivity: fresh ? 'online' : 'offline', basis: 'readings', lastSeenAt }
}
