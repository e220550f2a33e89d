// 12345 citizen-hotline cases (issue 22): imported as a CSV export (POST /hotline/cases/import) or
// as JSON (POST /hotline/cases), all or nothing with every problem per row, as the device import
// (api/import-answers.ts); idempotent by case number: a case sent again updates the stored one when
// it changed (handled since, rated since) and is left alone when it did not, never duplicated.
// `?dryRun=true` checks and writes nothing. A company's cases: GET /hotline/companies/:id/cases.
//
// Who: the office (admin, operator) imports; a crew member reads their own company's cases.
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../core/db/client.ts'
import { AppError } from '../../core/errors.ts'
import { companyCases, hotlineFigures, storedCaseNumbers, upsertCases } from '../../core/repos/hotline.ts'
import { getCompany } from '../../core/repos/registry.ts'
import type { HotlineColumn } from '../../shared/import-text.ts'
import { mustSeeCompanyRecord, requireRole } from '../access.ts'
import { checkCases, HOTLINE_COLUMNS, HOTLINE_MAX_BYTES, HOTLINE_MAX_ROWS, readHotlineCsv, type HotlineRow } from '../hotline/import.ts'
import { hotlineSchema, shapeHotline } from '../hotline/figures.ts'
import { csvOnly, kb, refuse, refused, rejected, takeCsvBodies } from '../import-answers.ts'
import type { RowProblem } from '../import-csv.ts'
import { errorBody, errorResponses, keyParams, requestTime, timestamp } from '../schemas.ts'

const DAY_MS = 86_400_000
const LIST_MAX = 200

const dryRun = z.object({
  dryRun: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('true: check and report, write nothing'),
})

const outcome = z.union([
  z.object({ dryRun: z.literal(true), cases: z.number().int().describe('Cases the import would store'), new: z.number().int().describe('Of those, case numbers not stored yet') }),
  z.object({
    dryRun: z.literal(false),
    cases: z.number().int(),
    inserted: z.number().int().describe('New case numbers'),
    updated: z.number().int().describe('Stored cases that changed'),
    unchanged: z.number().int().describe('Stored cases sent again as they are: left alone'),
  }),
])

/** The JSON fields, by the CSV column each stands for. */
const FIELD: Record<HotlineColumn, string> = {
  case_no: 'caseNo',
  received_at: 'receivedAt',
  community: 'community',
  category: 'category',
  summary: 'summary',
  handled_at: 'handledAt',
  satisfaction: 'satisfaction',
}

const jsonCase = z.object({
  caseNo: z.string().max(200).describe('The hotline\'s work-order number (工单编号): the key, re-sending it updates the case'),
  receivedAt: z.string().max(40).describe('When the hotline received it: RFC 3339 with an offset, or "YYYY-MM-DD HH:mm[:ss]" in China Standard Time'),
  community: z.string().max(200).describe("The community's id, or its name as the registry spells it"),
  category: z.string().nullish().describe('The hotline\'s category (诉求类别), at most 60 characters'),
  summary: z.string().nullish().describe('What the citizen reported, at most 1,000 characters'),
  handledAt: z.string().max(40).nullish().describe('When it was handled (办结); as receivedAt; empty while open'),
  satisfaction: z.union([z.number(), z.string().max(20)]).nullish().describe('The citizen\'s rating: 1–5, or 满意 / 基本满意 / 不满意 (5 / 3 / 1); empty when not rated'),
})

/** The import after its checks: write, or say what it would write. */
async function store(db: Db, req: FastifyRequest, dryRun: boolean, rows: HotlineRow[], readProblems: RowProblem[], column?: (c: HotlineColumn) => string) {
  const checked = await checkCases(db, rows, column)
  const problems = [...readProblems, ...checked.problems]
  if (problems.length > 0) throw refuse(problems)
  const { cases } = checked
  if (dryRun) {
    const stored = new Set(await storedCaseNumbers(db, cases.map((c) => c.caseNo)))
    return { dryRun: true as const, cases: cases.length, new: cases.filter((c) => !stored.has(c.caseNo)).length }
  }
  const by = req.principal?.name ?? 'unknown'
  const count = await db.transaction((tx) => upsertCases(tx, cases, by))
  req.log.info({ cases: cases.length, ...count, by }, 'hotline cases imported')
  return { dryRun: false as const, cases: cases.length, ...count }
}

const IMPORT_DESCRIPTION =
  `At most ${HOTLINE_MAX_ROWS} cases and ${kb(HOTLINE_MAX_BYTES)}. The community is matched by id, else by its exact name; times without an offset are China Standard Time. ` +
  `Every problem is answered at once (422 import_rejected; details.problems lists row, column, code, params and message) and nothing is written. ` +
  `A case number already stored is updated when a field changed and left alone otherwise (never duplicated). With dryRun=true the cases are only checked.`

/** The CSV route, in a plugin of its own: its body is CSV text, decoded strictly as UTF-8. */
const csvImport: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  takeCsvBodies(app, HOTLINE_MAX_BYTES)
  app.post(
    '/cases/import',
    {
      bodyLimit: HOTLINE_MAX_BYTES,
      onRequest: csvOnly(HOTLINE_MAX_BYTES, (length) => ({ code: 'cases_file_too_large', params: { size: kb(length), max: kb(HOTLINE_MAX_BYTES), rows: HOTLINE_MAX_ROWS } })),
      schema: {
        tags: ['hotline'],
        summary: 'Import 12345 hotline cases from a CSV file, all or nothing; idempotent by case number',
        description: `The body is a CSV file (Content-Type text/csv, UTF-8) whose first row names the columns, in any order: ${HOTLINE_COLUMNS.join(', ')} (case_no, received_at and community required). ${IMPORT_DESCRIPTION}`,
        consumes: ['text/csv'],
        querystring: dryRun,
        body: z.string().describe('The CSV file'),
        response: { 200: outcome, ...errorResponses, 400: refused, 413: refused, 415: errorBody, 422: rejected },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const read = readHotlineCsv(req.body)
      if (read.problems.length > 0 && read.rows.length === 0) throw refuse(read.problems)
      return store(db, req, req.query.dryRun, read.rows, read.problems)
    },
  )
}

const hotline: FastifyPluginAsyncZod = async (app) => {
  const { db, settings } = app.deps
  await app.register(csvImport)

  app.post(
    '/cases',
    {
      bodyLimit: HOTLINE_MAX_BYTES,
      schema: {
        tags: ['hotline'],
        summary: 'Import 12345 hotline cases as JSON, all or nothing; idempotent by case number',
        description: `The body is { cases: [...] }, the fields of the CSV import in camelCase; a problem's row is the case's position in the array (from 1), its column the field. ${IMPORT_DESCRIPTION}`,
        querystring: dryRun,
        body: z.object({ cases: z.array(jsonCase).min(1).max(HOTLINE_MAX_ROWS).describe(`1–${HOTLINE_MAX_ROWS} cases`) }),
        response: { 200: outcome, ...errorResponses, 413: refused, 422: rejected },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const rows: HotlineRow[] = req.body.cases.map((c, i) => {
        const cells: HotlineRow['cells'] = {}
        for (const column of HOTLINE_COLUMNS) {
          const v = (c as Record<string, unknown>)[FIELD[column]]
          const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : ''
          if (text !== '') cells[column] = text
        }
        return { line: i + 1, cells }
      })
      return store(db, req, req.query.dryRun, rows, [], (c) => FIELD[c])
    },
  )

  app.get(
    '/companies/:id/cases',
    {
      schema: {
        tags: ['hotline'],
        summary: "A company's 12345 cases received in a period, newest first, with its hotline figures",
        params: keyParams,
        querystring: z.object({
          from: requestTime.optional().describe('Default: 30 days before `to`'),
          to: requestTime.optional().describe('Default: now'),
          limit: z.coerce.number().int().min(1).max(LIST_MAX).default(50).describe(`At most ${LIST_MAX} cases listed; total says how many there are`),
        }),
        response: {
          200: z.object({
            from: timestamp,
            to: timestamp,
            total: z.number().int(),
            figures: hotlineSchema,
            items: z.array(
              z.object({
                caseNo: z.string(),
                communityId: z.string(),
                communityName: z.string(),
                receivedAt: timestamp,
                category: z.string().nullable(),
                summary: z.string().nullable(),
                handledAt: timestamp.nullable(),
                satisfaction: z.number().int().nullable(),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew')
      mustSeeCompanyRecord(p, await getCompany(db, req.params.id), req.params.id)
      const to = req.query.to ?? new Date()
      const from = req.query.from ?? new Date(to.getTime() - 30 * DAY_MS)
      if (from >= to) throw new AppError('validation_failed', 'querystring.from must be before querystring.to')
      const [list, [own]] = await Promise.all([companyCases(db, req.params.id, from, to, req.query.limit), hotlineFigures(db, from, to, new Date(), settings.hotlineDeadlineMs, req.params.id)])
      const figures = shapeHotline(own, settings.hotlineDeadlineMs)
      return { from, to, total: list.total, figures, items: list.items.map(({ companyId: _c, ...c }) => c) }
    },
  )
}

export default hotline
