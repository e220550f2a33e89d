// SQL for maintenance windows (silences).
import type { Queryable } from '../db/client.ts'

export interface Silence {
  id: number
  deviceId: string | null
  communityId: string | null
  ruleId: string | null
  startsAt: Date
  endsAt: Date
  reason: string
  createdBy: string
}

const COLUMNS = `id, device_id AS "deviceId", community_id AS "communityId", rule_id AS "ruleId", starts_at AS "startsAt",
  ends_at AS "endsAt", reason, created_by AS "createdBy"`

export async function insertSilence(db: Queryable, s: Omit<Silence, 'id'>): Promise<Silence> {
  const [row] = await db.query<Silence>(
    `INSERT INTO silences (device_id, community_id, rule_id, starts_at, ends_at, reason, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [s.deviceId, s.communityId, s.ruleId, s.startsAt, s.endsAt, s.reason, s.createdBy],
  )
  if (!row) throw new Error('insert returned no silence')
  return row
}

export async function listSilences(db: Queryable, activeOnly: boolean): Promise<Silence[]> {
  return db.query<Silence>(
    `SELECT ${COLUMNS} FROM silences WHERE NOT $1 OR (starts_at <= now() AND ends_at > now()) ORDER BY starts_at DESC LIMIT 1000`,
    [activeOnly],
  )
}

/** Ends a window now (kept for the record). */
export async function endSilence(db: Queryable, id: number): Promise<Silence | undefined> {
  const [row] = await db.query<Silence>(
    `UPDATE silences SET ends_at = LEAST(ends_at, GREATEST(now(), starts_at + INTERVAL '1 millisecond')) WHERE id = $1 RETURNING ${COLUMNS}`,
    [id],
  )
  return row
}

/**
 * A window, locked until the transaction ends, and whether it has ended by the database's clock
 * (the clock `endSilence` ends windows by).
 */
export async function lockSilence(tx: Queryable, id: number): Promise<(Silence & { ended: boolean }) | undefined> {
  const [row] = await tx.query<Silence & { ended: boolean }>(`SELECT ${COLUMNS}, ends_at <= now() AS ended FROM silences WHERE id = $1 FOR UPDATE`, [id])
  return row
}

/** Rewrites a window in place (its author stays the one who started it). */
export async function updateSilence(tx: Queryable, id: number, s: Omit<Silence, 'id' | 'createdBy'>): Promise<Silence | undefined> {
  const [row] = await tx.query<Silence>(
    `UPDATE silences SET device_id = $2, community_id = $3, rule_id = $4, starts_at = $5, ends_at = $6, reason = $7
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, s.deviceId, s.communityId, s.ruleId, s.startsAt, s.endsAt, s.reason],
  )
  return row
}
