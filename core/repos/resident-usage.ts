// SQL for residents' limits (migration 17: resident_usage). A resident's hazard report or photo is
// first entered in this ledger, checked against every window under a per-user advisory lock, so
// concurrent requests are counted one after another and none slips past a limit. Sliding
// windows: a report filed at 10:05 counts against the hour until 11:05, not until 11:00.
import type { Db, Queryable } from '../db/client.ts'

export type UsageKind = 'report' | 'photo_bytes'

/** At most `max` (reports, or bytes) in any `windowMs`. */
export interface UsageLimit {
  windowMs: number
  max: number
}

export type Reservation = { ok: true; id: number } | { ok: false; limit: UsageLimit; used: number; retryAt: Date }

/** The advisory lock class of these locks (two-key form: apart from the leader's one-key locks). */
const LOCK_CLASS = 18

/**
 * When `amount` more fits under `limit`, given what was used (oldest first): at the moment the
 * oldest rows leave the window. `now` when it fits already.
 */
export function whenFits(used: readonly { at: Date; amount: number }[], amount: number, limit: UsageLimit, now: Date): Date {
  const inWindow = used.filter((u) => u.at.getTime() > now.getTime() - limit.windowMs)
  let total = inWindow.reduce((s, u) => s + u.amount, 0)
  if (total + amount <= limit.max) return now
  for (const u of inWindow) {
    total -= u.amount
    if (total + amount <= limit.max) return new Date(u.at.getTime() + limit.windowMs)
  }
  // More than the whole limit at once: it never fits; say when the window is empty.
  return new Date((inWindow.at(-1)?.at.getTime() ?? now.getTime()) + limit.windowMs)
}

/** Enters `amount` of `kind` for the user unless a limit would be passed; then says which and when it frees. */
export async function reserveUsage(db: Db, userId: string, kind: UsageKind, amount: number, limits: readonly UsageLimit[], now: Date): Promise<Reservation> {
  const longest = Math.max(0, ...limits.map((l) => l.windowMs))
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, userId])
    await tx.query(`DELETE FROM resident_usage WHERE user_id = $1 AND at <= $2`, [userId, new Date(now.getTime() - longest)])
    const used = (
      await tx.query<{ at: Date; amount: string }>(`SELECT at, amount FROM resident_usage WHERE user_id = $1 AND kind = $2 ORDER BY at, id`, [userId, kind])
    ).map((r) => ({ at: r.at, amount: Number(r.amount) }))
    for (const limit of limits) {
      const retryAt = whenFits(used, amount, limit, now)
      if (retryAt > now) {
        const inWindow = used.filter((u) => u.at.getTime() > now.getTime() - limit.windowMs).reduce((s, u) => s + u.amount, 0)
        return { ok: false as const, limit, used: inWindow, retryAt }
      }
    }
    const [row] = await tx.query<{ id: string }>(`INSERT INTO resident_usage (user_id, kind, amount, at) VALUES ($1, $2, $3, $4) RETURNING id`, [userId, kind, amount, now])
    return { ok: true as const, id: Number(row?.id) }
  })
}

/** Gives a reservation back: what it was for was refused or failed. */
export async function releaseUsage(db: Queryable, id: number): Promise<void> {
  await db.query('DELETE FROM resident_usage WHERE id = $1', [id])
}
