// SQL for evaluating property companies over a period: how many alerts, how fast and how well
// they were handled, and how satisfied residents are. The score and the rank are computed from
// these figures in api/evaluation/score.ts.
import type { Queryable } from '../db/client.ts'

export interface CompanyFigures {
  companyId: string
  name: string
  alerts: number
  bySeverity: { critical: number; major: number; minor: number; warning: number }
  /** Seconds from raise to acknowledgement (or to the first later step when that was skipped). */
  ttaMedianS: number | null
  ttaP90S: number | null
  /** Seconds from raise to resolution, resolved alerts only. */
  ttrMedianS: number | null
  ttrP90S: number | null
  /** Median of (time to resolve ÷ resolve window): how deep into its window an alert was resolved. */
  resolveWindowUsedMedian: number | null
  ackDue: number
  ackMet: number
  resolveDue: number
  resolveMet: number
  resolved: number
  /** Resolved alerts that had to be raised again (re-armed because the fault persisted). */
  reopened: number
  satisfactionMean: number | null
  satisfactionCount: number
}

/**
 * Figures for every property company for alerts raised in [from, to). Deadlines count as "due" once
 * they have passed by `asOf` or once the step was taken. Alerts raised in a maintenance window
 * (silenced) are left out: nobody was asked to respond. Satisfaction pools residents' community
 * feedback and the ratings of resolved alerts given in the period.
 */
export async function companyFigures(db: Queryable, from: Date, to: Date, asOf: Date, companyId?: string): Promise<CompanyFigures[]> {
  const rows = await db.query<Omit<CompanyFigures, 'bySeverity'> & { critical: number; major: number; minor: number; warning: number }>(
    `WITH a AS (
       SELECT al.*,
              COALESCE(al.acknowledged_at, al.started_at, al.resolved_at) AS ack_at,
              EXISTS (SELECT 1 FROM alerts r WHERE r.reraise_of = al.id) AS reopened
       FROM alerts al
       WHERE NOT al.silenced AND al.company_id IS NOT NULL AND al.raised_at >= $1 AND al.raised_at < $2
     ), per_company AS (
       SELECT company_id,
         count(*)::int AS alerts,
         count(*) FILTER (WHERE severity = 'critical')::int AS critical,
         count(*) FILTER (WHERE severity = 'major')::int AS major,
         count(*) FILTER (WHERE severity = 'minor')::int AS minor,
         count(*) FILTER (WHERE severity = 'warning')::int AS warning,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM ack_at - raised_at)) AS tta_median,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM ack_at - raised_at)) AS tta_p90,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM resolved_at - raised_at)) AS ttr_median,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM resolved_at - raised_at)) AS ttr_p90,
         percentile_cont(0.5) WITHIN GROUP (
           ORDER BY EXTRACT(EPOCH FROM resolved_at - raised_at) / NULLIF(EXTRACT(EPOCH FROM resolve_deadline - raised_at), 0)
         ) AS window_used,
         count(*) FILTER (WHERE ack_at IS NOT NULL OR ack_deadline <= $3)::int AS ack_due,
         count(*) FILTER (WHERE ack_at IS NOT NULL AND ack_at <= ack_deadline)::int AS ack_met,
         count(*) FILTER (WHERE resolved_at IS NOT NULL OR resolve_deadline <= $3)::int AS resolve_due,
         count(*) FILTER (WHERE resolved_at IS NOT NULL AND resolved_at <= resolve_deadline)::int AS resolve_met,
         count(*) FILTER (WHERE state = 'resolved')::int AS resolved,
         count(*) FILTER (WHERE state = 'resolved' AND reopened)::int AS reopened
       FROM a GROUP BY company_id
     ), ratings AS (
       SELECT company_id, rating FROM feedback WHERE created_at >= $1 AND created_at < $2 AND company_id IS NOT NULL
       UNION ALL
       SELECT al.company_id, r.rating FROM alert_ratings r JOIN alerts al ON al.id = r.alert_id
       WHERE r.created_at >= $1 AND r.created_at < $2 AND al.company_id IS NOT NULL
     ), satisfaction AS (
       SELECT company_id, avg(rating)::float8 AS mean, count(*)::int AS n FROM ratings GROUP BY company_id
     )
     SELECT c.id AS "companyId", c.name,
       COALESCE(p.alerts, 0) AS alerts,
       COALESCE(p.critical, 0) AS critical, COALESCE(p.major, 0) AS major,
       COALESCE(p.minor, 0) AS minor, COALESCE(p.warning, 0) AS warning,
       p.tta_median AS "ttaMedianS", p.tta_p90 AS "ttaP90S",
       p.ttr_median AS "ttrMedianS", p.ttr_p90 AS "ttrP90S",
       p.window_used AS "resolveWindowUsedMedian",
       COALESCE(p.ack_due, 0) AS "ackDue", COALESCE(p.ack_met, 0) AS "ackMet",
       COALESCE(p.resolve_due, 0) AS "resolveDue", COALESCE(p.resolve_met, 0) AS "resolveMet",
       COALESCE(p.resolved, 0) AS resolved, COALESCE(p.reopened, 0) AS reopened,
       s.mean AS "satisfactionMean", COALESCE(s.n, 0) AS "satisfactionCount"
     FROM property_companies c
     LEFT JOIN per_company p ON p.company_id = c.id
     LEFT JOIN satisfaction s ON s.company_id = c.id
     WHERE ($4::text IS NULL OR c.id = $4)
     ORDER BY c.id`,
    [from, to, asOf, companyId ?? null],
  )
  return rows.map(({ critical, major, minor, warning, ...rest }) => ({ ...rest, bySeverity: { critical, major, minor, warning } }))
}

/** The same figures per community of one company (the drill-down). */
export async function communityBreakdown(
  db: Queryable,
  companyId: string,
  from: Date,
  to: Date,
): Promise<{ communityId: string; name: string; alerts: number; resolved: number; ttrMedianS: number | null; satisfactionMean: number | null; satisfactionCount: number }[]> {
  return db.query(
    `SELECT cm.id AS "communityId", cm.name,
       (SELECT count(*)::int FROM alerts a WHERE a.community_id = cm.id AND a.company_id = $1 AND NOT a.silenced AND a.raised_at >= $2 AND a.raised_at < $3) AS alerts,
       (SELECT count(*)::int FROM alerts a WHERE a.community_id = cm.id AND a.company_id = $1 AND NOT a.silenced AND a.raised_at >= $2 AND a.raised_at < $3 AND a.state = 'resolved') AS resolved,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM a.resolved_at - a.raised_at)) FROM alerts a
          WHERE a.community_id = cm.id AND a.company_id = $1 AND NOT a.silenced AND a.raised_at >= $2 AND a.raised_at < $3) AS "ttrMedianS",
       (SELECT avg(rating)::float8 FROM feedback f WHERE f.community_id = cm.id AND f.company_id = $1 AND f.created_at >= $2 AND f.created_at < $3) AS "satisfactionMean",
       (SELECT count(*)::int FROM feedback f WHERE f.community_id = cm.id AND f.company_id = $1 AND f.created_at >= $2 AND f.created_at < $3) AS "satisfactionCount"
     FROM communities cm
     WHERE cm.company_id = $1 OR EXISTS (SELECT 1 FROM alerts a WHERE a.community_id = cm.id AND a.company_id = $1 AND a.raised_at >= $2 AND a.raised_at < $3)
     ORDER BY cm.name`,
    [companyId, from, to],
  )
}

/** The slowest alerts of a company in the period: where the drill-down points first. */
export async function slowestAlerts(db: Queryable, companyId: string, from: Date, to: Date, limit: number): Promise<{ id: number; title: string; severity: string; deviceId: string | null; raisedAt: Date; resolvedAt: Date | null; ttrS: number | null }[]> {
  return db.query(
    `SELECT id, title, severity, device_id AS "deviceId", raised_at AS "raisedAt", resolved_at AS "resolvedAt",
            EXTRACT(EPOCH FROM COALESCE(resolved_at, now()) - raised_at)::float8 AS "ttrS"
     FROM alerts WHERE company_id = $1 AND NOT silenced AND raised_at >= $2 AND raised_at < $3
     ORDER BY COALESCE(resolved_at, now()) - raised_at DESC LIMIT $4`,
    [companyId, from, to, limit],
  )
}
