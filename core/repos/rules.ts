// SQL for rule definitions. The definition is stored whole (as validated by
// rules/definitions.ts, durations already in milliseconds); a few fields are copied out to filter on.
import type { Queryable } from '../db/client.ts'
import type { Severity } from '../../shared/domain.ts'

export interface StoredRule {
  id: string
  definition: Record<string, unknown>
  enabled: boolean
  builtin: boolean
  createdAt: Date
  updatedAt: Date
}

/** What the alert lifecycle needs of a rule. */
export interface RuleMeta {
  name: string
  description: string | null
  severity: Severity
  autoResolve: boolean
  rearmAfterMs: number | undefined
  ackDeadlineMs: number | undefined
  resolveDeadlineMs: number | undefined
}

const COLUMNS = `id, definition, enabled, builtin, created_at AS "createdAt", updated_at AS "updatedAt"`

/**
 * A rule a company may see (`$1` is its id, NULL for everyone): one for every community (scoped
 * by kind only), or scoped to a community or device of that company. Rules watching another
 * company's community or device are that company's business (issue 7, item 17).
 */
const VISIBLE_TO_COMPANY = `($1::text IS NULL OR (
    (definition->'scope'->>'communityId' IS NULL OR EXISTS (
       SELECT 1 FROM communities c WHERE c.id = definition->'scope'->>'communityId' AND c.company_id = $1))
    AND (definition->'scope'->>'deviceId' IS NULL OR EXISTS (
       SELECT 1 FROM devices d JOIN communities c ON c.id = d.community_id
       WHERE d.id = definition->'scope'->>'deviceId' AND c.company_id = $1))))`

/** Every rule, or (with `companyId`) those that company may see. */
export async function listRules(db: Queryable, companyId?: string): Promise<StoredRule[]> {
  return db.query<StoredRule>(`SELECT ${COLUMNS} FROM rules WHERE ${VISIBLE_TO_COMPANY} ORDER BY id`, [companyId ?? null])
}

export async function getRule(db: Queryable, id: string, companyId?: string): Promise<StoredRule | undefined> {
  const [row] = await db.query<StoredRule>(`SELECT ${COLUMNS} FROM rules WHERE id = $2 AND ${VISIBLE_TO_COMPANY}`, [companyId ?? null, id])
  return row
}

/** The columns of RuleMeta, read from `rules` (NULL where a field is not set). */
export const RULE_META_COLUMNS = `definition->>'name' AS name, definition->>'description' AS description, severity,
  COALESCE((definition->>'autoResolve')::boolean, false) AS "autoResolve",
  (definition->>'rearmAfter')::float8 AS "rearmAfterMs",
  (definition->>'ackDeadline')::float8 AS "ackDeadlineMs",
  (definition->>'resolveDeadline')::float8 AS "resolveDeadlineMs"`

/** A row of RULE_META_COLUMNS as RuleMeta: NULL from SQL means "not set", the severity's default applies. */
export function ruleMeta(row: { [K in keyof RuleMeta]: RuleMeta[K] | null }): RuleMeta {
  return {
    name: row.name ?? '',
    description: row.description,
    severity: row.severity as Severity,
    autoResolve: row.autoResolve ?? false,
    rearmAfterMs: row.rearmAfterMs ?? undefined,
    ackDeadlineMs: row.ackDeadlineMs ?? undefined,
    resolveDeadlineMs: row.resolveDeadlineMs ?? undefined,
  }
}

export async function getRuleMeta(db: Queryable, id: string): Promise<RuleMeta | undefined> {
  const [row] = await db.query<{ [K in keyof RuleMeta]: RuleMeta[K] | null }>(`SELECT ${RULE_META_COLUMNS} FROM rules WHERE id = $1`, [id])
  return row ? ruleMeta(row) : undefined
}

export interface RuleRow {
  id: string
  type: string
  severity: Severity
  enabled: boolean
  definition: Record<string, unknown>
}

/** The row of a validated definition (rules/definitions.ts). */
export function ruleRow(rule: { id: string; type: string; severity: Severity; enabled: boolean }): RuleRow {
  return { id: rule.id, type: rule.type, severity: rule.severity, enabled: rule.enabled, definition: { ...rule } }
}

/** Creates or replaces a rule; returns whether it was new. */
export async function upsertRule(db: Queryable, r: RuleRow, builtin = false): Promise<boolean> {
  const [row] = await db.query<{ inserted: boolean }>(
    `INSERT INTO rules (id, definition, type, severity, enabled, builtin) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO UPDATE SET definition = EXCLUDED.definition, type = EXCLUDED.type,
       severity = EXCLUDED.severity, enabled = EXCLUDED.enabled, updated_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [r.id, JSON.stringify(r.definition), r.type, r.severity, r.enabled, builtin],
  )
  return row?.inserted ?? false
}

/** Adds the rules that are missing; rules an operator changed or deleted stay as they are. */
export async function seedRules(db: Queryable, rules: readonly RuleRow[]): Promise<number> {
  let added = 0
  for (const r of rules) {
    const rows = await db.query(
      `INSERT INTO rules (id, definition, type, severity, enabled, builtin) VALUES ($1, $2, $3, $4, $5, true)
       ON CONFLICT (id) DO NOTHING RETURNING 1`,
      [r.id, JSON.stringify(r.definition), r.type, r.severity, r.enabled],
    )
    added += rows.length
  }
  return added
}

export async function deleteRule(db: Queryable, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM rules WHERE id = $1 RETURNING 1', [id])).length > 0
}
