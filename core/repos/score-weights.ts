// SQL for the score's weights versions (alerts/weights.ts): append-only, never updated or deleted.
import type { Db, Queryable } from '../db/client.ts'

/** A version as stored; alerts/weights.ts fills out and reads its weights. */
export interface StoredWeightsVersion {
  version: number
  effectiveFrom: Date
  weights: Record<string, number>
  note: string
  createdBy: string
  createdAt: Date
}

/** Most versions read at once: a district changes its assessment a few times a year. */
export const MAX_VERSIONS = 200

const COLUMNS = `version, effective_from AS "effectiveFrom", weights, note, created_by AS "createdBy", created_at AS "createdAt"`

/** Stored versions, newest effective first. */
export async function listWeightsVersions(db: Queryable): Promise<StoredWeightsVersion[]> {
  return db.query<StoredWeightsVersion>(`SELECT ${COLUMNS} FROM score_weights ORDER BY effective_from DESC LIMIT $1`, [MAX_VERSIONS])
}

/**
 * Stores a version unless one takes effect at or after `effectiveFrom`: versions take effect in the
 * order they are made, so a later one never slips under an earlier one. Returns null when refused.
 * The advisory lock makes two posts at once take turns, so both cannot pass the check.
 */
export async function insertWeightsVersion(db: Db, v: { effectiveFrom: Date; weights: Record<string, number>; note: string; createdBy: string }): Promise<StoredWeightsVersion | null> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('score_weights'))`)
    const [later] = await tx.query(`SELECT 1 FROM score_weights WHERE effective_from >= $1 LIMIT 1`, [v.effectiveFrom])
    if (later) return null
    const [row] = await tx.query<StoredWeightsVersion>(
      `INSERT INTO score_weights (effective_from, weights, note, created_by) VALUES ($1, $2::jsonb, $3, $4) RETURNING ${COLUMNS}`,
      [v.effectiveFrom, JSON.stringify(v.weights), v.note, v.createdBy],
    )
    return row ?? null
  })
}

/** The newest stored version's start, for the refusal's message. */
export async function latestEffectiveFrom(db: Queryable): Promise<Date | null> {
  const [row] = await db.query<{ at: Date }>(`SELECT max(effective_from) AS at FROM score_weights`)
  return row?.at ?? null
}
