// SQL for the demo's past (cli/demo-history.ts): handled alerts with their history, residents'
// ratings and feedback, in a few set-based statements (unnest of arrays), so weeks of history cost
// a handful of round trips on the embedded database.
import type { Queryable } from '../db/client.ts'
import { EVENT_ORDER_LOCK } from './alerts.ts'
import type { AlertEventType, Severity } from '../../shared/domain.ts'

export interface PastAlert {
  ruleId: string
  deviceId: string
  communityId: string
  companyId: string
  severity: Severity
  title: string
  autoResolve: boolean
  raisedAt: Date
  ackDeadline: Date
  resolveDeadline: Date
  /** A person's steps; null: not taken (a self-cleared alert has none). */
  acknowledgedAt: Date | null
  enRouteAt: Date | null
  arrivedAt: Date | null
  resolvedAt: Date
  /** The crew member who handled it; null: resolved by its producer when the condition cleared. */
  crew: string | null
  /** A resident's rating of the handling, given after the resolve. */
  rating: { stars: number; by: string; at: Date } | null
}

/** Whether the district has any alert raised before `before`: a district with a past gets none made up. */
export async function hasHistoryBefore(db: Queryable, before: Date): Promise<boolean> {
  const [row] = await db.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM alerts WHERE raised_at < $1) AS any', [before])
  return row?.any ?? false
}

/** Inserts the alerts (all resolved), their events and ratings; answers how many alerts. */
export async function insertPastAlerts(tx: Queryable, list: readonly PastAlert[]): Promise<number> {
  if (list.length === 0) return 0
  const col = <T>(f: (a: PastAlert) => T) => list.map(f)
  const ids = await tx.query<{ id: number }>(
    `INSERT INTO alerts (rule_id, device_id, community_id, company_id, source, severity, title, state, condition, auto_resolve,
       raised_at, notified_at, last_seen_at, cleared_at, acknowledged_at, acknowledged_by, assigned_to, assigned_at, en_route_at, arrived_at,
       started_at, resolved_at, resolved_by, resolved_active, resolved_auto, ack_deadline, resolve_deadline)
     SELECT rule_id, device_id, community_id, company_id, 'rules', severity, title, 'resolved', 'cleared', auto_resolve,
       raised_at, raised_at, raised_at, resolved_at, ack_at, crew, crew, ack_at, en_route_at, arrived_at,
       arrived_at, resolved_at, COALESCE(crew, 'rules-engine'), false, crew IS NULL, ack_deadline, resolve_deadline
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::timestamptz[],
       $9::timestamptz[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[], $15::timestamptz[])
       WITH ORDINALITY AS u(rule_id, device_id, community_id, company_id, severity, title, auto_resolve, raised_at,
         ack_at, crew, en_route_at, arrived_at, resolved_at, ack_deadline, resolve_deadline, n)
     ORDER BY n
     RETURNING id`,
    [
      col((a) => a.ruleId), col((a) => a.deviceId), col((a) => a.communityId), col((a) => a.companyId), col((a) => a.severity),
      col((a) => a.title), col((a) => a.autoResolve), col((a) => a.raisedAt), col((a) => a.acknowledgedAt), col((a) => a.crew),
      col((a) => a.enRouteAt), col((a) => a.arrivedAt), col((a) => a.resolvedAt), col((a) => a.ackDeadline), col((a) => a.resolveDeadline),
    ],
  )
  // The ids in insertion order: a bigserial drawn row by row in the ORDER BY's order.
  const alertIds = ids.map((r) => r.id).sort((a, b) => a - b)
  const events: { alertId: number; type: AlertEventType; actor: string; at: Date }[] = []
  list.forEach((a, i) => {
    const alertId = alertIds[i] ?? 0
    events.push({ alertId, type: 'raised', actor: 'rules-engine', at: a.raisedAt })
    if (a.crew !== null && a.acknowledgedAt) events.push({ alertId, type: 'acknowledged', actor: a.crew, at: a.acknowledgedAt })
    if (a.crew !== null && a.enRouteAt) events.push({ alertId, type: 'en_route', actor: a.crew, at: a.enRouteAt })
    if (a.crew !== null && a.arrivedAt) events.push({ alertId, type: 'arrived', actor: a.crew, at: a.arrivedAt })
    events.push({ alertId, type: 'resolved', actor: a.crew ?? 'rules-engine', at: a.resolvedAt })
  })
  // In time order, under the lock that orders event ids by commit (core/repos/alerts.ts insertEvent).
  events.sort((x, y) => x.at.getTime() - y.at.getTime())
  await tx.query('SELECT pg_advisory_xact_lock($1)', [EVENT_ORDER_LOCK])
  await tx.query(
    `INSERT INTO alert_events (alert_id, type, actor, at)
     SELECT alert_id, type, actor, at FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS u(alert_id, type, actor, at, n)
     ORDER BY n`,
    [events.map((e) => e.alertId), events.map((e) => e.type), events.map((e) => e.actor), events.map((e) => e.at)],
  )
  const rated = list.flatMap((a, i) => (a.rating ? [{ id: alertIds[i] ?? 0, ...a.rating }] : []))
  if (rated.length > 0) {
    await tx.query(
      `INSERT INTO alert_ratings (alert_id, rating, rated_by, created_at)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::timestamptz[]) ON CONFLICT DO NOTHING`,
      [rated.map((r) => r.id), rated.map((r) => r.stars), rated.map((r) => r.by), rated.map((r) => r.at)],
    )
  }
  return list.length
}

/** Residents' monthly feedback on their community (one per resident, community and month: a repeat is skipped). */
export async function insertPastFeedback(tx: Queryable, list: readonly { communityId: string; companyId: string; rating: number; author: string; at: Date }[]): Promise<void> {
  if (list.length === 0) return
  await tx.query(
    `INSERT INTO feedback (community_id, company_id, rating, author, created_at, period)
     SELECT c, co, r, a, t, date_trunc('month', t AT TIME ZONE 'UTC')::date
     FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[]) AS u(c, co, r, a, t)
     ON CONFLICT DO NOTHING`,
    [list.map((f) => f.communityId), list.map((f) => f.companyId), list.map((f) => f.rating), list.map((f) => f.author), list.map((f) => f.at)],
  )
}
