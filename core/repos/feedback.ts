// SQL for residents' voice: satisfaction feedback per community and ratings of resolved alerts.
import type { Queryable } from '../db/client.ts'

export interface Feedback {
  id: number
  communityId: string
  companyId: string | null
  rating: number
  comment: string | null
  author: string
  createdAt: Date
}

const FEEDBACK_COLUMNS = `id, community_id AS "communityId", company_id AS "companyId", rating, comment, author, created_at AS "createdAt"`

/**
 * Feedback counts for the company looking after the community when it is given. One per author,
 * community and calendar month (UTC): a newer one replaces the author's earlier one, so a resident
 * cannot move the ranking by posting again.
 */
export async function insertFeedback(db: Queryable, f: { communityId: string; rating: number; comment: string | null; author: string; at?: Date }): Promise<Feedback> {
  const [row] = await db.query<Feedback>(
    `INSERT INTO feedback (community_id, company_id, rating, comment, author, created_at, period)
     SELECT id, company_id, $2, $3, $4, t.at, date_trunc('month', t.at AT TIME ZONE 'UTC')::date
     FROM communities, (SELECT COALESCE($5::timestamptz, now()) AS at) t WHERE id = $1
     ON CONFLICT (community_id, author, period) DO UPDATE
       SET company_id = EXCLUDED.company_id, rating = EXCLUDED.rating, comment = EXCLUDED.comment, created_at = EXCLUDED.created_at
     RETURNING ${FEEDBACK_COLUMNS}`,
    [f.communityId, f.rating, f.comment, f.author, f.at ?? null],
  )
  if (!row) throw new Error(`no community ${f.communityId}`)
  return row
}

export async function listFeedback(
  db: Queryable,
  f: { communityId?: string | undefined; companyId?: string | undefined; from?: Date | undefined; to?: Date | undefined; limit: number },
): Promise<Feedback[]> {
  return db.query<Feedback>(
    `SELECT ${FEEDBACK_COLUMNS} FROM feedback
     WHERE ($1::text IS NULL OR community_id = $1) AND ($2::text IS NULL OR company_id = $2)
       AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4)
     ORDER BY id DESC LIMIT $5`,
    [f.communityId ?? null, f.companyId ?? null, f.from ?? null, f.to ?? null, f.limit],
  )
}

export interface AlertRating {
  alertId: number
  rating: number
  comment: string | null
  ratedBy: string
  createdAt: Date
}

/** A rater's own ratings of some alerts, by alert id (a resident's page shows what they gave). */
export async function ratingsBy(db: Queryable, ratedBy: string, alertIds: readonly number[]): Promise<Map<number, { rating: number; comment: string | null }>> {
  if (alertIds.length === 0) return new Map()
  const rows = await db.query<{ alertId: number; rating: number; comment: string | null }>(
    'SELECT alert_id::int AS "alertId", rating, comment FROM alert_ratings WHERE rated_by = $1 AND alert_id = ANY($2::bigint[])',
    [ratedBy, alertIds],
  )
  return new Map(rows.map((r) => [r.alertId, { rating: r.rating, comment: r.comment }]))
}

/** One rating per rater and alert; a rater's second one replaces their first, never another's. */
export async function rateAlert(db: Queryable, r: { alertId: number; rating: number; comment: string | null; ratedBy: string; at?: Date }): Promise<AlertRating> {
  const [row] = await db.query<AlertRating>(
    `INSERT INTO alert_ratings (alert_id, rating, comment, rated_by, created_at) VALUES ($1, $2, $3, $4, COALESCE($5, now()))
     ON CONFLICT (alert_id, rated_by) DO UPDATE SET rating = EXCLUDED.rating, comment = EXCLUDED.comment, created_at = EXCLUDED.created_at
     RETURNING alert_id AS "alertId", rating, comment, rated_by AS "ratedBy", created_at AS "createdAt"`,
    [r.alertId, r.rating, r.comment, r.ratedBy, r.at ?? null],
  )
  if (!row) throw new Error('rating not stored')
  return row
}
