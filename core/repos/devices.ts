// SQL for devices, communities and property companies.
import type { DevicePlace } from '../../shared/place.ts'
import type { DeviceKind } from '../contract.ts'
import type { Db, Queryable } from '../db/client.ts'
import { FeedBatch } from '../feed.ts'
import { appendFeed, beginFeedWrite } from './feed.ts'

export interface DeviceRecord extends DevicePlace {
  id: string
  kind: DeviceKind
  name: string | null
  communityId: string
  /** The company currently looking after the device's community. */
  companyId: string | null
  gatewayId: string | null
  enabled: boolean
  expectedIntervalS: number
  /** The device profile that decodes its payloads, if any. */
  profileId: string | null
  /** LoRaWAN DevEUI, lower-case hex. */
  devEui: string | null
  /** IMEI of its NB-IoT / Cat.1 module. */
  imei: string | null
  /**
   * OneNET and CTWing pushes without an IMEI may name this device by its id (their dev_id /
   * deviceId). Off by default: a platform token must not write to an MQTT-only device (issue 18).
   */
  platformIdFallback: boolean
  /** Where the device is (WGS 84), when known. */
  latitude: number | null
  longitude: number | null
  createdAt: Date
}

export type { DevicePlace }

/** The place fields and their columns; the names are ours, never a caller's. */
const PLACE_COLUMNS: Record<keyof DevicePlace, string> = {
  building: 'building',
  unit: 'unit',
  floor: 'floor',
  location: 'location',
  registrationCode: 'registration_code',
  rescueCode: 'rescue_code',
}
const PLACE_KEYS = Object.keys(PLACE_COLUMNS) as (keyof DevicePlace)[]

/** What the broker needs to authenticate a device; the hash never leaves the broker. */
export interface DeviceCredentials {
  id: string
  kind: DeviceKind
  gatewayId: string | null
  enabled: boolean
  secretHash: string
}

const DEVICE_COLUMNS = `d.id, d.kind, d.name, d.community_id AS "communityId", c.company_id AS "companyId",
  d.gateway_id AS "gatewayId", d.enabled, d.expected_interval_s AS "expectedIntervalS",
  d.profile_id AS "profileId", d.dev_eui AS "devEui", d.imei, d.platform_id_fallback AS "platformIdFallback",
  d.latitude, d.longitude, d.created_at AS "createdAt",
  d.building, d.unit, d.floor, d.location, d.registration_code AS "registrationCode", d.rescue_code AS "rescueCode"`
const DEVICE_FROM = 'devices d JOIN communities c ON c.id = d.community_id'

export async function getDevice(db: Queryable, id: string): Promise<DeviceRecord | undefined> {
  const [row] = await db.query<DeviceRecord>(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.id = $1`, [id])
  return row
}

/** The device another network knows by this DevEUI or IMEI. */
export async function deviceByExternalId(db: Queryable, by: { devEui: string } | { imei: string }): Promise<DeviceRecord | undefined> {
  const [row] =
    'devEui' in by
      ? await db.query<DeviceRecord>(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.dev_eui = $1`, [by.devEui.toLowerCase()])
      : await db.query<DeviceRecord>(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.imei = $1`, [by.imei])
  return row
}

/** Whether another device already carries this DevEUI or IMEI. */
export async function externalIdTaken(db: Queryable, deviceId: string, column: 'devEui' | 'imei', value: string): Promise<string | undefined> {
  const sql = column === 'devEui' ? 'SELECT id FROM devices WHERE dev_eui = $1 AND id <> $2' : 'SELECT id FROM devices WHERE imei = $1 AND id <> $2'
  const [row] = await db.query<{ id: string }>(sql, [value, deviceId])
  return row?.id
}

export async function getCredentials(db: Queryable, id: string): Promise<DeviceCredentials | undefined> {
  const [row] = await db.query<DeviceCredentials>(
    `SELECT id, kind, gateway_id AS "gatewayId", enabled, secret_hash AS "secretHash" FROM devices WHERE id = $1`,
    [id],
  )
  return row
}

/** Kind and gateway of many devices at once, for the ingest's device cache. */
export async function getDeviceKinds(
  db: Queryable,
  ids: readonly string[],
): Promise<{ id: string; kind: DeviceKind; gatewayId: string | null; enabled: boolean }[]> {
  return db.query(
    `SELECT id, kind, gateway_id AS "gatewayId", enabled FROM devices WHERE id = ANY($1::text[])`,
    [ids],
  )
}

export interface DeviceFilter {
  communityId?: string | undefined
  companyId?: string | undefined
  /** Only devices of communities of this street (a street officer's list). */
  streetId?: string | undefined
  kind?: DeviceKind | undefined
  gatewayId?: string | undefined
  limit: number
  /** Keyset pagination: ids strictly after this one. */
  after?: string | undefined
}

export async function listDevices(db: Queryable, f: DeviceFilter): Promise<DeviceRecord[]> {
  return db.query<DeviceRecord>(
    `SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM}
     WHERE ($1::text IS NULL OR d.community_id = $1)
       AND ($2::text IS NULL OR d.kind = $2)
       AND ($3::text IS NULL OR d.gateway_id = $3)
       AND ($4::text IS NULL OR d.id > $4)
       AND ($6::text IS NULL OR c.company_id = $6)
       AND ($7::text IS NULL OR c.street_id = $7)
     ORDER BY d.id LIMIT $5`,
    [f.communityId ?? null, f.kind ?? null, f.gatewayId ?? null, f.after ?? null, f.limit, f.companyId ?? null, f.streetId ?? null],
  )
}

export interface NewDevice extends Partial<DevicePlace> {
  id: string
  kind: DeviceKind
  name?: string | null
  communityId: string
  gatewayId?: string | null
  secretHash: string
  expectedIntervalS?: number
  profileId?: string | null
  /** Lower-case hex. */
  devEui?: string | null
  imei?: string | null
  latitude?: number | null
  longitude?: number | null
  platformIdFallback?: boolean
}

export async function insertDevice(db: Queryable, d: NewDevice): Promise<void> {
  await db.query(
    `INSERT INTO devices (id, kind, name, community_id, gateway_id, secret_hash, expected_interval_s, profile_id, dev_eui, imei, latitude, longitude, platform_id_fallback,
       ${PLACE_KEYS.map((k) => PLACE_COLUMNS[k]).join(', ')})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, ${PLACE_KEYS.map((_, i) => `$${14 + i}`).join(', ')})`,
    [
      d.id,
      d.kind,
      d.name ?? null,
      d.communityId,
      d.gatewayId ?? null,
      d.secretHash,
      d.expectedIntervalS ?? 60,
      d.profileId ?? null,
      d.devEui ?? null,
      d.imei ?? null,
      d.latitude ?? null,
      d.longitude ?? null,
      d.platformIdFallback ?? false,
      ...PLACE_KEYS.map((k) => d[k] ?? null),
    ],
  )
}

/** Of these ids, the devices that exist, with their kind (a bulk import checks ids and gateways at once). */
export async function devicesAmong(db: Queryable, ids: readonly string[]): Promise<{ id: string; kind: DeviceKind }[]> {
  if (ids.length === 0) return []
  return db.query('SELECT id, kind FROM devices WHERE id = ANY($1::text[])', [ids])
}

/** Of these DevEUIs (lower-case) and IMEIs, the ones a device already carries, and which device. */
export async function externalIdsTaken(db: Queryable, devEuis: readonly string[], imeis: readonly string[]): Promise<{ column: 'devEui' | 'imei'; value: string; id: string }[]> {
  if (devEuis.length === 0 && imeis.length === 0) return []
  return db.query(
    `SELECT 'devEui' AS "column", dev_eui AS value, id FROM devices WHERE dev_eui = ANY($1::text[])
     UNION ALL SELECT 'imei', imei, id FROM devices WHERE imei = ANY($2::text[])`,
    [devEuis, imeis],
  )
}

/**
 * Stores a device's broker status; when it changed, the change goes on the feed in the same
 * transaction (core/feed.ts), so the rules engine hears of it in commit order.
 */
export async function setDeviceStatus(db: Db, device: { id: string; bucket: number }, status: 'online' | 'offline', at: Date = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    const writer = await beginFeedWrite(tx)
    const changed = await tx.query(
      `INSERT INTO device_status (device_id, status, changed_at) VALUES ($1, $2, $3)
       ON CONFLICT (device_id) DO UPDATE SET status = EXCLUDED.status, changed_at = EXCLUDED.changed_at
       WHERE device_status.status <> EXCLUDED.status
       RETURNING 1`,
      [device.id, status, at],
    )
    if (changed.length === 0) return
    const feed = new FeedBatch()
    feed.status(device, at.getTime(), status)
    await appendFeed(writer, feed.row())
  })
}

export async function getDeviceStatus(
  db: Queryable,
  deviceId: string,
): Promise<{ status: 'online' | 'offline'; changedAt: Date } | undefined> {
  const [row] = await db.query<{ status: 'online' | 'offline'; changedAt: Date }>(
    'SELECT status, changed_at AS "changedAt" FROM device_status WHERE device_id = $1',
    [deviceId],
  )
  return row
}

/** Every device with what the rules engine needs to scope rules and hold back gateway children. */
export async function allDevices(db: Queryable): Promise<DeviceRecord[]> {
  return db.query<DeviceRecord>(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} ORDER BY d.id`)
}

export async function allStatuses(db: Queryable): Promise<{ deviceId: string; status: 'online' | 'offline'; changedAt: Date }[]> {
  return db.query('SELECT device_id AS "deviceId", status, changed_at AS "changedAt" FROM device_status')
}

/** The channel on which device changes are announced (the broker closes affected connections). */
export const DEVICE_CHANGED_CHANNEL = 'hb_device_changed'

/** A place field: a text sets it, null clears it, undefined leaves it. */
type PlacePatch = { [K in keyof DevicePlace]?: string | null | undefined }

export interface DevicePatch extends PlacePatch {
  name?: string | null | undefined
  enabled?: boolean | undefined
  gatewayId?: string | null | undefined
  expectedIntervalS?: number | undefined
  secretHash?: string | undefined
  profileId?: string | null | undefined
  devEui?: string | null | undefined
  imei?: string | null | undefined
  platformIdFallback?: boolean | undefined
  /** Moves the device: its future alerts go to the company looking after the new community. */
  communityId?: string | undefined
  /** Where it is (WGS 84); both together, null clears. */
  coordinates?: { latitude: number; longitude: number } | null | undefined
}

/**
 * Changes a device and announces it on DEVICE_CHANGED_CHANNEL; the NOTIFY is delivered when the
 * surrounding transaction commits, so listeners never see a change that was rolled back.
 */
export async function updateDevice(db: Queryable, id: string, p: DevicePatch): Promise<boolean> {
  const rows = await db.query(
    `UPDATE devices SET
       name = CASE WHEN $2 THEN $3 ELSE name END,
       enabled = COALESCE($4, enabled),
       gateway_id = CASE WHEN $5 THEN $6 ELSE gateway_id END,
       expected_interval_s = COALESCE($7, expected_interval_s),
       secret_hash = COALESCE($8, secret_hash),
       profile_id = CASE WHEN $9 THEN $10 ELSE profile_id END,
       dev_eui = CASE WHEN $11 THEN $12 ELSE dev_eui END,
       imei = CASE WHEN $13 THEN $14 ELSE imei END,
       community_id = COALESCE($15, community_id),
       platform_id_fallback = COALESCE($16, platform_id_fallback),
       latitude = CASE WHEN $29 THEN $30 ELSE latitude END,
       longitude = CASE WHEN $29 THEN $31 ELSE longitude END,
       ${PLACE_KEYS.map((k, i) => `${PLACE_COLUMNS[k]} = CASE WHEN $${17 + 2 * i} THEN $${18 + 2 * i} ELSE ${PLACE_COLUMNS[k]} END,`).join('\n       ')}
       updated_at = now()
     WHERE id = $1 RETURNING 1`,
    [
      id,
      p.name !== undefined,
      p.name ?? null,
      p.enabled ?? null,
      p.gatewayId !== undefined,
      p.gatewayId ?? null,
      p.expectedIntervalS ?? null,
      p.secretHash ?? null,
      p.profileId !== undefined,
      p.profileId ?? null,
      p.devEui !== undefined,
      p.devEui ?? null,
      p.imei !== undefined,
      p.imei ?? null,
      p.communityId ?? null,
      p.platformIdFallback ?? null,
      ...PLACE_KEYS.flatMap((k) => [p[k] !== undefined, p[k] ?? null]),
      p.coordinates !== undefined,
      p.coordinates?.latitude ?? null,
      p.coordinates?.longitude ?? null,
    ],
  )
  if (rows.length === 0) return false
  // Credentials changed (disabled, secret rotated): live connections must go, not just the cache.
  const credentials = p.enabled === false || p.secretHash !== undefined
  await db.query('SELECT pg_notify($1, $2)', [DEVICE_CHANGED_CHANNEL, JSON.stringify({ id, credentials })])
  return true
}
