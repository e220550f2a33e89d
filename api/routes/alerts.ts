// Alerts: producers report conditions; people list, inspect and work them.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { acceptReasonDetail, reportedReasonDetailSchema } from '../../core/reason-detail.ts'
import { ALERT_SOURCES, SEVERITIES } from '../../shared/domain.ts'
import { eventsOf, getAlert, listAlerts, type Alert } from '../../core/repos/alerts.ts'
import { groupMembers } from '../../core/repos/alert-groups.ts'
import { alertFor, historyFor } from '../alerts/resident-view.ts'
import { deliveryLog, seesDeliveries, seesDeliveryDetail } from '../alerts/delivery-log.ts'
import { alertEventSchema, alertFilterQuery, alertSchema, deliverySchema } from '../alerts/schemas.ts'
import type { Action } from '../../alerts/service.ts'
import { alertListScope, companyScope, mustManage, mustSeeAlert, mustSeeAlertOfStreet, principalOf, requireRole } from '../access.ts'
import { findUserByName } from '../../core/repos/tokens.ts'
import { ratingsBy } from '../../core/repos/feedback.ts'
import { checked, errorBody, errorResponses, limitParam, requestTime, serialCursor, serialParams } from '../schemas.ts'

const noteBody = z
  .object({
    note: z.string().trim().min(1).max(2000).optional(),
    public: z.boolean().optional().describe("resolve: the note is for the community's residents too (the alert's publicNote)"),
  })
  .default({})
const reportBody = z.object({
  ruleId: z.string().min(1).max(128),
  deviceId: z.string().min(1).max(64).nullable(),
  condition: z.enum(['active', 'cleared']),
  value: z.number().nullable().optional(),
  at: requestTime.optional().describe('When the condition was observed; default now'),
  reason: z.string().max(500).optional(),
  reasonDetail: reportedReasonDetailSchema.optional(),
  predictedAt: requestTime.nullable().optional(),
  flapping: z.boolean().optional(),
  faultAt: requestTime.optional().describe('Device time of the raise or clear (rules engine): a report whose faultAt was recorded already for this rule and device is ignored, so a producer may send again what it is unsure was delivered'),
  source: z.enum(ALERT_SOURCES).optional().describe('Default rules; other sources need severity and title'),
  severity: z.enum(SEVERITIES).optional(),
  title: z.string().min(1).max(200).optional(),
  communityId: z.string().optional().describe('For alerts without a device'),
})

/** Members listed by GET /api/v1/alerts/:id/group (a group within a window is small; this bounds a runaway one). */
const GROUP_MEMBERS = 500

/** Deliveries shown with an alert's history; the full log is GET /api/v1/alerts/:id/deliveries. */
const HISTORY_DELIVERIES = 100

const alerts: FastifyPluginAsyncZod = async (app) => {
  const { alerts: service, db } = app.deps
  /** Where notifications are on: the time zone their delivery log is shown in. */
  const notifyTimezone = app.deps.notify?.timezone

  app.post(
    '',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Report a condition (rules engine, Node-RED): raises, updates or clears the one alert of this rule and device',
        body: reportBody,
        response: {
          200: z.object({ outcome: z.enum(['raised', 'updated', 'cleared', 'resolved', 'rearm_pending', 'ignored']), alert: alertSchema.nullable() }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = requireRole(req, 'service', 'admin', 'operator')
      const reasonDetail = checked('body.reasonDetail', () => acceptReasonDetail(req.body.reasonDetail), 'does not fit its key')
      if (req.body.reasonDetail && !reasonDetail) req.log.warn({ key: req.body.reasonDetail.key }, 'a reason key this version does not know; the report keeps its text')
      return service.report({ ...req.body, reasonDetail }, p.name)
    },
  )

  app.get(
    '',
    {
      schema: {
        tags: ['alerts'],
        summary: 'List alerts, newest first',
        description: 'The same as a spreadsheet: GET /api/v1/alerts.csv.',
        querystring: alertFilterQuery.extend({ limit: limitParam, cursor: serialCursor }),
        response: { 200: z.object({ items: z.array(alertSchema), nextCursor: z.number().nullable() }), ...errorResponses },
      },
    },
    async (req) => {
      const p = principalOf(req)
      const q = req.query
      const scope = alertListScope(p, q)
      if (scope === null) return { items: [], nextCursor: null }
      const items = await listAlerts(db, {
        states: q.state,
        severities: q.severity,
        kind: q.kind,
        ...scope,
        deviceId: q.device,
        ruleId: q.rule,
        from: q.from,
        to: q.to,
        before: q.cursor,
        limit: q.limit,
      })
      // A resident's page shows the rating they gave (so a reload does not ask again).
      const rated = p.role === 'resident' ? await ratingsBy(db, p.name, items.map((a) => a.id)) : undefined
      const shown = items.map((a) => (rated ? { ...alertFor(p, a), myRating: rated.get(a.id) ?? null } : alertFor(p, a)))
      return { items: shown, nextCursor: items.length === q.limit ? (items.at(-1)?.id ?? null) : null }
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its full history, and (not for residents) who was paged for it and how each delivery went',
        params: serialParams,
        response: {
          200: alertSchema.extend({
            history: z.array(alertEventSchema),
            notifications: z.array(deliverySchema).optional().describe('The delivery log (first 100; phone numbers masked); absent for residents and where notifications are off'),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = principalOf(req)
      const alert = await mustSeeAlertOfStreet(db, p, await getAlert(db, req.params.id), req.params.id)
      const history = historyFor(p, alert, await eventsOf(db, alert.id))
      if (notifyTimezone === undefined || !seesDeliveries(p)) return { ...alertFor(p, alert), history }
      return { ...alertFor(p, alert), history, notifications: await deliveryLog(db, alert.id, HISTORY_DELIVERIES, notifyTimezone, seesDeliveryDetail(p)) }
    },
  )

  app.get(
    '/:id/group',
    {
      schema: {
        tags: ['alerts'],
        summary: "The alerts of this alert's group (same rule and community raised within ALERT_GROUP_WINDOW of the first, by default), first first",
        description: 'Each member is still an alert of its own: act on them one by one or in bulk. A crew member sees the members of their company only.',
        params: serialParams,
        response: {
          200: z.object({
            groupId: z.number().int().nullable().describe("The group's id (its first alert's); null: the alert has no group"),
            size: z.number().int().describe('How many alerts the group has (1 without a group)'),
            items: z.array(alertSchema).describe(`The members the caller may see, at most ${GROUP_MEMBERS}`),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = principalOf(req)
      if (p.role === 'resident') throw new AppError('forbidden', "An alert's group is for the office and the crews")
      const alert = mustSeeAlert(p, await getAlert(db, req.params.id), req.params.id)
      if (alert.groupId === null) return { groupId: null, size: 1, items: [alert] }
      const scope = companyScope(p)
      const items = (await groupMembers(db, alert.groupId, GROUP_MEMBERS)).filter((a) => scope === undefined || a.companyId === scope)
      return { groupId: alert.groupId, size: alert.groupSize ?? items.length, items }
    },
  )

  type Run = (id: number, actor: string, note: string | undefined, body: { public?: boolean | undefined }) => Promise<Alert>
  const act = (action: Action): Run => (id, actor, note, body) => service.act(id, action, actor, note, { publicNote: body.public ?? false })
  const actions: [string, string, Run][] = [
    ['ack', 'Acknowledge: someone has seen it and owns it', act('acknowledge')],
    ['claim', 'Take the alert yourself ("我来处理"): it is yours, and acknowledged if it was open', (id, actor, note) => service.assign(id, actor, actor, note)],
    ['en-route', 'The crew is on its way (acknowledges an open alert; the first one is kept as enRouteAt)', act('en_route')],
    ['arrive', 'The crew arrived on site: in progress (acknowledges an open alert; the first arrival is kept as arrivedAt, the ranking\'s time to arrive)', act('arrive')],
    ['start', 'Work started', act('start')],
    ['resolve', 'Resolved (while the condition persists it is raised again after the re-arm delay)', act('resolve')],
    ['comment', 'Add a note to the history', act('comment')],
  ]
  for (const [path, summary, run] of actions) {
    app.post(
      `/:id/${path}`,
      {
        schema: {
          tags: ['alerts'],
          summary,
          params: serialParams,
          body: noteBody,
          response: { 200: alertSchema, 409: errorBody, ...errorResponses },
        },
      },
      async (req) => {
        const p = requireRole(req, 'admin', 'operator', 'crew')
        mustSeeAlert(p, await getAlert(db, req.params.id), req.params.id)
        return run(req.params.id, p.name, req.body.note, req.body)
      },
    )
  }

  app.post(
    '/:id/publish',
    {
      schema: {
        tags: ['alerts'],
        summary: "Show the alert to its community's residents, or stop showing it (the office)",
        description: 'Residents see their own reports and the alerts made public here: a burst main, a lift out of service — not every sensor alert.',
        params: serialParams,
        body: z.object({ public: z.boolean() }),
        response: { 200: alertSchema, ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator')
      mustSeeAlert(p, await getAlert(db, req.params.id), req.params.id)
      return service.publish(req.params.id, p.name, req.body.public)
    },
  )

  app.post(
    '/:id/assign',
    {
      schema: {
        tags: ['alerts'],
        summary: "Give the alert to a person, or hand it over, with a note; the person is paged",
        description:
          "By the housing office, or by a manager of the alert's company (its manager rota). The person is a crew member of that company, or of the office; disabled users cannot be given alerts.",
        params: serialParams,
        body: z.object({ to: z.string().trim().min(1).max(100).describe('The user name of the person'), note: z.string().trim().min(1).max(2000).optional() }),
        response: { 200: alertSchema, 409: errorBody, ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew')
      const alert = mustSeeAlert(p, await getAlert(db, req.params.id), req.params.id)
      await mustManage(db, p, alert.companyId, 'alerts')
      const to = await findUserByName(db, req.body.to)
      const fits = to !== undefined && !to.disabled && (to.role === 'admin' || to.role === 'operator' || (to.role === 'crew' && to.companyId === alert.companyId))
      if (!fits) throw new AppError('validation_failed', `body.to: "${req.body.to}" is no enabled crew member of this alert's company or of the office; name one who is`)
      return service.assign(req.params.id, p.name, to.name, req.body.note)
    },
  )

  app.post(
    '/ack',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge many alerts at once',
        body: z.object({ ids: z.array(z.number().int().positive()).min(1).max(500), note: z.string().trim().min(1).max(2000).optional() }),
        response: {
          200: z.object({
            acknowledged: z.array(z.number().int()),
            skipped: z.array(z.object({ id: z.number().int(), code: z.string(), message: z.string() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew')
      const acknowledged: number[] = []
      const skipped: { id: number; code: string; message: string }[] = []
      for (const id of new Set(req.body.ids)) {
        try {
          mustSeeAlert(p, await getAlert(db, id), id)
          await service.act(id, 'acknowledge', p.name, req.body.note)
          acknowledged.push(id)
        } catch (err) {
          if (!(err instanceof AppError)) throw err
          skipped.push({ id, code: err.code, message: err.message })
        }
      }
      return { acknowledged, skipped }
    },
  )
}

export default alerts
