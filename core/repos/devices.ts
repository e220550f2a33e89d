// SQL for devices, communities and property companies.
import type { DeviceKind } from '../contract.ts'
import type { Queryable } from '../db/client.ts'

export interface DeviceRecord {
  id: string
  kind: DeviceKind
  name: string | null
  communityId: string
  gatewayId: string | null
  enabled: boolean
  expectedIntervalS: number
  createdAt: Date
}

/** What the broker needs to authenticate a device; the hash never leaves the broker. */
export interface DeviceCredentials {
  id: string
  kind: DeviceKind
  gatewayId: string | null
  enabled: boolean
  secretHash: string
}

const DEVICE_COLUMNS = `id, kind, name, community_id AS "communityId", gateway_id AS "gatewayId", enabled,
  expected_interval_s AS "expectedIntervalS", created_at AS "createdAt"`

export async function getDevice(db: Queryable, id: string): Promise<DeviceRecord | undefined> {
  const [row] = await db.query<DeviceRecord>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [id])
  return row
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
  kind?: DeviceKind | undefined
  gatewayId?: string | undefined
  limit: number
  /** Keyset pagination: ids strictly after this one. */
  after?: string | undefined
}

export async function listDevices(db: Queryable, f: DeviceFilter): Promise<DeviceRecord[]> {
  return db.query<DeviceRecord>(
    `SELECT ${DEVICE_COLUMNS} FROM devices
     WHERE ($1::text IS NULL OR community_id = $1)
       AND ($2::text IS NULL OR kind = $2)
       AND ($3::text IS NULL OR gateway_id = $3)
       AND ($4::text IS NULL OR id > $4)
     ORDER BY id LIMIT $5`,
    [f.communityId ?? null, f.kind ?? null, f.gatewayId ?? null, f.after ?? null, f.limit],
  )
}

export interface NewDevice {
  id: string
  kind: DeviceKind
  name?: string | null
  communityId: string
  gatewayId?: string | null
  secretHash: string
  expectedIntervalS?: number
}

export async function insertDevice(db: Queryable, d: NewDevice): Promise<void> {
  await db.query(
    `INSERT INTO devices (id, kind, name, community_id, gateway_id, secret_hash, expected_interval_s)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [d.id, d.kind, d.name ?? null, d.communityId, d.gatewayId ?? null, d.secretHash, d.expectedIntervalS ?? 60],
  )
}

export async function insertCompany(db: Queryable, c: { id: string; name: string; contact?: string | null }): Promise<void> {
  await db.query('INSERT INTO property_companies (id, name, contact) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [
    c.id,
    c.name,
    c.contact ?? null,
  ])
}

export interface NewCommunity {
  id: string
  name: string
  district?: string | null
  street?: string | null
  address?: string | null
  lat?: number | null
  lon?: number | null
  companyId: string
}

export async function insertCommunity(db: Queryable, c: NewCommunity): Promise<void> {
  await db.query(
    `INSERT INTO communities (id, name, district, street, address, lat, lon, company_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
    [c.id, c.name, c.district ?? null, c.street ?? null, c.address ?? null, c.lat ?? null, c.lon ?? null, c.companyId],
  )
}

export async function setDeviceStatus(db: Queryable, deviceId: string, status: 'online' | 'offline'): Promise<void> {
  await db.query(
    `INSERT INTO device_status (device_id, status, changed_at) VALUES ($1, $2, now())
     ON CONFLICT (device_id) DO UPDATE SET status = EXCLUDED.status, changed_at = EXCLUDED.changed_at
     WHERE device_status.status <> EXCLUDED.status`,
    [deviceId, status],
  )
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
  return db.query<DeviceRecord>(`SELECT ${DEVICE_COLUMNS} FROM devices ORDER BY id`)
}

export async function allStatuses(db: Queryable): Promise<{ deviceId: string; status: 'online' | 'offline'; changedAt: Date }[]> {
  return db.query('SELECT device_id AS "deviceId", status, changed_at AS "changedAt" FROM device_status')
}
