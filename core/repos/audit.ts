// SQL for the audit log: who changed the configuration, when, what and from where
// (api/plugins/audit.ts decides what is recorded and redacts it; this module only stores and reads).
// Listed newest first with keyset pagination on the id, as the dead letters and alerts are.
import type { Queryable } from '../db/client.ts'
import type { Role } from '../../shared/domain.ts'

export interface AuditEntry {
  actorId: string
  actorName: string
  actorRole: Role
  companyId: string | null
  action: string
  method: string
  /** The route pattern, e.g. /api/v1/rules/:id. */
  route: string
  /** Path parameters, plus `id` (or `created`) of what a create made. */
  target: Record<string, string>
  query: Record<string, unknown> | null
  /** Already redacted and bounded by the caller. */
  body: unknown
  status: number
  requestId: string
  ip: string | null
  /** Default now; tests back-date entries to exercise retention. */
  at?: Date
}

export interface StoredAuditEntry extends Omit<AuditEntry, 'at'> {
  id: number
  at: Date
}

const COLUMNS = `id, at, actor_id AS "actorId", actor_name AS "actorName", actor_role AS "actorRole", company_id AS "companyId",
  action, method, route, target, query, body, status, request_id AS "requestId", ip`

export async function insertAudit(db: Queryable, e: AuditEntry): Promise<void> {
  // Every value of the target is searchable, deduplicated (`id` and a path parameter may agree).
  const ids = [...new Set(Object.values(e.target))]
  await db.query(
    `INSERT INTO audit_log (at, actor_id, actor_name, actor_role, company_id, action, method, route, target, target_ids, query, body, status, request_id, ip)
     VALUES (COALESCE($1, now()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [
      e.at ?? null,
      e.actorId,
      e.actorName,
      e.actorRole,
      e.companyId,
      e.action,
      e.method,
      e.route,
      JSON.stringify(e.target),
      ids,
      e.query === null ? null : JSON.stringify(e.query),
      e.body === null || e.body === undefined ? null : JSON.stringify(e.body),
      e.status,
      e.requestId,
      e.ip,
    ],
  )
}

export interface AuditFilter {
  /** A user id or a user name. */
  actor?: string | undefined
  action?: string | undefined
  /** Any id the entry names: a path parameter or what a create made. */
  target?: string | undefined
  companyId?: string | undefined
  from?: Date | undefined
  to?: Date | undefined
  /** Keyset pagination: ids strictly below this one (newest first). */
  before?: number | undefined
  limit: number
}

/** The conditions of an AuditFilter, parameters $1–$6. */
const AUDIT_FILTER = `($1::text IS NULL OR actor_id = $1 OR actor_name = $1)
       AND ($2::text IS NULL OR action = $2)
       AND ($3::text IS NULL OR target_ids @> ARRAY[$3::text])
       AND ($4::text IS NULL OR company_id = $4)
       AND ($5::timestamptz IS NULL OR at >= $5)
       AND ($6::timestamptz IS NULL OR at < $6)`

const filterParams = (f: Omit<AuditFilter, 'before' | 'limit'>): unknown[] => [f.actor ?? null, f.action ?? null, f.target ?? null, f.companyId ?? null, f.from ?? null, f.to ?? null]

export async function listAudit(db: Queryable, f: AuditFilter): Promise<StoredAuditEntry[]> {
  return db.query<StoredAuditEntry>(
    `SELECT ${COLUMNS} FROM audit_log
     WHERE ${AUDIT_FILTER} AND ($7::bigint IS NULL OR id < $7)
     ORDER BY id DESC LIMIT $8`,
    [...filterParams(f), f.before ?? null, f.limit],
  )
}

/** How many entries match, counting no further than `max` + 1, and the newest one's id (as countAlerts). */
export async function countAudit(db: Queryable, f: Omit<AuditFilter, 'before' | 'limit'>, max: number): Promise<{ count: number; newestId: number | null }> {
  const [row] = await db.query<{ count: number; newestId: number | null }>(
    `SELECT count(*)::int AS count, max(id) AS "newestId" FROM (SELECT id FROM audit_log WHERE ${AUDIT_FILTER} LIMIT $7) m`,
    [...filterParams(f), max + 1],
  )
  return { count: row?.count ?? 0, newestId: row?.newestId ?? null }
}

/** Deletes at most `limit` entries recorded before `before`; returns how many went. */
export async function pruneAudit(db: Queryable, before: Date, limit: number): Promise<number> {
  const rows = await db.query(
    'DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2) RETURNING 1',
    [before, limit],
  )
  return rows.length
}

/**
 * The names of the ids an audit page names (users, devices, companies, communities), so a reader
 * sees "用户：张师傅" rather than a UUID; an id of none of them, or of one since deleted, is absent.
 * One query a page: the ids are the page's targets, a few per entry.
 */
export async function namesOf(db: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map()
  const rows = await db.query<{ id: string; name: string }>(
    `SELECT id, name FROM users WHERE id = ANY($1::text[])
     UNION ALL SELECT id, name FROM devices WHERE id = ANY($1::text[]) AND name IS NOT NULL
     UNION ALL SELECT id, name FROM property_companies WHERE id = ANY($1::text[])
     UNION ALL SELECT id, name FROM communities WHERE id = ANY($1::text[])`,
    [ids],
  )
  return new Map(rows.map((r) => [r.id, r.name]))
}
