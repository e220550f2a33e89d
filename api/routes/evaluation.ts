// Evaluation of property companies: the ranking for a period with the change against the previous
// period of the same length, a drill-down per company, and a CSV export.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../core/db/client.ts'
import { AppError } from '../../core/errors.ts'
import { communityBreakdown, companyFigures, slowestAlerts, type CompanyFigures } from '../../core/repos/evaluation.ts'
import { hotlineFigures } from '../../core/repos/hotline.ts'
import { hotlineSchema, shapeHotline } from '../hotline/figures.ts'
import { COMPONENTS, components, HOTLINE_COMPONENTS, hotlineComponents, rank, score, type HotlineInputs, type ScoreWeights } from '../../alerts/score.ts'
import { versionAt } from '../../alerts/weights.ts'
import { periodScores, scoringOf, type Scoring } from '../evaluation/scoring.ts'
import { shapeVersion, versionSchema } from '../evaluation/version-schema.ts'
import { mustSeeCompanyRecord, requireRole, streetScope } from '../access.ts'
import { alertSchema } from '../alerts/schemas.ts'
import { getStreet } from '../../core/repos/streets.ts'
import type { Principal } from '../../core/repos/tokens.ts'
import { sendCsv } from '../csv.ts'
import { duration, errorResponses, keyParams, requestTime, TIME_MIN, timestamp } from '../schemas.ts'

const TIME_MIN_MS = Date.parse(TIME_MIN)

const DAY_MS = 86_400_000
/** Most periods one history request scores (each is one figures query). */
const MAX_HISTORY = 24
const share = z.number().nullable()
const PERCENTILES = 'Percentiles by linear interpolation (PostgreSQL percentile_cont: the value at position p × (n − 1) of the sorted times, between its two neighbours); null without data.'
const figures = z.object({
  companyId: z.string(),
  name: z.string(),
  alerts: z.number().int().describe('Alerts raised in the period and dispatched to the company, except those raised in a maintenance window and resolved within it; self-cleared ones included'),
  bySeverity: z.object({ critical: z.number().int(), major: z.number().int(), minor: z.number().int(), warning: z.number().int() }),
  selfCleared: z
    .number()
    .int()
    .describe('Alerts resolved automatically when their condition cleared, before both deadlines, with nobody acting: left out of every acknowledge and resolve figure'),
  timeToAcknowledge: z
    .object({ medianS: z.number().nullable(), p90S: z.number().nullable() })
    .describe(`Seconds from notification (the raise, or the end of its maintenance window) to a person's acknowledgement (starting work acknowledges; a person's resolve without one counts as it), over the alerts a person acknowledged. ${PERCENTILES}`),
  timeToResolve: z
    .object({ medianS: z.number().nullable(), p90S: z.number().nullable() })
    .describe(`Seconds from notification to a person's resolve, over the alerts a person resolved (automatic resolves are not counted). ${PERCENTILES}`),
  timeToArrive: z
    .object({ medianS: z.number().nullable(), p90S: z.number().nullable() })
    .describe(
      `Seconds from notification to a person's first "arrived on site", over the alerts someone recorded arriving at. Reported for comparison (elevator rescue practice in China expects arrival within 30 min), not part of the score. ${PERCENTILES}`,
    ),
  deadlineCompliance: z
    .object({
      acknowledge: share.describe(
        'Acknowledged by a person by the deadline ÷ alerts (not self-cleared) that a person acknowledged or whose acknowledge deadline has passed; an alert nobody acknowledged in time is missed, whatever resolved it later',
      ),
      resolve: share.describe(
        'Resolved by a person by the deadline ÷ alerts (not self-cleared) that a person resolved or whose resolve deadline passed before anything resolved them; one resolved automatically before its resolve deadline is in neither count',
      ),
    })
    .describe('Shares 0–1; null when nothing is due'),
  reopenedShare: share.describe('Of the alerts a person resolved, the share that had to be raised again because the fault persisted'),
  satisfaction: z
    .object({
      mean: z.number().nullable().describe('Mean of residents\' community feedback (one per resident, community and month) and ratings of resolved alerts (one per resident and alert) given in the period'),
      count: z.number().int().describe('Ratings behind the mean'),
      raters: z.number().int().describe('Distinct people behind those ratings: how many voices the figure rests on'),
    }),
  components: z.object(Object.fromEntries(COMPONENTS.map((c) => [c, share])) as Record<(typeof COMPONENTS)[number], typeof share>),
  hotlineComponents: z
    .object(Object.fromEntries(HOTLINE_COMPONENTS.map((c) => [c, share])) as Record<(typeof HOTLINE_COMPONENTS)[number], typeof share>)
    .describe('The hotline components (on-time share; satisfaction mapped 1–5 → 0–1): part of the score only when the version in force weighs them'),
  hotline: hotlineSchema,
  score: z.number().nullable().describe('0–100 by the weights version that scored the period (`scoring`); see the README "Evaluation" for the formula'),
  rank: z.number().int().nullable(),
  previous: z.object({ score: z.number().nullable(), rank: z.number().int().nullable() }),
  change: z.object({ score: z.number().nullable(), rank: z.number().int().nullable().describe('Positive: moved up') }),
})
type Row = z.infer<typeof figures>

const period = z.object({
  from: requestTime.optional().describe('Default: 30 days before `to`'),
  to: requestTime.optional().describe('Default: now'),
})

const rankingQuery = period.extend({
  streetId: z.string().min(1).optional().describe('Cut by street (街道/镇): only alerts, ratings and hotline cases of its communities count, and only companies looking after one of them (or with an alert there) are ranked. A street officer\'s ranking is always their street\'s.'),
})

function resolvePeriod(q: { from?: Date | undefined; to?: Date | undefined }): { from: Date; to: Date; previousFrom: Date } {
  const to = q.to ?? new Date()
  const from = q.from ?? new Date(to.getTime() - 30 * DAY_MS)
  if (from >= to) throw new AppError('validation_failed', 'querystring.from must be before querystring.to')
  return { from, to, previousFrom: new Date(from.getTime() - (to.getTime() - from.getTime())) }
}

/** The hotline figures the score reads, from what the API reports. */
const hotlineInputs = (h: Row['hotline']): HotlineInputs => ({ due: h.due, onTime: h.onTime, satisfactionMean: h.satisfaction.mean })

function shape(f: CompanyFigures, weights: ScoreWeights, hotline: Row['hotline']): Omit<Row, 'rank' | 'previous' | 'change'> {
  return {
    hotline,
    companyId: f.companyId,
    name: f.name,
    alerts: f.alerts,
    bySeverity: f.bySeverity,
    timeToAcknowledge: { medianS: f.ttaMedianS, p90S: f.ttaP90S },
    timeToResolve: { medianS: f.ttrMedianS, p90S: f.ttrP90S },
    timeToArrive: { medianS: f.ttArriveMedianS, p90S: f.ttArriveP90S },
    deadlineCompliance: { acknowledge: f.ackDue > 0 ? f.ackMet / f.ackDue : null, resolve: f.resolveDue > 0 ? f.resolveMet / f.resolveDue : null },
    reopenedShare: f.resolved > 0 ? f.reopened / f.resolved : null,
    selfCleared: f.selfCleared,
    satisfaction: { mean: f.satisfactionMean, count: f.satisfactionCount, raters: f.satisfactionRaters },
    components: components(f),
    hotlineComponents: hotlineComponents(hotlineInputs(hotline)),
    score: score(f, weights, hotlineInputs(hotline)),
  }
}

/**
 * Ranks both periods over all companies (or a street's), each by its own version, then joins them;
 * hotline figures ride along.
 */
async function ranking(db: Db, from: Date, to: Date, previousFrom: Date, s: Scoring, streetId?: string): Promise<Row[]> {
  const now = new Date()
  const { weights } = versionAt(s.versions, s.builtIn, from)
  const [current, previous, hotline] = await Promise.all([
    companyFigures(db, from, to, now, undefined, streetId),
    periodScores(db, previousFrom, from, now, s, streetId),
    hotlineFigures(db, from, to, now, s.hotlineDeadlineMs, undefined, streetId),
  ])
  const cases = new Map(hotline.map((h) => [h.companyId, h]))
  const before = new Map(rank(previous).map((r) => [r.companyId, r]))
  return rank(current.map((f) => shape(f, weights, shapeHotline(cases.get(f.companyId), s.hotlineDeadlineMs)))).map((r) => {
    const prev = before.get(r.companyId)
    return {
      ...r,
      previous: { score: prev?.score ?? null, rank: prev?.rank ?? null },
      change: {
        score: r.score !== null && prev?.score != null ? Math.round((r.score - prev.score) * 10) / 10 : null,
        rank: r.rank !== null && prev?.rank != null ? prev.rank - r.rank : null,
      },
    }
  })
}

const CSV_COLUMNS: [string, (r: Row) => string | number | null][] = [
  ['rank', (r) => r.rank],
  ['company_id', (r) => r.companyId],
  ['company', (r) => r.name],
  ['score', (r) => r.score],
  ['alerts', (r) => r.alerts],
  ['critical', (r) => r.bySeverity.critical],
  ['major', (r) => r.bySeverity.major],
  ['minor', (r) => r.bySeverity.minor],
  ['warning', (r) => r.bySeverity.warning],
  ['tta_median_s', (r) => r.timeToAcknowledge.medianS],
  ['tta_p90_s', (r) => r.timeToAcknowledge.p90S],
  ['ttr_median_s', (r) => r.timeToResolve.medianS],
  ['ttr_p90_s', (r) => r.timeToResolve.p90S],
  ['tt_arrive_median_s', (r) => r.timeToArrive.medianS],
  ['tt_arrive_p90_s', (r) => r.timeToArrive.p90S],
  ['ack_compliance', (r) => r.deadlineCompliance.acknowledge],
  ['resolve_compliance', (r) => r.deadlineCompliance.resolve],
  ['reopened_share', (r) => r.reopenedShare],
  ['satisfaction_mean', (r) => r.satisfaction.mean],
  ['satisfaction_count', (r) => r.satisfaction.count],
  ['satisfaction_raters', (r) => r.satisfaction.raters],
  ['self_cleared', (r) => r.selfCleared],
  ['hotline_cases', (r) => r.hotline.cases],
  ['hotline_per_community', (r) => r.hotline.perCommunity],
  ['hotline_on_time_share', (r) => r.hotline.onTimeShare],
  ['hotline_satisfaction_mean', (r) => r.hotline.satisfaction.mean],
  ['hotline_raters', (r) => r.hotline.satisfaction.raters],
  ['previous_score', (r) => r.previous.score],
  ['previous_rank', (r) => r.previous.rank],
  ['score_change', (r) => r.change.score],
  ['rank_change', (r) => r.change.rank],
]

const evaluation: FastifyPluginAsyncZod = async (app) => {
  const { db, settings } = app.deps
  const scoring = (): Promise<Scoring> => scoringOf(db, settings)
  /**
   * The street a ranking is cut by: the one asked for (it must exist), a street officer's own
   * whatever they ask; null when an officer asks for another street (nothing there is theirs).
   */
  const rankedStreet = async (p: Principal, asked: string | undefined): Promise<string | undefined | null> => {
    const own = streetScope(p)
    if (own !== undefined) return asked === undefined || asked === own ? own : null
    if (asked !== undefined && !(await getStreet(db, asked))) throw new AppError('not_found', `No street "${asked}"`)
    return asked
  }
  app.get(
    '/ranking',
    {
      schema: {
        tags: ['evaluation'],
        summary: 'Property companies ranked for a period, with the change against the previous period of the same length',
        description: 'The same as CSV: /api/v1/evaluation/ranking.csv',
        querystring: rankingQuery,
        response: {
          200: z.object({
            from: timestamp,
            to: timestamp,
            previousFrom: timestamp,
            weights: z.record(z.string(), z.number()).describe("The weights of the version that scored the period (scoring.weights); kept for clients of before the versions"),
            scoring: versionSchema.describe('The weights version that scored the period: the one in force at `from`. The previous period is scored by the one in force at `previousFrom`'),
            items: z.array(figures),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'street_officer')
      const { from, to, previousFrom } = resolvePeriod(req.query)
      const s = await scoring()
      const version = versionAt(s.versions, s.builtIn, from)
      const streetId = await rankedStreet(p, req.query.streetId)
      const items = streetId === null ? [] : await ranking(db, from, to, previousFrom, s, streetId)
      return { from, to, previousFrom, weights: version.weights, scoring: shapeVersion(version), items }
    },
  )

  app.get(
    '/history',
    {
      schema: {
        tags: ['evaluation'],
        summary: 'Scores and ranks of every company over the last periods, oldest first (the ranking board\'s chart, in one request)',
        description: `Consecutive periods of length \`period\` ending at \`to\`; each is scored as GET /api/v1/evaluation/ranking scores it. At most ${MAX_HISTORY} periods.`,
        querystring: z.object({
          periods: z.coerce.number().int().min(1).max(MAX_HISTORY).default(6),
          period: duration.default(30 * DAY_MS).describe('Length of each period, e.g. 7d or 30d (default 30d)'),
          to: requestTime.optional().describe('End of the newest period; default now'),
        }),
        response: {
          200: z.object({
            periodMs: z.number().int(),
            periods: z.array(
              z.object({
                from: timestamp,
                to: timestamp,
                version: z.number().int().describe('The weights version that scored the period (in force at its start; GET /api/v1/evaluation/weights)'),
                items: z.array(z.object({ companyId: z.string(), name: z.string(), score: z.number().nullable(), rank: z.number().int().nullable(), alerts: z.number().int() })),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const q = req.query
      const to = (q.to ?? new Date()).getTime()
      if (to - q.periods * q.period < TIME_MIN_MS) throw new AppError('validation_failed', 'querystring: the periods reach before 1970; ask for fewer or shorter periods')
      const now = new Date()
      const s = await scoring()
      const ends = Array.from({ length: q.periods }, (_, i) => to - (q.periods - 1 - i) * q.period)
      const periods = await Promise.all(
        ends.map(async (end) => {
          const from = new Date(end - q.period)
          const rows = rank(await periodScores(db, from, new Date(end), now, s))
          return { from, to: new Date(end), version: versionAt(s.versions, s.builtIn, from).version, items: rows }
        }),
      )
      return { periodMs: q.period, periods }
    },
  )

  app.get(
    '/ranking.csv',
    {
      schema: {
        tags: ['evaluation'],
        summary: 'The ranking as CSV (RFC 4180, UTF-8 with a byte-order mark, one row per company; the last column, weights_version, names the weights version that scored the period)',
        querystring: rankingQuery,
        response: { 200: z.string().describe('text/csv'), ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, 'admin', 'operator')
      const { from, to, previousFrom } = resolvePeriod(req.query)
      const s = await scoring()
      const items = await ranking(db, from, to, previousFrom, s, (await rankedStreet(p, req.query.streetId)) ?? undefined)
      const name = `ranking-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}.csv`
      // The last column names the weights version that scored the period, so a file says how it was scored.
      const { version } = versionAt(s.versions, s.builtIn, from)
      return sendCsv(reply, name, [...CSV_COLUMNS.map(([h]) => h), 'weights_version'], items.map((r) => [...CSV_COLUMNS.map(([, get]) => get(r)), version]))
    },
  )

  app.get(
    '/companies/:id',
    {
      schema: {
        tags: ['evaluation'],
        summary: "One company's figures for a period, per community, and its slowest alerts",
        params: keyParams,
        querystring: period,
        response: {
          200: z.object({
            from: timestamp,
            to: timestamp,
            company: figures,
            communities: z.array(
              z.object({
                communityId: z.string(),
                name: z.string(),
                alerts: z.number().int(),
                resolved: z.number().int().describe('Resolved by a person'),
                ttrMedianS: z.number().nullable(),
                satisfactionMean: z.number().nullable(),
                satisfactionCount: z.number().int(),
                satisfactionRaters: z.number().int().describe('Distinct residents behind the feedback'),
              }),
            ),
            slowest: z.array(z.object({ id: z.number().int(), ruleId: z.string(), source: z.string(), title: z.string(), titleDetail: alertSchema.shape.titleDetail, severity: z.string(), deviceId: z.string().nullable(), raisedAt: timestamp, resolvedAt: timestamp.nullable(), ttrS: z.number().nullable() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew')
      mustSeeCompanyRecord(p, {}, req.params.id)
      const notFound = new AppError('not_found', `No company "${req.params.id}"`)
      const { from, to, previousFrom } = resolvePeriod(req.query)
      const row = (await ranking(db, from, to, previousFrom, await scoring())).find((r) => r.companyId === req.params.id)
      if (!row) throw notFound
      const [communities, slowest] = await Promise.all([communityBreakdown(db, row.companyId, from, to), slowestAlerts(db, row.companyId, from, to, 10)])
      return { from, to, company: row, communities, slowest }
    },
  )
}

export default evaluation
