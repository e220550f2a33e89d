// Maintenance windows: alerts raised inside one are recorded but silenced (no notifications).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { endSilence, insertSilence, listSilences, lockSilence, updateSilence } from '../../core/repos/silences.ts'
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

/** What a window is made of: the body of create, and (each part optional) of an edit. */
const fields = z.object({
  deviceId: z.string().optional(),
  communityId: z.string().optional(),
  ruleId: z.string().optional(),
  startsAt: timestamp.optional().describe('Default now'),
  endsAt: timestamp.optional(),
  duration: duration.optional().describe('Instead of endsAt, e.g. 2h'),
  reason: z.string().trim().min(1).max(500),
})
const NEEDS_SCOPE = 'name at least one of deviceId, communityId or ruleId'
const ONE_END = 'give either endsAt or duration'

/** An edit: any field of create; a scope field given as null stops narrowing by it. */
const edit = fields
  .partial()
  .extend({
    deviceId: z.string().nullable().optional(),
    communityId: z.string().nullable().optional(),
    ruleId: z.string().nullable().optional(),
  })
  .refine((b) => b.endsAt === undefined || b.duration === undefined, { message: ONE_END })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' })

const silences: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  app.post(
    '',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Start a maintenance window for a device, a community or a rule (any combination narrows it)',
        body: fields
          .refine((b) => b.deviceId ?? b.communityId ?? b.ruleId, { message: NEEDS_SCOPE })
          .refine((b) => (b.endsAt === undefined) !== (b.duration === undefined), { message: ONE_END }),
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

  app.patch(
    '/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Change a maintenance window that has not ended: its times, scope or reason',
        description:
          'Any field of create; the others keep their values. `duration` counts from the (new or kept) start. A scope field set to null no longer narrows the window. Alerts follow the changed window: ones raised from now on are silenced by it, and silenced ones it no longer covers are handed to the normal path at the next deadline check. A window that has ended is a record: 409 silence_ended.',
        params: serialParams,
        body: edit,
        response: { 200: silence, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const { id } = req.params
      const b = req.body
      return db.transaction(async (tx) => {
        const old = await lockSilence(tx, id)
        if (!old) throw new AppError('not_found', `No silence ${id}`)
        if (old.ended) throw new AppError('silence_ended', `Silence ${id} ended at ${old.endsAt.toISOString()}; start a new window instead`)
        const pick = <K extends 'deviceId' | 'communityId' | 'ruleId'>(k: K) => (b[k] === undefined ? old[k] : b[k])
        const next = { deviceId: pick('deviceId'), communityId: pick('communityId'), ruleId: pick('ruleId'), startsAt: b.startsAt ?? old.startsAt, endsAt: old.endsAt, reason: b.reason ?? old.reason }
        next.endsAt = b.endsAt ?? (b.duration === undefined ? old.endsAt : new Date(next.startsAt.getTime() + b.duration))
        if (!(next.deviceId ?? next.communityId ?? next.ruleId)) throw new AppError('validation_failed', `body: ${NEEDS_SCOPE}`)
        if (next.endsAt <= next.startsAt) throw new AppError('validation_failed', `body.endsAt must be after startsAt (${next.startsAt.toISOString()})`)
        const row = await updateSilence(tx, id, next)
        if (!row) throw new AppError('not_found', `No silence ${id}`)
        return row
      })
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
