// SQL for evaluating property companies over a period: how many alerts, how fast and how well
// they were handled, and how satisfied residents are. The score and the rank are computed from
// these figures in alerts/score.ts.
import type { Queryable } from '../db/client.ts'
import type { TitleDetail } from '../../shared/alert-title.ts'

export interface CompanyFigures {
  companyId: string
  name: string
  /** Every alert counted (raised in the period, not silenced), self-cleared ones included. */
  alerts: number
  bySeverity: { critical: number; major: number; minor: number; warning: number }
  /** Alerts whose producer resolved them when the condition cleared, before either deadline, with nobody acting. */
  selfCleared: number
  /** Seconds from notification to a person's acknowledgement (or their resolve, when they resolved without one). */
  ttaMedianS: number | null
  ttaP90S: number | null
  /** Seconds from notification to a person's resolve. */
  ttrMedianS: number | null
  ttrP90S: number | null
  /** Seconds from notification to a person's first "arrived on site"; reported, not scored. */
  ttArriveMedianS: number | null
  ttArriveP90S: number | null
  /** Median of (time to a person's resolve ÷ resolve window): how deep into its window it was resolved. */
  resolveWindowUsedMedian: number | null
  ackDue: number
  ackMet: number
  resolveDue: number
  resolveMet: number
  /** Alerts a person resolved. */
  resolved: number
  /** Of those, how many had to be raised again (re-armed because the fault persisted). */
  reopened: number
  satisfactionMean: number | null
  satisfactionCount: number
  /** Distinct people behind the satisfaction ratings. */
  satisfactionRaters: number
}

/**
 * Per alert, the facts the figures are built from (alerts raised in [$1, $2), not silenced):
 * - `t0`: when people were asked to respond (the raise, or the end of its maintenance window);
 * - `person_resolved_at`: a person's resolve; the producer's auto-resolve is not one;
 * - `ack_at`: a person's acknowledgement (starting work acknowledges), else their resolve;
 * - `self_cleared`: auto-resolved before both deadlines with nobody acting: no one was needed.
 */
export const ALERT_FACTS = `
  facts AS (
    SELECT al.*,
      COALESCE(al.notified_at, al.raised_at) AS t0,
      CASE WHEN al.state = 'resolved' AND NOT al.resolved_auto THEN al.resolved_at END AS person_resolved_at,
      EXISTS (SELECT 1 FROM alerts r WHERE r.reraise_of = al.id) AS reopened
    FROM alerts al
    WHERE NOT al.silenced AND al.raised_at >= $1 AND al.raised_at < $2
  ), f2 AS (
    SELECT f.*,
      COALESCE(f.acknowledged_at, f.person_resolved_at) AS ack_at,
      (f.state = 'resolved' AND f.resolved_auto AND f.acknowledged_at IS NULL
        AND f.resolved_at <= LEAST(f.ack_deadline, f.resolve_deadline)) AS self_cleared
    FROM facts f
  ), a AS (
    -- Seconds from t0; a step taken inside the maintenance window (before t0) counts as 0.
    SELECT f2.*,
      CASE WHEN f2.ack_at < f2.t0 THEN 0 ELSE EXTRACT(EPOCH FROM f2.ack_at - f2.t0)::float8 END AS tta_s,
      CASE WHEN f2.person_resolved_at < f2.t0 THEN 0 ELSE EXTRACT(EPOCH FROM f2.person_resolved_at - f2.t0)::float8 END AS ttr_s,
      -- Only people record an arrival (the API's arrive step): no producer's action is in it.
      CASE WHEN f2.arrived_at < f2.t0 THEN 0 ELSE EXTRACT(EPOCH FROM f2.arrived_at - f2.t0)::float8 END AS arrive_s
    FROM f2
  )`

/**
 * Figures for every property company for alerts raised in [from, to), as of `asOf`. Only a person's
 * action earns credit:
 * - acknowledge figures count every alert except self-cleared ones whose acknowledge deadline has
 *   passed by `asOf` or that a person acknowledged; met = a person acknowledged by the deadline.
 *   An alert nobody acknowledged before its deadline is missed, whatever resolved it later.
 * - resolve figures count every alert except self-cleared ones that a person resolved, or whose
 *   resolve deadline passed (by `asOf`) before anything resolved it; met = a person resolved it
 *   by the deadline. An auto-resolve after the acknowledge deadline but before the resolve deadline
 *   is in neither resolve count (nobody resolved it, and its deadline did not pass).
 * - times to acknowledge / resolve / arrive are measured from `t0` over the alerts a person
 *   acknowledged / resolved / recorded arriving at (the first arrival); percentiles by linear interpolation (PostgreSQL percentile_cont: the value at
 *   position p × (n − 1) of the sorted times, interpolated between its neighbours).
 * Alerts raised in a maintenance window and resolved within it (still silenced) are left out:
 * nobody was asked to respond. Satisfaction pools residents' community feedback (one per resident,
 * community and month) and ratings of resolved alerts (one per resident and alert) given in the period.
 */
export async function companyFigures(db: Queryable, from: Date, to: Date, asOf: Date, companyId?: string, streetId?: string): Promise<CompanyFigures[]> {
  const rows = await db.query<Omit<CompanyFigures, 'bySeverity'> & { critical: number; major: number; minor: number; warning: number }>(
    `WITH ${ALERT_FACTS}, street AS (
       -- Cut by street: only what happened in its communities counts, and only companies that look
       -- after one of them now or had an alert there in the period are listed.
       SELECT id, company_id FROM communities WHERE street_id = $5
     ), per_company AS (
       SELECT company_id,
         count(*)::int AS alerts,
         count(*) FILTER (WHERE severity = 'critical')::int AS critical,
         count(*) FILTER (WHERE severity = 'major')::int AS major,
         count(*) FILTER (WHERE severity = 'minor')::int AS minor,
         count(*) FILTER (WHERE severity = 'warning')::int AS warning,
         count(*) FILTER (WHERE self_cleared)::int AS self_cleared,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY tta_s) AS tta_median,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY tta_s) AS tta_p90,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY ttr_s) AS ttr_median,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY ttr_s) AS ttr_p90,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY arrive_s) AS arrive_median,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY arrive_s) AS arrive_p90,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY ttr_s / NULLIF(EXTRACT(EPOCH FROM resolve_deadline - t0), 0)) AS window_used,
         count(*) FILTER (WHERE NOT self_cleared AND (ack_at IS NOT NULL OR ack_deadline <= $3))::int AS ack_due,
         count(*) FILTER (WHERE ack_at <= ack_deadline)::int AS ack_met,
         count(*) FILTER (WHERE NOT self_cleared AND (person_resolved_at IS NOT NULL
           OR (resolve_deadline <= $3 AND (resolved_at IS NULL OR resolved_at > resolve_deadline))))::int AS resolve_due,
         count(*) FILTER (WHERE person_resolved_at <= resolve_deadline)::int AS resolve_met,
         count(*) FILTER (WHERE person_resolved_at IS NOT NULL)::int AS resolved,
         count(*) FILTER (WHERE person_resolved_at IS NOT NULL AND reopened)::int AS reopened
       FROM a WHERE company_id IS NOT NULL AND ($5::text IS NULL OR community_id IN (SELECT id FROM street)) GROUP BY company_id
     ), ratings AS (
       SELECT company_id, rating, author AS rater FROM feedback WHERE created_at >= $1 AND created_at < $2 AND company_id IS NOT NULL
         AND ($5::text IS NULL OR community_id IN (SELECT id FROM street))
       UNION ALL
       SELECT al.company_id, r.rating, r.rated_by FROM alert_ratings r JOIN alerts al ON al.id = r.alert_id
       WHERE r.created_at >= $1 AND r.created_at < $2 AND al.company_id IS NOT NULL
         AND ($5::text IS NULL OR al.community_id IN (SELECT id FROM street))
     ), satisfaction AS (
       SELECT company_id, avg(rating)::float8 AS mean, count(*)::int AS n, count(DISTINCT rater)::int AS raters FROM ratings GROUP BY company_id
     )
     SELECT c.id AS "companyId", c.name,
       COALESCE(p.alerts, 0) AS alerts,
       COALESCE(p.critical, 0) AS critical, COALESCE(p.major, 0) AS major,
       COALESCE(p.minor, 0) AS minor, COALESCE(p.warning, 0) AS warning,
       COALESCE(p.self_cleared, 0) AS "selfCleared",
       p.tta_median AS "ttaMedianS", p.tta_p90 AS "ttaP90S",
       p.ttr_median AS "ttrMedianS", p.ttr_p90 AS "ttrP90S",
       p.arrive_median AS "ttArriveMedianS", p.arrive_p90 AS "ttArriveP90S",
       p.window_used AS "resolveWindowUsedMedian",
       COALESCE(p.ack_due, 0) AS "ackDue", COALESCE(p.ack_met, 0) AS "ackMet",
       COALESCE(p.resolve_due, 0) AS "resolveDue", COALESCE(p.resolve_met, 0) AS "resolveMet",
       COALESCE(p.resolved, 0) AS resolved, COALESCE(p.reopened, 0) AS reopened,
       s.mean AS "satisfactionMean", COALESCE(s.n, 0) AS "satisfactionCount", COALESCE(s.raters, 0) AS "satisfactionRaters"
     FROM property_companies c
     LEFT JOIN per_company p ON p.company_id = c.id
     LEFT JOIN satisfaction s ON s.company_id = c.id
     WHERE ($4::text IS NULL OR c.id = $4)
       AND ($5::text IS NULL OR p.company_id IS NOT NULL OR c.id IN (SELECT company_id FROM street))
     ORDER BY c.id`,
    [from, to, asOf, companyId ?? null, streetId ?? null],
  )
  return rows.map(({ critical, major, minor, warning, ...rest }) => ({ ...rest, bySeverity: { critical, major, minor, warning } }))
}

/** The same figures per community of one company (the drill-down). */
export async function communityBreakdown(
  db: Queryable,
  companyId: string,
  from: Date,
  to: Date,
): Promise<{ communityId: string; name: string; alerts: number; resolved: number; ttrMedianS: number | null; satisfactionMean: number | null; satisfactionCount: number; satisfactionRaters: number }[]> {
  // The same facts as the ranking ($1, $2 the period), so "resolved" means resolved by a person.
  return db.query(
    `WITH ${ALERT_FACTS}
     SELECT cm.id AS "communityId", cm.name,
       (SELECT count(*)::int FROM a WHERE a.community_id = cm.id AND a.company_id = $3) AS alerts,
       (SELECT count(*)::int FROM a WHERE a.community_id = cm.id AND a.company_id = $3 AND a.person_resolved_at IS NOT NULL) AS resolved,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a.ttr_s) FROM a
          WHERE a.community_id = cm.id AND a.company_id = $3) AS "ttrMedianS",
       fb.mean AS "satisfactionMean", COALESCE(fb.n, 0) AS "satisfactionCount", COALESCE(fb.raters, 0) AS "satisfactionRaters"
     FROM communities cm
     LEFT JOIN LATERAL (
       SELECT avg(rating)::float8 AS mean, count(*)::int AS n, count(DISTINCT author)::int AS raters FROM feedback f
       WHERE f.community_id = cm.id AND f.company_id = $3 AND f.created_at >= $1 AND f.created_at < $2) fb ON true
     WHERE cm.company_id = $3 OR EXISTS (SELECT 1 FROM alerts x WHERE x.community_id = cm.id AND x.company_id = $3 AND x.raised_at >= $1 AND x.raised_at < $2)
     ORDER BY cm.name`,
    [from, to, companyId],
  )
}

/** The slowest alerts of a company in the period: where the drill-down points first. */
/** An alert of the drill-down, with what titles it in the reader's language (shared/alert-title.ts). */
export interface SlowAlert {
  id: number
  ruleId: string
  source: string
  title: string
  titleDetail: TitleDetail | null
  severity: string
  deviceId: string | null
  raisedAt: Date
  resolvedAt: Date | null
  ttrS: number | null
}

export async function slowestAlerts(db: Queryable, companyId: string, from: Date, to: Date, limit: number): Promise<SlowAlert[]> {
  return db.query(
    `SELECT id, rule_id AS "ruleId", source, title, title_detail AS "titleDetail", severity, device_id AS "deviceId", raised_at AS "raisedAt", resolved_at AS "resolvedAt",
            EXTRACT(EPOCH FROM COALESCE(resolved_at, now()) - raised_at)::float8 AS "ttrS"
     FROM alerts WHERE company_id = $1 AND NOT silenced AND raised_at >= $2 AND raised_at < $3
     ORDER BY COALESCE(resolved_at, now()) - raised_at DESC LIMIT $4`,
    [companyId, from, to, limit],
  )
}
