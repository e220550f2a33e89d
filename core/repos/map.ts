// SQL for the district map (api/routes/map.ts): devices with their connectivity, and the worst
// unresolved alert of each device and each community, in a few queries for the whole district.
import type { DeviceKind } from '../contract.ts'
import type { Queryable } from '../db/client.ts'
import type { Severity } from '../../shared/domain.ts'

export interface DeviceConnectivity {
  id: string
  kind: DeviceKind
  name: string | null
  communityId: string
  companyId: string | null
  /** The device's own coordinates (CSV onboarding); null when only its community is placed. */
  latitude: number | null
  longitude: number | null
  /** Where it stands on its community's site plan, as fractions of the image (0..1 from the top left); null: not placed. */
  planX: number | null
  planY: number | null
  expectedIntervalS: number
  /** What the device (or its Last Will) last said; null when it never said anything. */
  status: 'online' | 'offline' | null
  statusChangedAt: Date | null
  /** When the newest reading of any metric arrived (the `latest` table). */
  lastReadingAt: Date | null
  /** An unresolved alert of an offline rule (the device or its gateway went silent). */
  offlineAlert: boolean
}

/** Devices (one, or those of a company's communities, or all), at most `limit`, by id. */
export async function deviceConnectivity(db: Queryable, f: { deviceId?: string | undefined; companyId?: string | undefined; limit: number }): Promise<DeviceConnectivity[]> {
  return db.query<DeviceConnectivity>(
    `SELECT d.id, d.kind, d.name, d.community_id AS "communityId", c.company_id AS "companyId",
       d.latitude, d.longitude, d.plan_x AS "planX", d.plan_y AS "planY", d.expected_interval_s AS "expectedIntervalS", s.status, s.changed_at AS "statusChangedAt",
       (SELECT max(l.received_at) FROM latest l WHERE l.device_id = d.id) AS "lastReadingAt",
       EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = d.id AND a.state <> 'resolved' AND a.rule_id LIKE '%-offline') AS "offlineAlert"
     FROM devices d JOIN communities c ON c.id = d.community_id
     LEFT JOIN device_status s ON s.device_id = d.id
     WHERE ($1::text IS NULL OR d.id = $1) AND ($2::text IS NULL OR c.company_id = $2)
     ORDER BY d.id LIMIT $3`,
    [f.deviceId ?? null, f.companyId ?? null, f.limit],
  )
}

export interface Worst {
  key: string
  alertId: number
  severity: Severity
  unresolved: number
}

/** Orders severities worst first, then the newest alert. */
const WORST_FIRST = `CASE a.severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 WHEN 'minor' THEN 2 ELSE 3 END, a.raised_at DESC, a.id DESC`

/**
 * The worst unresolved alert per device or per community, with how many are unresolved;
 * `companyId` limits it to the alerts dispatched to that company (what a crew member may see).
 */
export async function worstUnresolved(db: Queryable, by: 'device' | 'community', companyId: string | undefined): Promise<Worst[]> {
  const col = by === 'device' ? 'a.device_id' : 'a.community_id'
  return db.query<Worst>(
    `SELECT DISTINCT ON (${col}) ${col} AS key, a.id AS "alertId", a.severity,
       (count(*) OVER (PARTITION BY ${col}))::int AS unresolved
     FROM alerts a
     WHERE a.state <> 'resolved' AND ${col} IS NOT NULL AND ($1::text IS NULL OR a.company_id = $1)
     ORDER BY ${col}, ${WORST_FIRST}`,
    [companyId ?? null],
  )
}
