// SQL for the office's overview (总览) and wall screen: the unresolved alerts by severity and the
// response times of the alerts raised since a moment (the start of the office's day), in one query.
// The times are the ranking's own (ALERT_FACTS), so the overview and the ranking never disagree.
import type { Queryable } from '../db/client.ts'
import { ALERT_FACTS } from './evaluation.ts'

export interface Spread {
  medianS: number | null
  p90S: number | null
}

export interface OverviewFigures {
  open: { critical: number; major: number; minor: number; warning: number; total: number; unacknowledged: number; overdue: number }
  today: { raised: number; resolved: number; timeToAcknowledge: Spread; timeToArrive: Spread; timeToResolve: Spread }
}

interface Row {
  critical: number
  major: number
  minor: number
  warning: number
  unacknowledged: number
  overdue: number
  raised: number
  resolved: number
  tta_median: number | null
  tta_p90: number | null
  arrive_median: number | null
  arrive_p90: number | null
  ttr_median: number | null
  ttr_p90: number | null
}

/**
 * Unresolved alerts now (silenced ones too: the board shows them), and for alerts raised in
 * [since, now) the times to a person's acknowledgement, arrival and resolve (median and p90, as the
 * ranking measures them). Both scans use indexes of their own (unresolved; raised_at).
 */
export async function overviewFigures(db: Queryable, since: Date, now: Date): Promise<OverviewFigures> {
  const [r] = await db.query<Row>(
    `WITH ${ALERT_FACTS}, today AS (
       SELECT count(*)::int AS raised,
         count(*) FILTER (WHERE person_resolved_at IS NOT NULL)::int AS resolved,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY tta_s) AS tta_median,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY tta_s) AS tta_p90,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY arrive_s) AS arrive_median,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY arrive_s) AS arrive_p90,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY ttr_s) AS ttr_median,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY ttr_s) AS ttr_p90
       FROM a
     ), unresolved AS (
       SELECT count(*) FILTER (WHERE severity = 'critical')::int AS critical,
         count(*) FILTER (WHERE severity = 'major')::int AS major,
         count(*) FILTER (WHERE severity = 'minor')::int AS minor,
         count(*) FILTER (WHERE severity = 'warning')::int AS warning,
         count(*) FILTER (WHERE state = 'open')::int AS unacknowledged,
         count(*) FILTER (WHERE state = 'open' AND ack_deadline < $2)::int AS overdue
       FROM alerts WHERE state <> 'resolved'
     )
     SELECT * FROM unresolved, today`,
    [since, now],
  )
  const n = (v: number | undefined) => v ?? 0
  const open = { critical: n(r?.critical), major: n(r?.major), minor: n(r?.minor), warning: n(r?.warning) }
  return {
    open: { ...open, total: open.critical + open.major + open.minor + open.warning, unacknowledged: n(r?.unacknowledged), overdue: n(r?.overdue) },
    today: {
      raised: n(r?.raised),
      resolved: n(r?.resolved),
      timeToAcknowledge: { medianS: r?.tta_median ?? null, p90S: r?.tta_p90 ?? null },
      timeToArrive: { medianS: r?.arrive_median ?? null, p90S: r?.arrive_p90 ?? null },
      timeToResolve: { medianS: r?.ttr_median ?? null, p90S: r?.ttr_p90 ?? null },
    },
  }
}
