// 12345 hotline cases on the embedded database: CSV and JSON imports, idempotent by case number;
// all or nothing with every problem per row (unmatched and ambiguous communities, bad times, a
// case handled before received …); the bounds; a company's cases; and the per-company figures of
// the evaluation against values computed by hand, with the score left as it was. On the embedded
// database (PGlite) and on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { HOTLINE_MAX_BYTES, HOTLINE_MAX_ROWS } from '../../api/hotline/import.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { apiFor } from '../helpers/api.ts'
import { dbTargets, onTarget } from '../helpers/services.ts'

const H = 3_600_000
const DEADLINE_H = 24
/** The fixture's month: cases received in [P, P + 30 days). */
const P = Date.UTC(2026, 9, 1)
const PERIOD = `from=${new Date(P).toISOString()}&to=${new Date(P + 30 * 24 * H).toISOString()}`

interface Problem {
  row: number
  column: string
  code: string
  params: Record<string, string | number>
  message: string
}

let db: Db
let app: App
let auth: Record<string, string>

const csv = (lines: string[], query = '') =>
  app.inject({ method: 'POST', url: `/api/v1/hotline/cases/import${query}`, headers: { ...auth, 'content-type': 'text/csv' }, payload: lines.join('\r\n') })
const json = (cases: unknown[], query = '') => app.inject({ method: 'POST', url: `/api/v1/hotline/cases${query}`, headers: auth, payload: { cases } })
const problemsOf = (body: string) => (JSON.parse(body) as { details: { problems: Problem[] } }).details.problems
const count = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM hotline_cases'))[0]?.n
const ranking = async (query = PERIOD) => {
  const res = await app.inject({ method: 'GET', url: `/api/v1/evaluation/ranking?${query}`, headers: auth })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<{ items: { companyId: string; score: number | null; hotline: Record<string, unknown> }[] }>().items
}

async function setUp(url: string | undefined): Promise<void> {
  db = await openDb(url ? { url } : {})
  const features = await migrate(db, { log: silentLogger })
  await createCompany(db, { id: 'co-a', name: 'Alpha Property', contact: null })
  await createCompany(db, { id: 'co-b', name: 'Beta Property', contact: null })
  const communities: [string, string, string][] = [
    ['cm-a1', '阳光花园', 'co-a'],
    ['cm-a2', 'Riverside', 'co-a'],
    ['cm-b1', '锦绣苑', 'co-b'],
    ['cm-t1', 'Twin Towers', 'co-b'],
    ['cm-t2', 'Twin Towers', 'co-b'],
  ]
  for (const [id, name, co] of communities) {
    await createCommunity(db, id, { name, district: null, street: null, address: null, lat: null, lon: null })
    await assignCommunity(db, id, co, 'fixture', null)
  }
  const api = await apiFor(db, features, { hotlineDeadlineMs: DEADLINE_H * H })
  app = api.app
  auth = { authorization: `Bearer ${api.token}` }
  // One alert of co-a in the month, so its score is a number the cases must not move.
  await db.query(
    `INSERT INTO alerts (rule_id, community_id, company_id, source, severity, title, state, raised_at, last_seen_at, acknowledged_at, resolved_at, ack_deadline, resolve_deadline)
     VALUES ('fx-1', 'cm-a1', 'co-a', 'operator', 'major', 'fixture', 'resolved', $1, $1, $2, $3, $4, $5)`,
    [new Date(P + H), new Date(P + 1.5 * H), new Date(P + 3 * H), new Date(P + 2 * H), new Date(P + 5 * H)],
  )
}

describe.each(await dbTargets())('hotline cases (%s)', (_name, postgres) => {
  onTarget(postgres, setUp, async () => {
    await app.close()
    await db.close()
  }, { beforeAll, afterAll })

  let scoreBefore: number | null | undefined

  it('imports a CSV export: communities by id or name, times in China Standard Time, the hotline\'s words for ratings', async () => {
    scoreBefore = (await ranking()).find((r) => r.companyId === 'co-a')?.score
    expect(scoreBefore).toEqual(expect.any(Number))
    const res = await csv([
      '\uFEFFCase_No,community,received_at,handled_at,satisfaction,category,summary',
      // handled in 10 h (on time), satisfied
      'HL-001,阳光花园,2026-10-02 09:00,2026-10-02 19:00,满意,物业服务,"电梯异响, 多次报修"',
      // handled in 30 h (late), rated 2
      'HL-002,cm-a1,2026/10/03 08:30,2026-10-04T14:30:00+08:00,2,环境卫生,',
      // still open: past its deadline, so late
      'HL-003,Riverside,2026-10-05 12:00,,,,',
      // Beta's: handled in 1 h, fairly satisfied
      'HL-004,锦绣苑,2026-10-06T02:00:00Z,2026-10-06 11:00,基本满意,,',
    ])
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toEqual({ dryRun: false, cases: 4, inserted: 4, updated: 0, unchanged: 0 })
    const [row] = await db.query<{ received_at: Date; company_id: string; satisfaction: number; summary: string }>(
      "SELECT received_at, company_id, satisfaction, summary FROM hotline_cases WHERE case_no = 'HL-001'",
    )
    expect(row?.received_at.toISOString()).toBe('2026-10-02T01:00:00.000Z')
    expect(row).toMatchObject({ company_id: 'co-a', satisfaction: 5, summary: '电梯异响, 多次报修' })
  })

  it('is idempotent by case number: the same file again changes nothing, a changed case is updated', async () => {
    const same = await csv(['case_no,received_at,community,handled_at,satisfaction', 'HL-003,2026-10-05 12:00,Riverside,,'])
    expect(same.json()).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 })
    // Over JSON: HL-003 handled meanwhile (in 30 h: late), and a new case.
    const res = await json([
      { caseNo: 'HL-003', receivedAt: '2026-10-05 12:00', community: 'cm-a2', handledAt: '2026-10-06 18:00' },
      { caseNo: 'HL-005', receivedAt: '2026-10-07T09:00:00+08:00', community: 'cm-a2', handledAt: '2026-10-07T10:00:00+08:00', satisfaction: 4, category: '设施设备' },
    ])
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toEqual({ dryRun: false, cases: 2, inserted: 1, updated: 1, unchanged: 0 })
    expect(await count()).toBe(5)
  })

  it('refuses a file with bad rows whole, every problem listed by row and column', async () => {
    const res = await csv([
      'case_no,received_at,community,handled_at,satisfaction',
      'HL-100,2026-10-08 09:00,阳光花园,,', // good, but not imported
      'HL-101,2026-10-08 09:00,No Such Garden,,',
      'HL-102,yesterday,cm-a1,2026-13-01 10:00,',
      'HL-103,2026-10-08 09:00,cm-a1,2026-10-08 08:00,',
      'HL-104,2026-10-08 09:00,Twin Towers,,very',
      'HL-100,2026-10-08 09:00,cm-a1,,',
      ',,,,',
      '#bad,2026-02-30 09:00,cm-a1,,6',
    ])
    expect(res.statusCode, res.body).toBe(422)
    expect(res.json()).toMatchObject({ code: 'import_rejected' })
    const got = problemsOf(res.body).map((p) => [p.row, p.column, p.code])
    expect(got).toEqual([
      [3, 'community', 'community_unknown'],
      [4, 'received_at', 'time_invalid'],
      [4, 'handled_at', 'time_invalid'],
      [5, 'handled_at', 'handled_before_received'],
      [6, 'community', 'community_ambiguous'],
      [6, 'satisfaction', 'satisfaction_invalid'],
      [7, 'case_no', 'case_repeated'],
      [8, 'case_no', 'case_missing'],
      [8, 'community', 'case_community_missing'],
      [8, 'received_at', 'received_missing'],
      [9, 'case_no', 'case_invalid'],
      [9, 'received_at', 'time_invalid'],
      [9, 'satisfaction', 'satisfaction_invalid'],
    ])
    const ambiguous = problemsOf(res.body).find((p) => p.code === 'community_ambiguous')
    expect(ambiguous?.message).toBe('2 communities are named "Twin Towers"; give the community\'s id instead')
    expect(await count()).toBe(5)
  })

  it('reports a JSON import\'s problems by the position and field of each case', async () => {
    const res = await json([
      { caseNo: 'HL-200', receivedAt: '2026-10-09 09:00', community: 'cm-a1' },
      { caseNo: 'HL-201', receivedAt: '2026-10-09', community: 'cm-zz' },
    ])
    expect(res.statusCode, res.body).toBe(422)
    expect(problemsOf(res.body).map((p) => [p.row, p.column, p.code])).toEqual([
      [2, 'community', 'community_unknown'],
      [2, 'receivedAt', 'time_invalid'],
    ])
    expect(await count()).toBe(5)
  })

  it('checks without writing on a dry run, counting the new case numbers', async () => {
    const res = await csv(['case_no,received_at,community', 'HL-001,2026-10-02 09:00,阳光花园', 'HL-300,2026-10-10 09:00,锦绣苑'], '?dryRun=true')
    expect(res.json()).toEqual({ dryRun: true, cases: 2, new: 1 })
    expect(await count()).toBe(5)
  })

  it('bounds an import and says so: too many cases, too large a file, the wrong type', async () => {
    const many = Array.from({ length: HOTLINE_MAX_ROWS + 1 }, (_, i) => ({ caseNo: `X-${i}`, receivedAt: '2026-10-02 09:00', community: 'cm-a1' }))
    const tooMany = await json(many)
    expect(tooMany.statusCode).toBe(400)
    expect(tooMany.json()).toMatchObject({ code: 'validation_failed' })
    const rows = Array.from({ length: HOTLINE_MAX_ROWS + 1 }, (_, i) => `X-${i},2026-10-02 09:00,cm-a1`)
    const longFile = await csv(['case_no,received_at,community', ...rows])
    expect(problemsOf(longFile.body)).toEqual([expect.objectContaining({ code: 'too_many_cases', params: { rows: HOTLINE_MAX_ROWS + 1, max: HOTLINE_MAX_ROWS } })])
    const big = await csv(['case_no,received_at,community,summary', `X-1,2026-10-02 09:00,cm-a1,${'x'.repeat(HOTLINE_MAX_BYTES)}`])
    expect(big.statusCode).toBe(413)
    expect(big.json()).toMatchObject({ code: 'payload_too_large', details: { code: 'cases_file_too_large' } })
    const wrongType = await app.inject({ method: 'POST', url: '/api/v1/hotline/cases/import', headers: { ...auth, 'content-type': 'application/json' }, payload: '{}' })
    expect(wrongType.statusCode).toBe(415)
    expect(await count()).toBe(5)
  })

  it('lists a company\'s cases, newest first, with its figures', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/hotline/companies/co-a/cases?${PERIOD}&limit=2`, headers: auth })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json<{ total: number; items: { caseNo: string; communityName: string }[]; figures: { cases: number } }>()
    expect(body.total).toBe(4)
    expect(body.items.map((c) => [c.caseNo, c.communityName])).toEqual([
      ['HL-005', 'Riverside'],
      ['HL-003', 'Riverside'],
    ])
    expect(body.figures.cases).toBe(4)
  })

  it('adds the hotline figures per company to the evaluation, leaving the score as it was', async () => {
    const items = await ranking()
    const a = items.find((r) => r.companyId === 'co-a')
    const b = items.find((r) => r.companyId === 'co-b')
    // co-a: HL-001 (10 h, 5), HL-002 (30 h, 2), HL-003 (30 h), HL-005 (1 h, 4); two communities.
    expect(a?.hotline).toEqual({
      cases: 4,
      communities: 2,
      perCommunity: 2,
      perThousandHouseholds: null,
      handled: 4,
      due: 4,
      onTime: 2,
      onTimeShare: 0.5,
      deadlineS: DEADLINE_H * 3600,
      satisfaction: { mean: (5 + 2 + 4) / 3, raters: 3 },
    })
    // co-b: HL-004 only (1 h, 3); three communities.
    expect(b?.hotline).toMatchObject({ cases: 1, communities: 3, perCommunity: 1 / 3, onTimeShare: 1, satisfaction: { mean: 3, raters: 1 } })
    expect(a?.score).toBe(scoreBefore)
    const drill = await app.inject({ method: 'GET', url: `/api/v1/evaluation/companies/co-b?${PERIOD}`, headers: auth })
    expect(drill.json<{ company: { hotline: { cases: number } } }>().company.hotline.cases).toBe(1)
  })

  it('counts an open case as due only once its deadline has passed', async () => {
    const now = Date.now()
    const at = (ms: number) => new Date(ms).toISOString()
    await json([
      { caseNo: 'HL-400', receivedAt: at(now - 2 * H), community: 'cm-b1' },
      { caseNo: 'HL-401', receivedAt: at(now - (DEADLINE_H + 1) * H), community: 'cm-b1' },
    ])
    const b = (await ranking(`from=${at(now - 3 * 24 * H)}&to=${at(now + 60_000)}`)).find((r) => r.companyId === 'co-b')
    expect(b?.hotline).toMatchObject({ cases: 2, handled: 0, due: 1, onTime: 0, onTimeShare: 0 })
  })
})
