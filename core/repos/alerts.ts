// SQL for alerts and their history.
import type { Queryable } from '../db/client.ts'
import type { AlertEventType, AlertSource, AlertState, Severity } from '../../shared/domain.ts'
import type { ReasonDetail } from '../reason-detail.ts'
import type { TitleDetail } from '../../shared/alert-title.ts'
import { RULE_META_COLUMNS, ruleMeta, type RuleMeta } from './rules.ts'

export interface Alert {
  id: number
  ruleId: string
  deviceId: string | null
  communityId: string | null
  companyId: string | null
  source: AlertSource
  severity: Severity
  title: string
  /** The title as data, for readers in other languages (shared/alert-title.ts): a resident's report; null otherwise. */
  titleDetail: TitleDetail | null
  reason: string | null
  /** The reason as data, for readers in other languages (core/reason-detail.ts); null when the producer sent none. */
  reasonDetail: ReasonDetail | null
  state: AlertState
  condition: 'active' | 'cleared'
  autoResolve: boolean
  silenced: boolean
  flapping: boolean
  count: number
  firstValue: number | null
  lastValue: number | null
  predictedAt: Date | null
  raisedAt: Date
  /** When people were asked to respond (the raise, or the end of its maintenance window); null while silenced. */
  notifiedAt: Date | null
  lastSeenAt: Date
  clearedAt: Date | null
  acknowledgedAt: Date | null
  acknowledgedBy: string | null
  /** The person who has it (claimed or assigned), by user name; null: nobody yet. */
  assignedTo: string | null
  assignedAt: Date | null
  /** A person's first "on my way" / "arrived on site" (later ones are history only). */
  enRouteAt: Date | null
  arrivedAt: Date | null
  startedAt: Date | null
  resolvedAt: Date | null
  resolvedBy: string | null
  resolvedActive: boolean | null
  /** Resolved by its producer when the condition cleared (auto-resolve), not by a person. */
  resolvedAuto: boolean
  rearmMs: number
  ackDeadline: Date
  resolveDeadline: Date
  escalationLevel: number
  escalatedAt: Date | null
  lastRemindedAt: Date | null
  resolveOverdueAt: Date | null
  reraiseOf: number | null
  location: string | null
  photoUrl: string | null
  reportedBy: string | null
  /** Shown to the community's residents (besides the reporter of a resident's report). */
  public: boolean
  /** What was done, in the resolver's words, for residents to read. */
  publicNote: string | null
  /** Its group (alerts/grouping.ts): the first member's id; null when grouping was off. */
  groupId: number | null
  /** How many alerts the group has; null without a group. */
  groupSize: number | null
}

export const ALERT_COLUMNS = `a.id, a.rule_id AS "ruleId", a.device_id AS "deviceId", a.community_id AS "communityId",
  a.company_id AS "companyId", a.source, a.severity, a.title, a.title_detail AS "titleDetail", a.reason, a.reason_detail AS "reasonDetail", a.state, a.condition,
  a.auto_resolve AS "autoResolve", a.silenced, a.flapping, a.count, a.first_value AS "firstValue",
  a.last_value AS "lastValue", a.predicted_at AS "predictedAt", a.raised_at AS "raisedAt", a.notified_at AS "notifiedAt",
  a.last_seen_at AS "lastSeenAt", a.cleared_at AS "clearedAt", a.acknowledged_at AS "acknowledgedAt",
  a.acknowledged_by AS "acknowledgedBy", a.assigned_to AS "assignedTo", a.assigned_at AS "assignedAt", a.started_at AS "startedAt",
  a.en_route_at AS "enRouteAt", a.arrived_at AS "arrivedAt", a.resolved_at AS "resolvedAt",
  a.resolved_by AS "resolvedBy", a.resolved_active AS "resolvedActive", a.resolved_auto AS "resolvedAuto", a.rearm_ms AS "rearmMs",
  a.ack_deadline AS "ackDeadline", a.resolve_deadline AS "resolveDeadline",
  a.escalation_level AS "escalationLevel", a.escalated_at AS "escalatedAt",
  a.last_reminded_at AS "lastRemindedAt", a.resolve_overdue_at AS "resolveOverdueAt", a.reraise_of AS "reraiseOf",
  a.location, a.photo_url AS "photoUrl", a.reported_by AS "reportedBy", a.public, a.public_note AS "publicNote",
  a.group_id AS "groupId", (SELECT g.size FROM alert_groups g WHERE g.id = a.group_id) AS "groupSize"`

export interface AlertEvent {
  id: number
  alertId: number
  at: Date
  type: string
  actor: string
  note: string | null
  data: Record<string, unknown> | null
}

const EVENT_COLUMNS = `id, alert_id AS "alertId", at, type, actor, note, data`

export async function getAlert(db: Queryable, id: number, forUpdate = false): Promise<Alert | undefined> {
  const [row] = await db.query<Alert>(`SELECT ${ALERT_COLUMNS} FROM alerts a WHERE a.id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id])
  return row
}

/**
 * Whether a rules engine's raise ($3 true) or clear of the device time $4 was recorded already for
 * rule $1 and device $2: a report sent again after the engine restarted, not a new fault.
 */
const FAULT_RECORDED = `($4::timestamptz IS NOT NULL AND EXISTS (
    SELECT 1 FROM alerts f WHERE f.rule_id = $1 AND f.device_id IS NOT DISTINCT FROM $2
      AND (CASE WHEN $3 THEN f.fault_at ELSE f.fault_cleared_at END) = $4))`

/**
 * The unresolved alert of (rule, device), locked for the report's transaction, and whether a fault
 * with this device time (`faultAt`, of a raise or a clear as `condition` says) was recorded on any
 * alert of (rule, device) before: one round trip for what every report reads first.
 */
export async function unresolvedForReport(
  db: Queryable,
  r: { ruleId: string; deviceId: string | null; condition: 'active' | 'cleared'; faultAt: Date | undefined },
): Promise<{ open: Alert | undefined; faultRecorded: boolean }> {
  const [row] = await db.query<Alert & { faultRecorded: boolean }>(
    `SELECT ${ALERT_COLUMNS}, ${FAULT_RECORDED} AS "faultRecorded" FROM alerts a
     WHERE a.rule_id = $1 AND a.device_id IS NOT DISTINCT FROM $2 AND a.state <> 'resolved' FOR UPDATE`,
    [r.ruleId, r.deviceId, r.condition === 'active', r.faultAt ?? null],
  )
  if (!row) return { open: undefined, faultRecorded: false }
  const { faultRecorded, ...open } = row
  return { open, faultRecorded }
}

/** What a raise needs to know, read in one round trip (AlertService.applyReport). */
export interface RaiseContext {
  faultRecorded: boolean
  /** The stored rule, when the report is a rule's. */
  rule: RuleMeta | undefined
  /** The last resolved alert of (rule, device): a person may have resolved it while the fault went on. */
  previous: { id: number; resolvedActive: boolean | null; resolvedAt: Date | null; rearmMs: number } | undefined
  deviceFound: boolean
  /** The device's community, or the one the report names; undefined when it names none or one that does not exist. */
  community: { id: string; companyId: string | null } | undefined
  /** A maintenance window covers the device, the community or the rule at `now`. */
  silenced: boolean
}

export async function raiseContext(
  db: Queryable,
  r: { ruleId: string; deviceId: string | null; communityId: string | null; faultAt: Date | undefined; now: Date },
): Promise<RaiseContext> {
  const [row] = await db.query<{
    faultRecorded: boolean
    rule: { [K in keyof RuleMeta]: RuleMeta[K] | null } | null
    previousId: number | null
    previousResolvedActive: boolean | null
    previousResolvedAt: Date | null
    previousRearmMs: number | null
    deviceFound: boolean
    communityId: string | null
    companyId: string | null
    silenced: boolean
  }>(
    `WITH target AS (SELECT d.community_id FROM devices d WHERE d.id = $2),
     place AS (SELECT c.id, c.company_id FROM communities c WHERE c.id = COALESCE((SELECT community_id FROM target), $5::text)),
     prev AS (SELECT p.id, p.resolved_active, p.resolved_at, p.rearm_ms FROM alerts p
              WHERE p.rule_id = $1 AND p.device_id IS NOT DISTINCT FROM $2 AND p.state = 'resolved'
              ORDER BY p.resolved_at DESC LIMIT 1),
     a AS (SELECT $2::text AS device_id, COALESCE((SELECT community_id FROM target), $5::text) AS community_id, $1::text AS rule_id)
     SELECT ${FAULT_RECORDED} AS "faultRecorded",
       (SELECT row_to_json(m) FROM (SELECT ${RULE_META_COLUMNS} FROM rules WHERE id = $1) m) AS rule,
       (SELECT id FROM prev) AS "previousId", (SELECT resolved_active FROM prev) AS "previousResolvedActive",
       (SELECT resolved_at FROM prev) AS "previousResolvedAt", (SELECT rearm_ms FROM prev) AS "previousRearmMs",
       EXISTS (SELECT 1 FROM target) AS "deviceFound",
       (SELECT id FROM place) AS "communityId", (SELECT company_id FROM place) AS "companyId",
       EXISTS (SELECT 1 FROM silences s, a WHERE s.starts_at <= $6 AND s.ends_at > $6 AND ${SILENCE_MATCHES}) AS silenced`,
    [r.ruleId, r.deviceId, true, r.faultAt ?? null, r.communityId, r.now],
  )
  if (!row) throw new Error('raise context returned no row')
  return {
    faultRecorded: row.faultRecorded,
    rule: row.rule ? ruleMeta(row.rule) : undefined,
    previous:
      row.previousId === null
        ? undefined
        : { id: row.previousId, resolvedActive: row.previousResolvedActive, resolvedAt: row.previousResolvedAt, rearmMs: Number(row.previousRearmMs) },
    deviceFound: row.deviceFound,
    community: row.communityId === null ? undefined : { id: row.communityId, companyId: row.companyId },
    silenced: row.silenced,
  }
}

export interface NewAlert {
  ruleId: string
  deviceId: string | null
  communityId: string | null
  companyId: string | null
  source: AlertSource
  severity: Severity
  title: string
  titleDetail?: TitleDetail | null
  reason: string | null
  reasonDetail?: ReasonDetail | null
  autoResolve: boolean
  silenced: boolean
  flapping: boolean
  value: number | null
  predictedAt: Date | null
  raisedAt: Date
  notifiedAt: Date | null
  rearmMs: number
  ackDeadline: Date
  resolveDeadline: Date
  reraiseOf: number | null
  location?: string | null
  photoUrl?: string | null
  reportedBy?: string | null
  /** The device time of the raise, as the rules engine reported it (a re-sent raise is recognised by it). */
  faultAt?: Date | null
  /** An open group it joins (its size already counted); undefined: none yet. */
  groupId?: number | null
}

export async function insertAlert(db: Queryable, a: NewAlert): Promise<Alert> {
  const [row] = await db.query<Alert>(
    `INSERT INTO alerts AS a (rule_id, device_id, community_id, company_id, source, severity, title, reason, auto_resolve,
       silenced, flapping, first_value, last_value, predicted_at, raised_at, last_seen_at, rearm_ms, ack_deadline,
       resolve_deadline, reraise_of, location, photo_url, reported_by, notified_at, reason_detail, fault_at, group_id, title_detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
     RETURNING ${ALERT_COLUMNS}`,
    [
      a.ruleId, a.deviceId, a.communityId, a.companyId, a.source, a.severity, a.title, a.reason, a.autoResolve,
      a.silenced, a.flapping, a.value, a.predictedAt, a.raisedAt, a.rearmMs, a.ackDeadline, a.resolveDeadline, a.reraiseOf,
      a.location ?? null, a.photoUrl ?? null, a.reportedBy ?? null, a.notifiedAt,
      a.reasonDetail ? JSON.stringify(a.reasonDetail) : null,
      a.faultAt ?? null,
      a.groupId ?? null,
      a.titleDetail ? JSON.stringify(a.titleDetail) : null,
    ],
  )
  if (!row) throw new Error('insert returned no alert')
  return row
}

/** Columns a state change may set; undefined leaves a column as it is. */
export interface AlertPatch {
  state?: Alert['state']
  condition?: Alert['condition']
  flapping?: boolean
  count?: number
  lastValue?: number | null
  predictedAt?: Date | null
  lastSeenAt?: Date
  clearedAt?: Date | null
  acknowledgedAt?: Date
  acknowledgedBy?: string
  assignedTo?: string
  assignedAt?: Date
  startedAt?: Date
  enRouteAt?: Date
  arrivedAt?: Date
  resolvedAt?: Date
  resolvedBy?: string
  resolvedActive?: boolean
  resolvedAuto?: boolean
  public?: boolean
  publicNote?: string | null
  silenced?: boolean
  notifiedAt?: Date
  ackDeadline?: Date
  resolveDeadline?: Date
  escalationLevel?: number
  escalatedAt?: Date
  lastRemindedAt?: Date
  resolveOverdueAt?: Date
  reason?: string | null
  faultAt?: Date | null
  faultClearedAt?: Date | null
}

const PATCH_COLUMNS: Record<keyof AlertPatch, string> = {
  state: 'state',
  condition: 'condition',
  flapping: 'flapping',
  count: 'count',
  lastValue: 'last_value',
  predictedAt: 'predicted_at',
  lastSeenAt: 'last_seen_at',
  clearedAt: 'cleared_at',
  acknowledgedAt: 'acknowledged_at',
  acknowledgedBy: 'acknowledged_by',
  assignedTo: 'assigned_to',
  assignedAt: 'assigned_at',
  startedAt: 'started_at',
  enRouteAt: 'en_route_at',
  arrivedAt: 'arrived_at',
  resolvedAt: 'resolved_at',
  resolvedBy: 'resolved_by',
  resolvedActive: 'resolved_active',
  resolvedAuto: 'resolved_auto',
  public: 'public',
  publicNote: 'public_note',
  silenced: 'silenced',
  notifiedAt: 'notified_at',
  ackDeadline: 'ack_deadline',
  resolveDeadline: 'resolve_deadline',
  escalationLevel: 'escalation_level',
  escalatedAt: 'escalated_at',
  lastRemindedAt: 'last_reminded_at',
  resolveOverdueAt: 'resolve_overdue_at',
  reason: 'reason',
  faultAt: 'fault_at',
  faultClearedAt: 'fault_cleared_at',
}

export async function updateAlert(db: Queryable, id: number, patch: AlertPatch): Promise<Alert> {
  const sets: string[] = []
  const params: unknown[] = [id]
  for (const [key, column] of Object.entries(PATCH_COLUMNS) as [keyof AlertPatch, string][]) {
    if (patch[key] === undefined) continue
    params.push(patch[key])
    // Column names come from the fixed map above, never from input.
    sets.push(`${column} = $${params.length}`)
  }
  const [row] = await db.query<Alert>(`UPDATE alerts AS a SET ${sets.join(', ')} WHERE a.id = $1 RETURNING ${ALERT_COLUMNS}`, params)
  if (!row) throw new Error(`alert ${id} vanished`)
  return row
}

export async function insertEvent(
  db: Queryable,
  e: { alertId: number; type: AlertEventType; actor: string; note?: string | null; data?: Record<string, unknown> | null; at?: Date },
): Promise<AlertEvent> {
  // The id is drawn after the transaction-level lock of EVENT_ORDER_LOCK is taken, and the lock is
  // held until commit: so event ids increase in commit order, across every process (the live
  // feed and Last-Event-ID rely on it; alerts/feed.ts). Retaken by later events of the same
  // transaction at no cost (advisory locks stack within a session).
  const [row] = await db.query<AlertEvent>(
    `INSERT INTO alert_events (alert_id, type, actor, note, data, at)
     SELECT $1, $2, $3, $4, $5, COALESCE($6, now()) FROM (SELECT pg_advisory_xact_lock($7)) ordered
     RETURNING ${EVENT_COLUMNS}`,
    [e.alertId, e.type, e.actor, e.note ?? null, e.data ? JSON.stringify(e.data) : null, e.at ?? null, EVENT_ORDER_LOCK],
  )
  if (!row) throw new Error('insert returned no event')
  return row
}

/** Advisory lock key that orders alert event writers (the bytes of "hb-evt"). */
export const EVENT_ORDER_LOCK = 0x68622d657674
/** NOTIFY channel on which every committed transaction with alert events announces them. */
export const ALERT_EVENTS_CHANNEL = 'hb_alert_events'

/** The newest committed event id (0 if none). */
export async function lastEventId(db: Queryable): Promise<number> {
  const [row] = await db.query<{ last: number | null }>('SELECT max(id) AS last FROM alert_events')
  return row?.last ?? 0
}

/**
 * Queues a NOTIFY on ALERT_EVENTS_CHANNEL, sent by PostgreSQL when (and only if) `tx` commits, and
 * returns the newest event id below `firstId` (0 if none): what a reader must have seen before
 * this transaction's events. The payload is `{"p":<that id>,` followed by `rest` (the message
 * without its opening brace), so the id is read and sent in one round trip.
 */
export async function notifyAlertEvents(tx: Queryable, firstId: number, rest: string): Promise<number> {
  const [row] = await tx.query<{ p: string }>(
    `SELECT p, pg_notify($1, '{"p":' || p || ',' || $2) FROM (SELECT COALESCE(max(id), 0) AS p FROM alert_events WHERE id < $3) prev`,
    [ALERT_EVENTS_CHANNEL, rest, firstId],
  )
  return Number(row?.p ?? 0)
}

/** Events with after < id <= upTo, oldest first, each with its alert as it is now. */
export async function eventsBetween(db: Queryable, after: number, upTo: number, limit: number): Promise<{ event: AlertEvent; alert: Alert }[]> {
  const events = await db.query<AlertEvent>(`SELECT ${EVENT_COLUMNS} FROM alert_events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`, [after, upTo, limit])
  if (events.length === 0) return []
  const alerts = await db.query<Alert>(`SELECT ${ALERT_COLUMNS} FROM alerts a WHERE a.id = ANY($1::bigint[])`, [[...new Set(events.map((e) => e.alertId))]])
  const byId = new Map(alerts.map((a) => [a.id, a]))
  return events.flatMap((event) => {
    const alert = byId.get(event.alertId)
    return alert ? [{ event, alert }] : []
  })
}

export async function eventsOf(db: Queryable, alertId: number): Promise<AlertEvent[]> {
  return db.query<AlertEvent>(`SELECT ${EVENT_COLUMNS} FROM alert_events WHERE alert_id = $1 ORDER BY id`, [alertId])
}

/** Events after `afterId` with their alert, for resuming the live stream; `companyId` scopes a crew. */
export async function eventsAfter(
  db: Queryable,
  afterId: number,
  limit: number,
  companyId: string | null,
  streetId: string | null = null,
): Promise<(AlertEvent & { alert: Alert })[]> {
  const rows = await db.query<AlertEvent & { alert: Alert }>(
    `SELECT e.id, e.alert_id AS "alertId", e.at, e.type, e.actor, e.note, e.data,
            (SELECT row_to_json(x) FROM (SELECT ${ALERT_COLUMNS} FROM alerts a WHERE a.id = e.alert_id) x) AS alert
     FROM alert_events e JOIN alerts al ON al.id = e.alert_id
     WHERE e.id > $1 AND ($2::text IS NULL OR al.company_id = $2)
       AND ($4::text IS NULL OR al.community_id IN (SELECT id FROM communities WHERE street_id = $4))
     ORDER BY e.id LIMIT $3`,
    [afterId, companyId, limit, streetId],
  )
  return rows
}

/**
 * Where a capped backfill starts: the id after which the newest `maxCount` events (after
 * `afterId`, at or after `since`, of the company if given) follow.
 */
export async function backfillStart(db: Queryable, afterId: number, since: Date, maxCount: number, companyId: string | null, streetId: string | null = null): Promise<number> {
  // None qualifies: start after the newest event there is, so nothing older is read at all.
  const [row] = await db.query<{ start: string | number | null }>(
    `SELECT COALESCE(MIN(id) - 1, (SELECT MAX(id) FROM alert_events)) AS start FROM (
       SELECT e.id FROM alert_events e JOIN alerts al ON al.id = e.alert_id
       WHERE e.id > $1 AND e.at >= $2 AND ($3::text IS NULL OR al.company_id = $3)
         AND ($5::text IS NULL OR al.community_id IN (SELECT id FROM communities WHERE street_id = $5))
       ORDER BY e.id DESC LIMIT $4) newest`,
    [afterId, since, companyId, maxCount, streetId],
  )
  return row?.start === null || row?.start === undefined ? afterId : Math.max(afterId, Number(row.start))
}

export interface AlertFilter {
  states?: AlertState[] | undefined
  severities?: Severity[] | undefined
  kind?: string | undefined
  communityId?: string | undefined
  companyId?: string | undefined
  deviceId?: string | undefined
  ruleId?: string | undefined
  from?: Date | undefined
  to?: Date | undefined
  /** Keyset pagination, newest first: ids strictly below this one. */
  before?: number | undefined
  limit: number
  /** A resident's name: only their own reports and the public alerts. */
  residentView?: string | undefined
  /** Only alerts of communities of this street (a street officer's list; honoured by listAlerts). */
  streetId?: string | undefined
}

/** The conditions of an AlertFilter over `alerts a LEFT JOIN devices d`, parameters $1–$10. */
const ALERT_FILTER = `($1::text[] IS NULL OR a.state = ANY($1))
       AND ($2::text[] IS NULL OR a.severity = ANY($2))
       AND ($3::text IS NULL OR d.kind = $3)
       AND ($4::text IS NULL OR a.community_id = $4)
       AND ($5::text IS NULL OR a.company_id = $5)
       AND ($6::text IS NULL OR a.device_id = $6)
       AND ($7::text IS NULL OR a.rule_id = $7)
       AND ($8::timestamptz IS NULL OR a.raised_at >= $8)
       AND ($9::timestamptz IS NULL OR a.raised_at < $9)
       AND ($10::text IS NULL OR a.reported_by = $10 OR a.public)`

const filterParams = (f: Omit<AlertFilter, 'before' | 'limit'>): unknown[] => [
  f.states ?? null, f.severities ?? null, f.kind ?? null, f.communityId ?? null, f.companyId ?? null,
  f.deviceId ?? null, f.ruleId ?? null, f.from ?? null, f.to ?? null, f.residentView ?? null,
]

export async function listAlerts(db: Queryable, f: AlertFilter): Promise<Alert[]> {
  return db.query<Alert>(
    `SELECT ${ALERT_COLUMNS} FROM alerts a LEFT JOIN devices d ON d.id = a.device_id
     WHERE ${ALERT_FILTER} AND ($11::bigint IS NULL OR a.id < $11)
       AND ($13::text IS NULL OR a.community_id IN (SELECT id FROM communities WHERE street_id = $13))
     ORDER BY a.id DESC LIMIT $12`,
    [...filterParams(f), f.before ?? null, f.limit, f.streetId ?? null],
  )
}

/**
 * How many alerts match (at or below `through` if given), counting no further than `max` + 1 (an export's cap: past it, the exact
 * number does not matter), and the newest one's id: an export pages below it, so alerts raised
 * while it runs do not join a file whose size was checked without them.
 */
export async function countAlerts(db: Queryable, f: Omit<AlertFilter, 'before' | 'limit'>, max: number, through: number | null = null): Promise<{ count: number; newestId: number | null }> {
  const [row] = await db.query<{ count: number; newestId: number | null }>(
    `SELECT count(*)::int AS count, max(id) AS "newestId" FROM (
       SELECT a.id FROM alerts a LEFT JOIN devices d ON d.id = a.device_id WHERE ${ALERT_FILTER} AND ($12::bigint IS NULL OR a.id <= $12) LIMIT $11) m`,
    [...filterParams(f), max + 1, through],
  )
  return { count: row?.count ?? 0, newestId: row?.newestId ?? null }
}

/**
 * A page of the ids a bulk action by filter works through (api/routes/alerts-bulk.ts): matching
 * `f`, at or below `through` (the newest the person confirmed: later ones are not theirs to act
 * on unseen) and below `before`, newest first.
 */
export async function alertIdsPage(db: Queryable, f: Omit<AlertFilter, 'before' | 'limit'>, through: number, before: number | null, limit: number): Promise<number[]> {
  const rows = await db.query<{ id: string | number }>(
    `SELECT a.id FROM alerts a LEFT JOIN devices d ON d.id = a.device_id
     WHERE ${ALERT_FILTER} AND a.id <= $11 AND ($12::bigint IS NULL OR a.id < $12)
     ORDER BY a.id DESC LIMIT $13`,
    [...filterParams(f), through, before, limit],
  )
  return rows.map((r) => Number(r.id))
}

/** An alert with the names of its company, community and device, as a report shows them. */
export interface NamedAlert extends Alert {
  companyName: string | null
  communityName: string | null
  deviceName: string | null
}

/** listAlerts with the names a report needs, joined in the same query. */
export async function listNamedAlerts(db: Queryable, f: AlertFilter): Promise<NamedAlert[]> {
  return db.query<NamedAlert>(
    `SELECT ${ALERT_COLUMNS}, pc.name AS "companyName", cm.name AS "communityName", d.name AS "deviceName"
     FROM alerts a LEFT JOIN devices d ON d.id = a.device_id
       LEFT JOIN property_companies pc ON pc.id = a.company_id
       LEFT JOIN communities cm ON cm.id = a.community_id
     WHERE ${ALERT_FILTER} AND ($11::bigint IS NULL OR a.id < $11)
     ORDER BY a.id DESC LIMIT $12`,
    [...filterParams(f), f.before ?? null, f.limit],
  )
}

/** Unresolved alerts whose acknowledge or resolve deadline passed, or whose reminder is due. */
export async function alertsNeedingEscalation(db: Queryable, now: Date, remindEveryMs: number): Promise<Alert[]> {
  return db.query<Alert>(
    `SELECT ${ALERT_COLUMNS} FROM alerts a
     WHERE a.state <> 'resolved' AND NOT a.silenced AND (
       (a.state = 'open' AND a.ack_deadline <= $1 AND (
          a.escalated_at IS NULL OR COALESCE(a.last_reminded_at, a.escalated_at) <= $1 - make_interval(secs => $2::float8 / 1000)))
       OR (a.resolve_deadline <= $1 AND a.resolve_overdue_at IS NULL))
     ORDER BY a.id LIMIT 500`,
    [now, remindEveryMs],
  )
}

/** The community and responsible company of a device, for dispatch. */
/** A silence `s` names the alert `a` (every field it sets matches). */
const SILENCE_MATCHES = `(s.device_id IS NULL OR s.device_id = a.device_id)
       AND (s.community_id IS NULL OR s.community_id = a.community_id)
       AND (s.rule_id IS NULL OR s.rule_id = a.rule_id)`

/**
 * Silenced, unresolved alerts that no maintenance window covers at `now` any more, with the end of
 * the last window that covered them (null when the window was removed altogether).
 */
export async function silencedPastWindow(db: Queryable, now: Date, limit: number): Promise<{ id: number; windowEnd: Date | null }[]> {
  return db.query(
    `SELECT a.id,
       (SELECT max(s.ends_at) FROM silences s WHERE s.ends_at > a.raised_at AND s.ends_at <= $1 AND ${SILENCE_MATCHES}) AS "windowEnd"
     FROM alerts a
     WHERE a.silenced AND a.state <> 'resolved'
       AND NOT EXISTS (SELECT 1 FROM silences s WHERE s.starts_at <= $1 AND s.ends_at > $1 AND ${SILENCE_MATCHES})
     ORDER BY a.id LIMIT $2`,
    [now, limit],
  )
}

/** When the alert last recorded a `raised` or `updated` event (repeats are thinned against it). */
export async function lastUpdateAt(db: Queryable, alertId: number): Promise<Date | undefined> {
  const [row] = await db.query<{ at: Date }>(
    "SELECT at FROM alert_events WHERE alert_id = $1 AND type IN ('raised', 'updated') ORDER BY id DESC LIMIT 1",
    [alertId],
  )
  return row?.at
}

/**
 * Deletes, at most `limit` at a time, the history of alerts resolved before `before`. The alert rows
 * stay: the ranking is computed from them, not from their events.
 */
export async function deleteResolvedHistory(db: Queryable, before: Date, limit: number): Promise<number> {
  const rows = await db.query(
    `DELETE FROM alert_events WHERE id IN (
       SELECT e.id FROM alerts a JOIN alert_events e ON e.alert_id = a.id
       WHERE a.state = 'resolved' AND a.resolved_at < $1
       LIMIT $2)
     RETURNING 1`,
    [before, limit],
  )
  return rows.length
}

/** The rules engine's unresolved alerts: what it must not raise again after a restart. */
export async function unresolvedRuleAlerts(db: Queryable): Promise<{ ruleId: string; deviceId: string; condition: 'active' | 'cleared' }[]> {
  return db.query(
    `SELECT rule_id AS "ruleId", device_id AS "deviceId", condition FROM alerts
     WHERE state <> 'resolved' AND source = 'rules' AND device_id IS NOT NULL`,
  )
}
