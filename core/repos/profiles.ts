// SQL for device profiles. The definition is stored whole, as validated by core/profiles/schema.ts.
import type { Queryable } from '../db/client.ts'
import type { DeviceKind } from '../contract.ts'

export interface StoredProfile {
  id: string
  kind: DeviceKind
  definition: Record<string, unknown>
  builtin: boolean
  /** Devices using the profile. */
  devices: number
  createdAt: Date
  updatedAt: Date
}

const COLUMNS = `p.id, p.kind, p.definition, p.builtin, p.created_at AS "createdAt", p.updated_at AS "updatedAt",
  (SELECT count(*)::int FROM devices d WHERE d.profile_id = p.id) AS devices`

export async function listProfiles(db: Queryable): Promise<StoredProfile[]> {
  return db.query<StoredProfile>(`SELECT ${COLUMNS} FROM device_profiles p ORDER BY p.id`)
}

export async function getProfile(db: Queryable, id: string): Promise<StoredProfile | undefined> {
  const [row] = await db.query<StoredProfile>(`SELECT ${COLUMNS} FROM device_profiles p WHERE p.id = $1`, [id])
  return row
}

/**
 * The channel on which a changed profile is announced (payload: its id), so every process drops
 * the decoders it cached (core/profiles/cache.ts). Delivered at commit, like DEVICE_CHANGED_CHANNEL.
 */
export const PROFILE_CHANGED_CHANNEL = 'hb_profile_changed'

/** Creates or replaces a profile, announcing it on PROFILE_CHANGED_CHANNEL; returns whether it was new. */
export async function upsertProfile(db: Queryable, p: { id: string; kind: DeviceKind; definition: object }): Promise<boolean> {
  const [row] = await db.query<{ inserted: boolean }>(
    `INSERT INTO device_profiles (id, kind, definition) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, definition = EXCLUDED.definition, updated_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [p.id, p.kind, JSON.stringify(p.definition)],
  )
  await db.query('SELECT pg_notify($1, $2)', [PROFILE_CHANGED_CHANNEL, p.id])
  return row?.inserted ?? false
}

/** Adds the shipped profiles that are missing; ones an operator changed or deleted stay so. */
export async function seedProfiles(db: Queryable, profiles: readonly { id: string; kind: DeviceKind; definition: object }[]): Promise<number> {
  let added = 0
  for (const p of profiles) {
    const rows = await db.query(
      `INSERT INTO device_profiles (id, kind, definition, builtin) VALUES ($1, $2, $3, true) ON CONFLICT (id) DO NOTHING RETURNING 1`,
      [p.id, p.kind, JSON.stringify(p.definition)],
    )
    added += rows.length
  }
  return added
}

/** Deletes an unused profile; false when there is none, 'in_use' when devices still use it. */
export async function deleteProfile(db: Queryable, id: string): Promise<boolean | 'in_use'> {
  const rows = await db.query<{ used: boolean }>(
    `WITH used AS (SELECT EXISTS (SELECT 1 FROM devices WHERE profile_id = $1) AS used),
          gone AS (DELETE FROM device_profiles WHERE id = $1 AND NOT (SELECT used FROM used) RETURNING 1)
     SELECT (SELECT used FROM used) AS used FROM device_profiles WHERE id = $1
     UNION ALL SELECT false FROM gone`,
    [id],
  )
  if (rows.length === 0) return false
  return rows.some((r) => r.used) ? 'in_use' : true
}

/** What an entry point needs to decode a device's payload: its profile's definition, if any. */
export async function profileOfDevice(db: Queryable, deviceId: string): Promise<{ id: string; definition: Record<string, unknown> } | undefined> {
  const [row] = await db.query<{ id: string; definition: Record<string, unknown> }>(
    `SELECT p.id, p.definition FROM devices d JOIN device_profiles p ON p.id = d.profile_id WHERE d.id = $1`,
    [deviceId],
  )
  return row
}

/**
 * A device's profile link and its definition: `profileId` null for a device without a profile;
 * undefined when no such device exists.
 */
export async function decodingOfDevice(db: Queryable, deviceId: string): Promise<{ profileId: string | null; definition: Record<string, unknown> | null } | undefined> {
  const [row] = await db.query<{ profileId: string | null; definition: Record<string, unknown> | null }>(
    `SELECT d.profile_id AS "profileId", p.definition FROM devices d LEFT JOIN device_profiles p ON p.id = d.profile_id WHERE d.id = $1`,
    [deviceId],
  )
  return row
}
