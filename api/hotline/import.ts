// 12345 hotline cases in bulk (issue 22): a CSV export of the hotline's work orders, or the same as
// JSON, checked row by row against itself and the registry, with every problem reported (row,
// column, code, params: shared/import-text.ts) before anything is written — as the device import.
//
// Matching: the `community` cell is a community's id, or else its name exactly as the registry
// spells it (an export carries names); a name that several communities share must be given as id.
// Times: RFC 3339 with an offset, or `YYYY-MM-DD HH:mm[:ss]` (also with slashes, as Excel writes
// dates) read as China Standard Time (UTC+8, no daylight saving), which is what the hotline's
// exports write. Satisfaction: 1–5, or the hotline's words 满意 / 基本满意 / 不满意 as 5 / 3 / 1.
//
// Bounds: HOTLINE_MAX_ROWS cases and HOTLINE_MAX_BYTES a request; an import is one transaction of
// one upsert a case (no hashing, unlike devices), a few seconds at most.
import type { Queryable } from '../../core/db/client.ts'
import type { HotlineCaseInput } from '../../core/repos/hotline.ts'
import { listCommunities } from '../../core/repos/registry.ts'
import { HOTLINE_COLUMNS, type Coded, type HotlineColumn, type ImportProblemCode } from '../../shared/import-text.ts'
import { readCsvTable, rowProblem, type CsvRow, type RowProblem } from '../import-csv.ts'

export const HOTLINE_MAX_ROWS = 5000
export const HOTLINE_MAX_BYTES = 4 * 1024 * 1024
/** Default HOTLINE_HANDLE_DEADLINE: 3 days from receipt. */
export const HOTLINE_DEADLINE_MS = 72 * 3_600_000
const REQUIRED: readonly HotlineColumn[] = ['case_no', 'received_at', 'community']
/** The bounds of the table's CHECKs (core/db/migrations.ts, version 32). */
const TEXT_MAX = { category: 60, summary: 1000 } as const
const CASE_NO = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$/
const CST_OFFSET_MS = 8 * 3_600_000
const WORDS: Record<string, number> = { 满意: 5, 基本满意: 3, 不满意: 1 }

export { HOTLINE_COLUMNS }
export type HotlineRow = CsvRow<HotlineColumn>

/** A CSV file's rows, or the problems that stop it being read. */
export function readHotlineCsv(text: string): { rows: HotlineRow[]; problems: RowProblem[] } {
  return readCsvTable(text, {
    columns: HOTLINE_COLUMNS,
    required: REQUIRED,
    maxRows: HOTLINE_MAX_ROWS,
    empty: { code: 'no_cases', params: {} },
    tooMany: (rows, max) => ({ code: 'too_many_cases', params: { rows, max } }),
  })
}

/** A time as the hotline writes it, or undefined. */
export function parseCaseTime(text: string): Date | undefined {
  const rfc = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/i.test(text)
  if (rfc) {
    const ms = Date.parse(text.replace(' ', 'T'))
    return Number.isFinite(ms) ? new Date(ms) : undefined
  }
  const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text)
  if (!m) return undefined
  const [y, mo, d, h, mi, s] = m.slice(1).map((v: string | undefined) => Number(v ?? 0)) as [number, number, number, number, number, number]
  const wall = new Date(Date.UTC(y, mo - 1, d, h, mi, s))
  // 2026-02-30 would roll over into March: refuse what the calendar does not have.
  if (wall.getUTCFullYear() !== y || wall.getUTCMonth() !== mo - 1 || wall.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined
  return new Date(wall.getTime() - CST_OFFSET_MS)
}

/**
 * Checks every row: case number present, well-formed and once in the file; the community matched
 * by id or name; times readable and handled not before received; texts within bounds; a rating
 * 1–5. `column` names a column as the client sent it (CSV header or JSON field).
 */
export async function checkCases(
  db: Queryable,
  rows: readonly HotlineRow[],
  column: (c: HotlineColumn) => string = (c) => c,
): Promise<{ cases: HotlineCaseInput[]; problems: RowProblem[] }> {
  const problems: RowProblem[] = []
  const say = (row: HotlineRow, c: HotlineColumn, coded: Coded<ImportProblemCode>) => problems.push(rowProblem(row.line, column(c), coded))
  const communities = await listCommunities(db, {})
  const ids = new Set(communities.map((c) => c.id))
  const byName = new Map<string, string[]>()
  for (const c of communities) byName.set(c.name.trim(), [...(byName.get(c.name.trim()) ?? []), c.id])
  const firstRow = new Map<string, number>()
  const cases: HotlineCaseInput[] = []

  for (const row of rows) {
    const c = row.cells
    const before = problems.length
    for (const [name, v] of Object.entries(c) as [HotlineColumn, string][]) if (v.includes('\u0000')) say(row, name, { code: 'nul_character', params: {} })

    const caseNo = c.case_no ?? ''
    const first = firstRow.get(caseNo)
    if (!caseNo) say(row, 'case_no', { code: 'case_missing', params: {} })
    else if (!CASE_NO.test(caseNo)) say(row, 'case_no', { code: 'case_invalid', params: { caseNo } })
    else if (first !== undefined) say(row, 'case_no', { code: 'case_repeated', params: { caseNo, first } })
    if (caseNo && first === undefined) firstRow.set(caseNo, row.line)

    const community = c.community ?? ''
    let communityId = ''
    if (!community) say(row, 'community', { code: 'case_community_missing', params: {} })
    else if (ids.has(community)) communityId = community
    else {
      const named = byName.get(community) ?? []
      if (named.length === 1) communityId = named[0] ?? ''
      else if (named.length > 1) say(row, 'community', { code: 'community_ambiguous', params: { community, count: named.length } })
      else say(row, 'community', { code: 'community_unknown', params: { community } })
    }

    const time = (name: 'received_at' | 'handled_at'): Date | null => {
      const v = c[name]
      if (v === undefined) return null
      const t = parseCaseTime(v)
      if (!t) say(row, name, { code: 'time_invalid', params: { value: v } })
      return t ?? null
    }
    const receivedAt = time('received_at')
    if (c.received_at === undefined) say(row, 'received_at', { code: 'received_missing', params: {} })
    const handledAt = time('handled_at')
    if (receivedAt && handledAt && handledAt < receivedAt) say(row, 'handled_at', { code: 'handled_before_received', params: {} })

    const text = (name: 'category' | 'summary'): string | null => {
      const v = c[name]
      if (v !== undefined && v.length > TEXT_MAX[name]) say(row, name, { code: 'name_too_long', params: { length: v.length, max: TEXT_MAX[name] } })
      return v ?? null
    }
    const category = text('category')
    const summary = text('summary')

    let satisfaction: number | null = null
    const rating = c.satisfaction
    if (rating !== undefined) {
      satisfaction = /^[1-5]$/.test(rating) ? Number(rating) : (WORDS[rating] ?? null)
      if (satisfaction === null) say(row, 'satisfaction', { code: 'satisfaction_invalid', params: { value: rating } })
    }

    if (problems.length === before && receivedAt) cases.push({ caseNo, communityId, receivedAt, category, summary, handledAt, satisfaction })
  }
  return { cases, problems }
}
