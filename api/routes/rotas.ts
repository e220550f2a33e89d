// On-call rotas of the companies (crew, manager) and of the housing office (duty): the weekly
// schedule, who is on call now or at a time, swaps and covers, and the shift hand-over register.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { getRota, insertHandover, insertOverride, deleteOverride, listHandovers, listRotas, overridesBetween, upsertRota, type Rota } from '../../core/repos/notify-setup.ts'
import { getUser, peopleOf } from '../../core/repos/tokens.ts'
import { ROTA_ROLES } from '../../notify/policy.ts'
import { isTimezone, onCallAt, shiftsBetween } from '../../notify/rota.ts'
import { companyCoverage, type Cover } from '../../notify/coverage.ts'
import { companyScope, mustManage, mustRead, principalOf } from '../access.ts'
import { errorResponses, limitParam, timestamp } from '../schemas.ts'

const rotaSchema = z.object({
  id: z.string(),
  companyId: z.string().nullable(),
  role: z.enum(ROTA_ROLES),
  name: z.string(),
  timezone: z.string(),
  startsOn: z.string(),
  handoverTime: z.string(),
  members: z.array(z.string()),
  createdBy: z.string(),
  createdAt: timestamp,
})
const overrideSchema = z.object({
  id: z.number().int(),
  rotaId: z.string(),
  userId: z.string(),
  kind: z.enum(['swap', 'cover']),
  startsAt: timestamp,
  endsAt: timestamp,
  note: z.string().nullable(),
  createdBy: z.string(),
  createdAt: timestamp,
})
const shiftSchema = z.object({ userId: z.string(), userName: z.string().nullable(), from: timestamp, to: timestamp, override: z.boolean() })
const idParams = z.object({ id: z.string().min(1).max(100) })
/** The longest an override may run: a rota is weekly, a longer change belongs in the schedule. */
const MAX_OVERRIDE_MS = 31 * 86_400_000

const rotas: FastifyPluginAsyncZod = async (app) => {
  const { db, notify } = app.deps
  const clock = notify?.clock ?? (() => new Date())
  async function rotaFor(id: string, read: boolean, p: ReturnType<typeof principalOf>): Promise<Rota> {
    const rota = await getRota(db, id)
    if (!rota) throw new AppError('not_found', `No rota ${id}`)
    if (read) mustRead(p, rota.companyId, 'rota')
    else await mustManage(db, p, rota.companyId, 'rotas')
    return rota
  }

  app.put(
    '/:id',
    {
      schema: {
        tags: ['on-call'],
        summary: "Create or replace a rota: a company's crew or manager rota, or the housing office's duty rota (no companyId)",
        description: 'members[k mod n] is on call from the k-th weekly hand-over at handoverTime (local, timezone) counted from startsOn.',
        params: idParams,
        body: z.object({
          companyId: z.string().nullable().default(null),
          role: z.enum(ROTA_ROLES),
          name: z.string().trim().min(1).max(100),
          timezone: z.string().refine(isTimezone, 'expected an IANA time zone such as Asia/Shanghai').default('Asia/Shanghai'),
          startsOn: z.iso.date(),
          handoverTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24 h)').default('09:00'),
          members: z.array(z.string().min(1)).min(1).max(100),
        }),
        response: { 200: rotaSchema, ...errorResponses },
      },
    },
    async (req) => {
      const p = principalOf(req)
      const { companyId, role } = req.body
      if ((role === 'duty') !== (companyId === null)) throw new AppError('validation_failed', 'body.role: the housing office has a duty rota, a company crew and manager rotas')
      await mustManage(db, p, companyId, 'rotas')
      const existing = await getRota(db, req.params.id)
      if (existing) await mustManage(db, p, existing.companyId, 'rotas')
      for (const m of req.body.members) {
        const u = await getUser(db, m)
        if (!u || (companyId !== null && u.companyId !== companyId)) throw new AppError('validation_failed', `body.members: ${m} is not a user of ${companyId ?? 'the housing office'}`)
      }
      return upsertRota(db, { id: req.params.id, ...req.body, createdBy: p.name }).catch((err: unknown) => {
        if ((err as { code?: string }).code === '23505') throw new AppError('conflict', `This owner has a ${role} rota already`)
        throw err
      })
    },
  )

  app.get(
    '',
    { schema: { tags: ['on-call'], summary: 'Rotas you may see', response: { 200: z.object({ items: z.array(rotaSchema) }), ...errorResponses } } },
    async (req) => {
      const p = principalOf(req)
      mustRead(p, null, 'rotas')
      const all = await listRotas(db)
      return { items: p.role === 'crew' ? all.filter((r) => r.companyId === null || r.companyId === p.companyId) : all }
    },
  )

  app.get(
    '/people',
    {
      schema: {
        tags: ['on-call'],
        summary: "Whom a rota or a contact point may name: a company's crew (companyId), or the housing office's admins and operators (none); enabled users, by name",
        querystring: z.object({ companyId: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(1000).default(500) }),
        response: { 200: z.object({ items: z.array(z.object({ id: z.string(), name: z.string(), role: z.string() })) }), ...errorResponses },
      },
    },
    async (req) => {
      const owner = req.query.companyId ?? null
      await mustManage(db, principalOf(req), owner, 'people')
      return { items: await peopleOf(db, owner, req.query.limit) }
    },
  )

  const coverSchema = z.object({
    userId: z.string().nullable(),
    userName: z.string().nullable(),
    gap: z.enum(['no_rota', 'nobody_on_call', 'no_contact']).nullable().describe('why a page of this rota reaches nobody now; null: it reaches userId'),
  })
  app.get(
    '/coverage',
    {
      schema: {
        tags: ['on-call'],
        summary: "Whether each company's crew and manager rotas reach a person now",
        description:
          "A company whose crew or manager rota has no rota, nobody on call, or an on-call person no enabled channel reaches is `uncovered`: pages of that rota go to the housing office's duty officer at once until it is covered. Uncovered companies come first; a company's own users see their company alone.",
        querystring: z.object({ at: timestamp.optional() }),
        response: {
          200: z.object({
            at: timestamp,
            uncovered: z.number().int(),
            companies: z.array(z.object({ companyId: z.string(), companyName: z.string(), uncovered: z.boolean(), crew: coverSchema, manager: coverSchema })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = principalOf(req)
      mustRead(p, null, 'rotas')
      const at = req.query.at ?? clock()
      const rows = await companyCoverage(db, at, companyScope(p))
      const names = new Map<string, string | null>()
      const cover = async (c: Cover) => {
        if (c.userId !== undefined && !names.has(c.userId)) names.set(c.userId, (await getUser(db, c.userId))?.name ?? null)
        return { userId: c.userId ?? null, userName: c.userId === undefined ? null : (names.get(c.userId) ?? null), gap: c.gap ?? null }
      }
      const companies = []
      for (const r of rows) companies.push({ companyId: r.companyId, companyName: r.companyName, uncovered: r.uncovered, crew: await cover(r.roles.crew), manager: await cover(r.roles.manager) })
      return { at, uncovered: rows.filter((r) => r.uncovered).length, companies }
    },
  )

  app.get(
    '/:id/on-call',
    {
      schema: {
        tags: ['on-call'],
        summary: 'Who is on call now, or at a time (overrides included)',
        params: idParams,
        querystring: z.object({ at: timestamp.optional() }),
        response: { 200: z.object({ at: timestamp, shift: shiftSchema.nullable() }), ...errorResponses },
      },
    },
    async (req) => {
      const rota = await rotaFor(req.params.id, true, principalOf(req))
      const at = req.query.at ?? clock()
      const shift = onCallAt(rota, await overridesBetween(db, rota.id, at, new Date(at.getTime() + 1)), at)
      if (!shift) return { at, shift: null }
      return { at, shift: { ...shift, userName: (await getUser(db, shift.userId))?.name ?? null } }
    },
  )

  app.get(
    '/:id/schedule',
    {
      schema: {
        tags: ['on-call'],
        summary: 'Who is on call when over the coming days (overrides included): the shifts one after the other, for a timeline',
        params: idParams,
        querystring: z.object({ from: timestamp.optional(), days: z.coerce.number().int().min(1).max(31).default(7) }),
        response: { 200: z.object({ from: timestamp, to: timestamp, shifts: z.array(shiftSchema) }), ...errorResponses },
      },
    },
    async (req) => {
      const rota = await rotaFor(req.params.id, true, principalOf(req))
      const from = req.query.from ?? clock()
      const to = new Date(from.getTime() + req.query.days * 86_400_000)
      const shifts = shiftsBetween(rota, await overridesBetween(db, rota.id, from, to), from, to)
      const names = new Map<string, string | null>()
      for (const s of shifts) if (!names.has(s.userId)) names.set(s.userId, (await getUser(db, s.userId))?.name ?? null)
      return { from, to, shifts: shifts.map((s) => ({ ...s, userName: names.get(s.userId) ?? null })) }
    },
  )

  app.post(
    '/:id/overrides',
    {
      schema: {
        tags: ['on-call'],
        summary: 'A swap or a cover: userId is on call instead of the scheduled member from startsAt to endsAt (the newest override wins)',
        params: idParams,
        body: z.object({ userId: z.string().min(1), kind: z.enum(['swap', 'cover']), startsAt: timestamp, endsAt: timestamp, note: z.string().max(500).optional() }),
        response: { 201: overrideSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = principalOf(req)
      const rota = await rotaFor(req.params.id, false, p)
      const { startsAt, endsAt } = req.body
      if (endsAt <= startsAt || endsAt.getTime() - startsAt.getTime() > MAX_OVERRIDE_MS) throw new AppError('validation_failed', 'body.endsAt: after startsAt and at most 31 days later')
      const u = await getUser(db, req.body.userId)
      if (!u || (rota.companyId !== null && u.companyId !== rota.companyId)) throw new AppError('validation_failed', `body.userId: not a user of ${rota.companyId ?? 'the housing office'}`)
      const row = await insertOverride(db, { rotaId: rota.id, userId: u.id, kind: req.body.kind, startsAt, endsAt, note: req.body.note ?? null, createdBy: p.name })
      return reply.code(201).send(row)
    },
  )

  app.get(
    '/:id/overrides',
    {
      schema: {
        tags: ['on-call'],
        summary: 'Overrides overlapping a period (default: the next 31 days)',
        params: idParams,
        querystring: z.object({ from: timestamp.optional(), to: timestamp.optional() }),
        response: { 200: z.object({ items: z.array(overrideSchema) }), ...errorResponses },
      },
    },
    async (req) => {
      const rota = await rotaFor(req.params.id, true, principalOf(req))
      const from = req.query.from ?? clock()
      return { items: await overridesBetween(db, rota.id, from, req.query.to ?? new Date(from.getTime() + MAX_OVERRIDE_MS)) }
    },
  )

  app.delete(
    '/:id/overrides/:overrideId',
    { schema: { tags: ['on-call'], summary: 'Withdraw an override', params: idParams.extend({ overrideId: z.coerce.number().int().positive() }), response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      const rota = await rotaFor(req.params.id, false, principalOf(req))
      if (!(await deleteOverride(db, rota.id, req.params.overrideId))) throw new AppError('not_found', `No override ${req.params.overrideId}`)
      return reply.code(204).send(null)
    },
  )

  const handoverSchema = z.object({ id: z.number().int(), rotaId: z.string(), at: timestamp, author: z.string(), note: z.string() })

  app.post(
    '/:id/handovers',
    {
      schema: {
        tags: ['on-call'],
        summary: 'Write a shift hand-over note (the hand-over register): any member of the rota, or its managers',
        params: idParams,
        body: z.object({ note: z.string().trim().min(1).max(4000) }),
        response: { 201: handoverSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = principalOf(req)
      const rota = await getRota(db, req.params.id)
      if (!rota) throw new AppError('not_found', `No rota ${req.params.id}`)
      if (!rota.members.includes(p.userId)) await mustManage(db, p, rota.companyId, 'rotas')
      return reply.code(201).send(await insertHandover(db, { rotaId: rota.id, at: clock(), author: p.name, note: req.body.note }))
    },
  )

  app.get(
    '/:id/handovers',
    {
      schema: { tags: ['on-call'], summary: 'The hand-over register, newest first', params: idParams, querystring: z.object({ limit: limitParam }), response: { 200: z.object({ items: z.array(handoverSchema) }), ...errorResponses } },
    },
    async (req) => {
      const rota = await rotaFor(req.params.id, true, principalOf(req))
      return { items: await listHandovers(db, rota.id, req.query.limit) }
    },
  )
}

export default rotas
