// Maintenance windows: alerts raised inside one are recorded but silenced (no notifications).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { endSilence, insertSilence, listSilences } from '../../core/repos/silences.ts'
import { requireRole } from '../access.ts'
import { duration, errorResponses, serialParams, timestamp } from '../schemas.ts'

const silence = z.object({
  id: z.number().int(),
  deviceId: z.string().nullable(),
  communityId: z.string().nullable(),
  ruleId: z.string().nullable(),
  startsAt: timestamp,
  endsAt: timestamp,
  reason: z.string(),
  createdBy: z.string(),
})

const silences: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  app.post(
    '',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Start a maintenance window for a device, a community or a rule (any combination narrows it)',
        body: z
          .object({
            deviceId: z.string().optional(),
            communityId: z.string().optional(),
            ruleId: z.string().optional(),
            startsAt: timestamp.optional().describe('Default now'),
            endsAt: timestamp.optional(),
            duration: duration.optional().describe('Instead of endsAt, e.g. 2h'),
            reason: z.string().trim().min(1).max(500),
          })
          .refine((b) => b.deviceId ?? b.communityId ?? b.ruleId, { message: 'name at least one of deviceId, communityId or ruleId' })
          .refine((b) => (b.endsAt === undefined) !== (b.duration === undefined), { message: 'give either endsAt or duration' }),
        response: { 201: silence, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, 'admin', 'operator')
      const b = req.body
      const startsAt = b.startsAt ?? new Date()
      const endsAt = b.endsAt ?? new Date(startsAt.getTime() + (b.duration ?? 0))
      if (endsAt <= startsAt) throw new AppError('validation_failed', 'body.endsAt must be after startsAt')
      const row = await insertSilence(db, { deviceId: b.deviceId ?? null, communityId: b.communityId ?? null, ruleId: b.ruleId ?? null, startsAt, endsAt, reason: b.reason, createdBy: p.name })
      return reply.code(201).send(row)
    },
  )

  app.get(
    '',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Maintenance windows',
        querystring: z.object({ active: z.enum(['true', 'false']).optional().describe('Only those in force now') }),
        response: { 200: z.object({ items: z.array(silence) }), ...errorResponses },
      },
    },
    async (req) => {
      // Windows name communities of every company: the office's tool.
      requireRole(req, 'admin', 'operator')
      return { items: await listSilences(db, req.query.active === 'true') }
    },
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'End a maintenance window now',
        params: serialParams,
        response: { 200: silence, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const row = await endSilence(db, req.params.id)
      if (!row) throw new AppError('not_found', `No silence ${req.params.id}`)
      return row
    },
  )
}

export default silences
