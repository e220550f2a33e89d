// SQL for alert groups (alerts/grouping.ts): find the open group of a key, or open one; a group's
// members. Raises of one key are serialised by a transaction-scoped advisory lock on the key, taken
// in a statement of its own so that the next one's snapshot sees a group committed meanwhile.
import type { Queryable } from '../db/client.ts'
import { ALERT_COLUMNS, type Alert } from './alerts.ts'

/** Advisory-lock class of group keys (the second half is the key's hash). */
const LOCK_CLASS = 27

/**
 * Locks the key for this transaction and counts one more member into its group still open at
 * `now`; undefined when none is open (the caller opens one with its new alert: `openGroup`).
 */
export async function joinOpenGroup(tx: Queryable, key: string, now: Date): Promise<number | undefined> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, key])
  const [row] = await tx.query<{ id: number }>(
    `UPDATE alert_groups SET size = size + 1
     WHERE id = (SELECT id FROM alert_groups WHERE key = $1 AND closes_at > $2 ORDER BY closes_at DESC LIMIT 1)
     RETURNING id`,
    [key, now],
  )
  return row?.id
}

/** Opens a group whose first member is `alertId` (the group's id), its window closing at `closesAt`. */
export async function openGroup(tx: Queryable, alertId: number, key: string, now: Date, closesAt: Date): Promise<void> {
  await tx.query(
    `WITH g AS (INSERT INTO alert_groups (id, key, opened_at, closes_at) VALUES ($1, $2, $3, $4))
     UPDATE alerts SET group_id = $1 WHERE id = $1`,
    [alertId, key, now, closesAt],
  )
}

export interface AlertGroup {
  id: number
  openedAt: Date
  closesAt: Date
  size: number
}

export async function getGroup(db: Queryable, id: number): Promise<AlertGroup | undefined> {
  const [row] = await db.query<AlertGroup>(`SELECT id, opened_at AS "openedAt", closes_at AS "closesAt", size FROM alert_groups WHERE id = $1`, [id])
  return row
}

/** The group's alerts, first first, at most `limit`. */
export async function groupMembers(db: Queryable, groupId: number, limit: number): Promise<Alert[]> {
  return db.query<Alert>(`SELECT ${ALERT_COLUMNS} FROM alerts a WHERE a.group_id = $1 ORDER BY a.id LIMIT $2`, [groupId, limit])
}
