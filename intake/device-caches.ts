// The one way a process drops what it cached about devices when a device or a profile changes,
// here or in another process: the verified secrets (intake/device-login/verified-secrets.ts), the
// decoders by device (core/profiles/cache.ts) and the devices by platform id (IMEI, DevEUI;
// intake/device-payload.ts).
// Every holder — the API's device logins, the broker, the ChirpStack unit — listens through
// watchDeviceChanges, so none of them misses a kind of change the others react to.
//
// DEVICE_CHANGED_CHANNEL (secret rotated, disabled, profile link or DevEUI/IMEI changed): the
// device's secret and decoder are forgotten, and the platform lookups start afresh (an IMEI may
// have moved to another device). PROFILE_CHANGED_CHANNEL (a profile edited): every decoder goes.
// A payload that cannot be read drops everything rather than trust a stale entry.
import type { Db } from '../core/db/client.ts'
import type { ProfileCache } from '../core/profiles/cache.ts'
import { DEVICE_CHANGED_CHANNEL, type DeviceRecord } from '../core/repos/devices.ts'
import { PROFILE_CHANGED_CHANNEL } from '../core/repos/profiles.ts'
import type { TtlCache } from '../core/ttl-cache.ts'
import type { VerifiedSecrets } from './device-login/verified-secrets.ts'

export interface DeviceCaches {
  verified?: VerifiedSecrets | undefined
  profiles?: ProfileCache | undefined
  platformDevices?: TtlCache<DeviceRecord> | undefined
}

/** A device change as announced by updateDevice; undefined when the payload is not one. */
export interface DeviceChange {
  id: string
  /** The secret or the enabled flag changed: live sessions must end. */
  credentials: boolean
}

export function parseDeviceChange(payload: string): DeviceChange | undefined {
  try {
    const change = JSON.parse(payload) as { id?: unknown; credentials?: unknown }
    return typeof change.id === 'string' ? { id: change.id, credentials: change.credentials === true } : undefined
  } catch {
    return undefined
  }
}

/** Drops what `caches` hold when the devices or profiles change; `onDevice` hears each device change after. Returns the unlisten. */
export async function watchDeviceChanges(db: Db, caches: DeviceCaches, onDevice?: (change: DeviceChange | undefined) => void): Promise<() => Promise<void>> {
  const { verified, profiles, platformDevices } = caches
  const unlistenDevices = await db.listen(DEVICE_CHANGED_CHANNEL, (payload) => {
    const change = parseDeviceChange(payload)
    platformDevices?.clear()
    if (change) {
      verified?.forget(change.id)
      profiles?.forgetDevice(change.id)
    } else {
      verified?.clear()
      profiles?.clear()
    }
    onDevice?.(change)
  })
  const unlistenProfiles = await db.listen(PROFILE_CHANGED_CHANNEL, () => profiles?.clear())
  return async () => {
    await unlistenDevices()
    await unlistenProfiles()
  }
}
