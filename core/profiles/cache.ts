// Which decoder a device's payloads go through, cached: intake/device-payload.ts read the device's profile
// from the database (and validated it again) for every payload of every HTTP entry point.
//
// Kept per device: no profile, the validated decoder, or "the stored profile no longer validates"
// (so that dead letter keeps its reason). Only known devices are cached: a device created a
// moment later (CSV onboarding) must not meet a stale "unknown". Invalidated by the owner of the
// cache on DEVICE_CHANGED_CHANNEL (the device's profile link changed) and PROFILE_CHANGED_CHANNEL
// (a profile was edited: everything is dropped, profile edits are rare); the TTL bounds what a
// missed notification can keep stale. Bounded: the oldest entries go first.
import type { Queryable } from '../db/client.ts'
import type { DecoderProfile } from '../decoders/decode.ts'
import { decodingOfDevice } from '../repos/profiles.ts'
import { TtlCache, type TtlCacheOptions } from '../ttl-cache.ts'
import { profileSchema } from './schema.ts'

export type DeviceDecoding =
  | { profileId: null }
  | { profileId: string; decoder: DecoderProfile | undefined }
  | { profileId: string; invalid: true }

export type ProfileCacheOptions = TtlCacheOptions

export const DEFAULT_PROFILE_CACHE: ProfileCacheOptions = { ttlMs: 60_000, maxEntries: 50_000 }

/** Reads a device's decoding from the database: undefined when no such device exists. */
export async function readDecoding(db: Queryable, deviceId: string): Promise<DeviceDecoding | undefined> {
  const row = await decodingOfDevice(db, deviceId)
  if (!row) return undefined
  if (row.profileId === null || row.definition === null) return { profileId: null }
  const parsed = profileSchema.safeParse(row.definition)
  if (!parsed.success) return { profileId: row.profileId, invalid: true }
  const { decoder, variables } = parsed.data
  return { profileId: row.profileId, decoder: decoder ? { decoder, variables } : undefined }
}

export class ProfileCache {
  private readonly entries: TtlCache<DeviceDecoding>
  /** Bumped by every invalidation: a read under way then must not store what it read. */
  private generation = 0
  /** Lookups answered from the cache / read from the database; for the metrics and tests. */
  hits = 0
  misses = 0

  constructor(opts: ProfileCacheOptions = DEFAULT_PROFILE_CACHE) {
    this.entries = new TtlCache(opts)
  }

  async get(db: Queryable, deviceId: string): Promise<DeviceDecoding | undefined> {
    const hit = this.entries.get(deviceId)
    if (hit) {
      this.hits++
      return hit
    }
    this.misses++
    const generation = this.generation
    const decoding = await readDecoding(db, deviceId)
    if (decoding && generation === this.generation) this.entries.set(deviceId, decoding)
    return decoding
  }

  forgetDevice(deviceId: string): void {
    this.generation++
    this.entries.delete(deviceId)
  }

  clear(): void {
    this.generation++
    this.entries.clear()
  }
}
