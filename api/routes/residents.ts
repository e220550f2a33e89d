// Residents' voice: satisfaction feedback for their community, hazard reports that enter the
// alert lifecycle (source "resident"), and ratings of resolved alerts.
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { titleText } from '../../shared/alert-title.ts'
import { getAlert } from '../../core/repos/alerts.ts'
import { withinResidentLimits } from '../alerts/resident-limits.ts'
import { insertFeedback, listFeedback, rateAlert } from '../../core/repos/feedback.ts'
import { getCommunity } from '../../core/repos/registry.ts'
import { alertSchema } from '../alerts/schemas.ts'
import { companyScope, mustSeeAlert, mustSpeakFor, ownReport, requireRole } from '../access.ts'
import { errorBody, errorResponses, keyParams, limitParam, serialParams, timestamp } from '../schemas.ts'

const feedback = z.object({
  id: z.number().int(),
  communityId: z.string(),
  companyId: z.string().nullable().describe('The company looking after the community when the feedback was given'),
  rating: z.number().int(),
  comment: z.string().nullable(),
  author: z.string(),
  createdAt: timestamp,
})
const rating = z.number().int().min(1, 'rating must be 1 to 5').max(5, 'rating must be 1 to 5')
const comment = z.string().trim().min(1).max(2000)

const residents: FastifyPluginAsyncZod = async (app) => {
  const { alerts: service, db, settings } = app.deps

  app.post(
    '/communities/:id/feedback',
    {
      schema: {
        tags: ['residents'],
        summary: "Rate the property service in a community (1–5); residents rate their own community",
        params: keyParams,
        body: z.object({ rating, comment: comment.optional() }),
        response: { 201: feedback, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, 'admin', 'operator', 'resident')
      const c = mustSpeakFor(p, await getCommunity(db, req.params.id), req.params.id)
      return reply.code(201).send(await insertFeedback(db, { communityId: c.id, rating: req.body.rating, comment: req.body.comment ?? null, author: p.name }))
    },
  )

  app.get(
    '/feedback',
    {
      schema: {
        tags: ['residents'],
        summary: 'Satisfaction feedback, newest first (a crew member sees their company\'s)',
        querystring: z.object({ community: z.string().optional(), company: z.string().optional(), from: timestamp.optional(), to: timestamp.optional(), limit: limitParam }),
        response: { 200: z.object({ items: z.array(feedback) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew')
      const scope = companyScope(p)
      const q = req.query
      if (scope !== undefined && q.company !== undefined && q.company !== scope) return { items: [] }
      return { items: await listFeedback(db, { communityId: q.community, companyId: scope ?? q.company, from: q.from, to: q.to, limit: q.limit }) }
    },
  )

  app.post(
    '/hazards',
    {
      schema: {
        tags: ['residents'],
        summary: 'Report a hazard (a missing cover, a leak, a stuck lift): it becomes an alert dispatched to the community\'s company',
        description:
          'A resident may file RESIDENT_REPORTS_PER_HOUR reports in any hour (default 5) and RESIDENT_REPORTS_PER_DAY in any 24 hours (default 20); ' +
          'beyond, 429 report_limit with Retry-After and a message saying when they may report again.',
        body: z.object({
          communityId: z.string().optional().describe("Residents: default and only choice is their own community"),
          title: z.string().trim().min(3, 'title: say in a few words what is wrong').max(120),
          description: comment.optional(),
          location: z.string().trim().min(1, 'location: where is it (building, entrance, spot)?').max(200),
          photoUrl: z.url({ protocol: /^https?$/, error: 'photoUrl must be an http(s) URL' }).optional(),
        }),
        response: { 201: alertSchema, 429: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, 'admin', 'operator', 'resident')
      const b = req.body
      const communityId = p.role === 'resident' ? (b.communityId ?? p.communityId ?? '') : b.communityId
      if (!communityId) throw new AppError('validation_failed', 'body.communityId: which community is the hazard in?')
      const c = mustSpeakFor(p, await getCommunity(db, communityId), communityId)
      const { alert } = await withinResidentLimits(db, p, reply, 'report', 1, settings.residents, service.clock(), () => service.report(
        {
          // Each report is its own alert: residents' reports are not repeats of one another.
          ruleId: `resident:hazard:${randomUUID()}`,
          deviceId: null,
          condition: 'active',
          source: 'resident',
          severity: 'major',
          // The English for API readers; the words and the frame as data for everyone else's language.
          title: titleText({ key: 'resident.report', said: b.title }),
          titleDetail: { key: 'resident.report', said: b.title },
          reason: b.description,
          communityId: c.id,
          location: b.location,
          photoUrl: b.photoUrl,
          reportedBy: p.name,
        },
        p.name,
      ))
      if (!alert) throw new Error('a fresh hazard report raised no alert')
      return reply.code(201).send(alert)
    },
  )

  app.post(
    '/alerts/:id/rating',
    {
      schema: {
        tags: ['residents'],
        summary: 'Rate how a resolved alert was handled: the resident who reported it, or the office; counts towards satisfaction',
        description: 'A resident rates only their own hazard report (403 forbidden for any other alert of the community): there are no confirmations by other residents to stand for.',
        params: serialParams,
        body: z.object({ rating, comment: comment.optional() }),
        response: {
          201: z.object({ alertId: z.number().int(), rating: z.number().int(), comment: z.string().nullable(), ratedBy: z.string(), createdAt: timestamp }),
          409: errorBody,
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, 'admin', 'operator', 'resident')
      const alert = mustSeeAlert(p, await getAlert(db, req.params.id), req.params.id)
      // Only the reporter speaks for how their report was handled; any neighbour could otherwise
      // rate every resolved alert of the community and move the company's satisfaction.
      if (p.role === 'resident' && !ownReport(p, alert)) throw new AppError('forbidden', `Only the resident who reported alert ${alert.id} may rate it`)
      if (alert.state !== 'resolved') throw new AppError('invalid_transition', `Alert ${alert.id} is ${alert.state.replace('_', ' ')}; rate it once it is resolved`)
      return reply.code(201).send(await rateAlert(db, { alertId: alert.id, rating: req.body.rating, comment: req.body.comment ?? null, ratedBy: p.name }))
    },
  )
}

export default residents
