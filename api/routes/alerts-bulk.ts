// Bulk by filter (issue 21): acknowledge or resolve every alert the board's filter matches, in one
// call, however many — not the first 500 of a list of ids. The filter is GET /api/v1/alerts's
// (same schema, same scope: a crew member acts within their company only). First the count
// (GET …/bulk/count), which the console names in its confirmation; then the action, bounded by
// `through` (the newest id counted) so an alert raised after the person confirmed is not acted on
// unseen. Inside, pages of PAGE alerts, one transaction each, every alert through AlertService's
// own transition (its history event, the committed-event bus: live stream, ranking, notifications).
// At most MAX_PER_CALL per call, and the answer says when that bound was reached (`capped`).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { alertIdsPage, countAlerts, type AlertFilter } from '../../core/repos/alerts.ts'
import { ALERT_STATES, type AlertState } from '../../shared/domain.ts'
import { alertFilterQuery } from '../alerts/schemas.ts'
import { alertListScope, requireRole } from '../access.ts'
import type { Principal } from '../../core/repos/tokens.ts'
import { errorResponses } from '../schemas.ts'

/** Alerts per transaction: a page's row locks and NOTIFY stay small, and other writers wait little. */
const PAGE = 500
/** Alerts one call acts on at most (about a minute of work on a loaded database). */
export const MAX_PER_CALL = 20_000
/** How far the count form counts (an exact number for the confirmation, bounded). */
const COUNT_MAX = 1_000_000

const BULK_ACTIONS = { ack: { verb: 'acknowledge', states: ['open'] }, resolve: { verb: 'resolve', states: ALERT_STATES.filter((s) => s !== 'resolved') } } as const
type BulkAction = keyof typeof BULK_ACTIONS
const actionParam = z.enum(['ack', 'resolve']).describe('ack: the open ones among the matches; resolve: the unresolved ones')

const throughParam = z.coerce
  .number()
  .int()
  .positive()
  .optional()
  .describe('The `through` of the count the person confirmed: alerts raised after it are left alone. Default: the newest matching now')

/** The filter of the request within the person's scope, narrowed to the states the action applies to; null: nothing can match. */
function bulkFilter(p: Principal, q: z.infer<typeof alertFilterQuery>, action: BulkAction): Omit<AlertFilter, 'before' | 'limit'> | null {
  const scope = alertListScope(p, q)
  const actionable: readonly AlertState[] = BULK_ACTIONS[action].states
  const states = q.state ? q.state.filter((s) => actionable.includes(s)) : [...actionable]
  if (scope === null || states.length === 0) return null
  return { states, severities: q.severity, kind: q.kind, ...scope, deviceId: q.device, ruleId: q.rule, from: q.from, to: q.to }
}

const alertsBulk: FastifyPluginAsyncZod = async (app) => {
  const { alerts: service, db } = app.deps

  app.get(
    '/bulk/count',
    {
      schema: {
        tags: ['alerts'],
        summary: 'How many alerts a bulk action by this filter would act on (its dry run)',
        description: 'The filters of GET /api/v1/alerts. Pass the answer\'s `through` to POST /api/v1/alerts/bulk/{action} so it acts on what was counted.',
        querystring: alertFilterQuery.extend({ action: actionParam }),
        response: {
          200: z.object({
            matched: z.number().int(),
            through: z.number().int().nullable().describe('The newest matching alert\'s id; null when none match'),
            max: z.number().int().describe('The most one call acts on'),
            capped: z.boolean().describe('More match than one call acts on: call again for the rest'),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew')
      const f = bulkFilter(p, req.query, req.query.action)
      const { count, newestId } = f ? await countAlerts(db, f, COUNT_MAX) : { count: 0, newestId: null }
      return { matched: count, through: newestId, max: MAX_PER_CALL, capped: count > MAX_PER_CALL }
    },
  )

  app.post(
    '/bulk/:action',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge or resolve every alert matching a filter, up to 20,000 per call',
        description:
          'The filters of GET /api/v1/alerts in the query string, within the caller\'s scope. Works in pages of 500, each alert with its own history event. `capped`: more matched than one call acts on; call again for the rest.',
        params: z.object({ action: actionParam }),
        querystring: alertFilterQuery.extend({ through: throughParam }),
        body: z.object({ note: z.string().trim().min(1).max(2000).optional() }).default({}),
        response: {
          200: z.object({
            matched: z.number().int().describe('Matching when the call began (up to `through`)'),
            done: z.number().int().describe('Acknowledged or resolved by this call'),
            skipped: z.number().int().describe('Changed by someone else meanwhile, so no longer in a state the action applies to'),
            capped: z.boolean().describe('More matched than one call acts on (20,000): the rest are untouched'),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew')
      const action = req.params.action
      const f = bulkFilter(p, req.query, action)
      const { count, newestId } = f ? await countAlerts(db, f, COUNT_MAX, req.query.through ?? null) : { count: 0, newestId: null }
      const through = newestId ?? 0
      let done = 0
      let skipped = 0
      let before: number | null = null
      // Newest first, below the last page: an alert skipped is not met again, so the loop ends.
      while (f && done + skipped < MAX_PER_CALL) {
        const ids = await alertIdsPage(db, f, through, before, Math.min(PAGE, MAX_PER_CALL - done - skipped))
        if (ids.length === 0) break
        const r = await service.actMany(ids, BULK_ACTIONS[action].verb, p.name, req.body.note)
        done += r.done
        skipped += r.skipped
        before = ids.at(-1) ?? null
      }
      const matched = count
      const capped = count > MAX_PER_CALL
      req.auditOutcome = { matched: String(matched), done: String(done), skipped: String(skipped), capped: String(capped) }
      return { matched, done, skipped, capped }
    },
  )
}

export default alertsBulk
