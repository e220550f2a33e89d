// SQL for 12345 hotline cases (issue 22): the import's upsert by case number, a company's cases,
// and the per-company figures the evaluation reports (api/routes/evaluation.ts; docs/operators.md
// "Hotline cases" states the formula).
import type { Queryable } from '../db/client.ts'

export interface HotlineCaseInput {
  caseNo: string
  communityId: string
  receivedAt: Date
  category: string | null
  summary: string | null
  handledAt: Date | null
  satisfaction: number | null
}

export interface HotlineCase extends HotlineCaseInput {
  communityName: string
  companyId: string | null
}

/** How an import changed the table: new case numbers, changed ones, and ones sent again unchanged. */
export interface UpsertCount {
  inserted: number
  updated: number
  unchanged: number
}

/**
 * The company a case belongs to: the one that looked after the community when the case was received
 * (the assignment in force then); for a case older than the community's first assignment (history
 * imported after registering), that first company; else the community's current company.
 */
const COMPANY_AT = `COALESCE(
  (SELECT a.company_id FROM community_assignments a
    WHERE a.community_id = $2 AND a.starts_at <= $3 AND (a.ends_at IS NULL OR a.ends_at > $3) ORDER BY a.starts_at DESC LIMIT 1),
  (SELECT a.company_id FROM community_assignments a WHERE a.community_id = $2 ORDER BY a.starts_at LIMIT 1),
  (SELECT c.company_id FROM communities c WHERE c.id = $2))`

/**
 * Inserts new case numbers and updates changed ones; a case sent again as it is stays untouched
 * (no row comes back from the guarded update). Run inside the import's transaction.
 */
export async function upsertCases(tx: Queryable, cases: readonly HotlineCaseInput[], by: string): Promise<UpsertCount> {
  const count: UpsertCount = { inserted: 0, updated: 0, unchanged: 0 }
  for (const c of cases) {
    // xmax = 0 on a row version this statement inserted; an updated one carries our xid.
    const [row] = await tx.query<{ inserted: boolean }>(
      `INSERT INTO hotline_cases (case_no, community_id, company_id, received_at, category, summary, handled_at, satisfaction, imported_by)
       VALUES ($1, $2, ${COMPANY_AT}, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (case_no) DO UPDATE SET
         community_id = EXCLUDED.community_id, company_id = EXCLUDED.company_id, received_at = EXCLUDED.received_at,
         category = EXCLUDED.category, summary = EXCLUDED.summary, handled_at = EXCLUDED.handled_at,
         satisfaction = EXCLUDED.satisfaction, imported_by = EXCLUDED.imported_by, updated_at = now()
       WHERE (hotline_cases.community_id, hotline_cases.company_id, hotline_cases.received_at, hotline_cases.category,
              hotline_cases.summary, hotline_cases.handled_at, hotline_cases.satisfaction)
         IS DISTINCT FROM (EXCLUDED.community_id, EXCLUDED.company_id, EXCLUDED.received_at, EXCLUDED.category,
              EXCLUDED.summary, EXCLUDED.handled_at, EXCLUDED.satisfaction)
       RETURNING (xmax = 0) AS inserted`,
      [c.caseNo, c.communityId, c.receivedAt, c.category, c.summary, c.handledAt, c.satisfaction, by],
    )
    if (!row) count.unchanged++
    else if (row.inserted) count.inserted++
    else count.updated++
  }
  return count
}

/** Which of these case numbers are stored already (a dry run says how many are new). */
export async function storedCaseNumbers(db: Queryable, caseNos: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ caseNo: string }>('SELECT case_no AS "caseNo" FROM hotline_cases WHERE case_no = ANY($1::text[])', [caseNos])
  return rows.map((r) => r.caseNo)
}

/** A company's cases received in [from, to), newest first, at most `limit`, and how many there are. */
export async function companyCases(db: Queryable, companyId: string, from: Date, to: Date, limit: number): Promise<{ total: number; items: HotlineCase[] }> {
  const [counted] = await db.query<{ total: number }>(
    'SELECT count(*)::int AS total FROM hotline_cases WHERE company_id = $1 AND received_at >= $2 AND received_at < $3',
    [companyId, from, to],
  )
  const items = await db.query<HotlineCase>(
    `SELECT h.case_no AS "caseNo", h.community_id AS "communityId", c.name AS "communityName", h.company_id AS "companyId",
       h.received_at AS "receivedAt", h.category, h.summary, h.handled_at AS "handledAt", h.satisfaction
     FROM hotline_cases h JOIN communities c ON c.id = h.community_id
     WHERE h.company_id = $1 AND h.received_at >= $2 AND h.received_at < $3
     ORDER BY h.received_at DESC, h.case_no LIMIT $4`,
    [companyId, from, to, limit],
  )
  return { total: counted?.total ?? 0, items }
}

export interface HotlineFigures {
  companyId: string
  cases: number
  /** Communities the company looks after now: the denominator of cases per community. */
  communities: number
  handled: number
  /** Cases handled, or whose deadline passed by `asOf`: the denominator of the on-time share. */
  due: number
  onTime: number
  satisfactionMean: number | null
  /** Cases the citizen rated (one citizen a case). */
  rated: number
}

/**
 * Per company, its cases received in [from, to) as of `asOf`, against a deadline of `deadlineMs`
 * from receipt. Every company (or the one named) is listed, with zeros when it had no case.
 */
export async function hotlineFigures(db: Queryable, from: Date, to: Date, asOf: Date, deadlineMs: number, companyId?: string, streetId?: string): Promise<HotlineFigures[]> {
  return db.query<HotlineFigures>(
    `WITH c AS (
       SELECT company_id, count(*)::int AS n FROM communities WHERE company_id IS NOT NULL AND ($6::text IS NULL OR street_id = $6) GROUP BY company_id
     ), h AS (
       SELECT company_id,
         count(*)::int AS cases,
         count(*) FILTER (WHERE handled_at IS NOT NULL)::int AS handled,
         count(*) FILTER (WHERE handled_at IS NOT NULL OR received_at + $4::float8 * interval '1 millisecond' <= $3)::int AS due,
         count(*) FILTER (WHERE handled_at <= received_at + $4::float8 * interval '1 millisecond')::int AS on_time,
         avg(satisfaction)::float8 AS mean,
         count(satisfaction)::int AS rated
       FROM hotline_cases WHERE company_id IS NOT NULL AND received_at >= $1 AND received_at < $2
         AND ($6::text IS NULL OR community_id IN (SELECT id FROM communities WHERE street_id = $6)) GROUP BY company_id
     )
     SELECT p.id AS "companyId", COALESCE(h.cases, 0) AS cases, COALESCE(c.n, 0) AS communities, COALESCE(h.handled, 0) AS handled,
       COALESCE(h.due, 0) AS due, COALESCE(h.on_time, 0) AS "onTime", h.mean AS "satisfactionMean", COALESCE(h.rated, 0) AS rated
     FROM property_companies p LEFT JOIN h ON h.company_id = p.id LEFT JOIN c ON c.company_id = p.id
     WHERE ($5::text IS NULL OR p.id = $5)`,
    [from, to, asOf, deadlineMs, companyId ?? null, streetId ?? null],
  )
}
