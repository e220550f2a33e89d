// Property companies, communities, and which company looks after which community (with history).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { idSchema } from '../../core/contract.ts'
import { AppError } from '../../core/errors.ts'
import {
  assignCommunity,
  assignmentHistory,
  createCommunity,
  createCompany,
  getCommunity,
  getCompany,
  listCommunities,
  listCompanies,
  updateCommunity,
  updateCompany,
} from '../../core/repos/registry.ts'
import { createStreet, getStreet, listStreets, updateStreet } from '../../core/repos/streets.ts'
import { companyScope, mustBeCompanyOfStreet, mustSeeCommunity, mustSeeCompanyRecord, principalOf, requireRole, streetScope } from '../access.ts'
import { errorBody, errorResponses, keyParams, timestamp } from '../schemas.ts'

const company = z.object({ id: z.string(), name: z.string(), contact: z.string().nullable(), createdAt: timestamp })
const community = z.object({
  id: z.string(),
  name: z.string(),
  district: z.string().nullable(),
  street: z.string().nullable().describe('A road or place name, free text'),
  streetId: z.string().nullable().describe('The street (街道/镇) it belongs to: GET /api/v1/streets'),
  address: z.string().nullable(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  companyId: z.string().nullable().describe('The company looking after it now'),
  createdAt: timestamp,
})
const street = z.object({
  id: z.string(),
  name: z.string(),
  district: z.string().nullable(),
  communities: z.number().int().describe('Communities that belong to it now'),
  createdAt: timestamp,
})
/** Streets listed at most: a district has a few dozen. */
const MAX_STREETS = 500
const assignment = z.object({
  id: z.number().int(),
  communityId: z.string(),
  companyId: z.string(),
  startsAt: timestamp,
  endsAt: timestamp.nullable(),
  assignedBy: z.string(),
  note: z.string().nullable(),
})

const text = (max: number) => z.string().trim().min(1).max(max)
const communityFields = {
  name: text(120),
  district: text(80).nullable().optional(),
  street: text(120).nullable().optional(),
  streetId: z.string().min(1).nullable().optional().describe('A street of GET /api/v1/streets; null: none'),
  address: text(200).nullable().optional(),
  lat: z.number().min(-90, 'lat must be between -90 and 90').max(90, 'lat must be between -90 and 90').nullable().optional(),
  lon: z.number().min(-180, 'lon must be between -180 and 180').max(180, 'lon must be between -180 and 180').nullable().optional(),
}

const registry: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  /** Refuses a streetId that names no street (null and absent pass). */
  const mustBeStreet = async (id: string | null | undefined): Promise<void> => {
    if (id && !(await getStreet(db, id))) throw new AppError('validation_failed', `body.streetId: no street "${id}"; register it first (POST /api/v1/streets)`)
  }

  // ---- Streets (街道/镇) -------------------------------------------------------------------------

  app.get(
    '/streets',
    {
      schema: {
        tags: ['registry'],
        summary: 'Streets (街道/镇) of the district (a street officer sees their own)',
        response: { 200: z.object({ items: z.array(street) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'street_officer')
      return { items: await listStreets(db, MAX_STREETS, streetScope(p)) }
    },
  )

  app.get(
    '/streets/:id',
    { schema: { tags: ['registry'], summary: 'One street', params: keyParams, response: { 200: street, ...errorResponses } } },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'street_officer')
      const s = await getStreet(db, req.params.id)
      const scope = streetScope(p)
      if (!s || (scope !== undefined && s.id !== scope)) throw new AppError('not_found', `No street "${req.params.id}"`)
      return s
    },
  )

  app.post(
    '/streets',
    {
      schema: {
        tags: ['registry'],
        summary: 'Register a street (街道/镇)',
        body: z.object({ id: idSchema, name: text(120), district: text(80).nullable().optional() }),
        response: { 201: street, 409: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin', 'operator')
      if (await getStreet(db, req.body.id)) throw new AppError('conflict', `A street "${req.body.id}" exists`)
      return reply.code(201).send(await createStreet(db, { id: req.body.id, name: req.body.name, district: req.body.district ?? null }))
    },
  )

  app.patch(
    '/streets/:id',
    {
      schema: {
        tags: ['registry'],
        summary: 'Change a street',
        params: keyParams,
        body: z.object({ name: text(120).optional(), district: text(80).nullable().optional() }),
        response: { 200: street, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const s = await updateStreet(db, req.params.id, req.body)
      if (!s) throw new AppError('not_found', `No street "${req.params.id}"`)
      return s
    },
  )
  // ---- Companies ------------------------------------------------------------------------------

  app.get(
    '/companies',
    { schema: { tags: ['registry'], summary: 'Property companies', response: { 200: z.object({ items: z.array(company) }), ...errorResponses } } },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew', 'street_officer')
      return { items: await listCompanies(db, companyScope(p), streetScope(p)) }
    },
  )

  app.get(
    '/companies/:id',
    { schema: { tags: ['registry'], summary: 'One property company', params: keyParams, response: { 200: company, ...errorResponses } } },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew', 'street_officer')
      const c = mustSeeCompanyRecord(p, await getCompany(db, req.params.id), req.params.id)
      await mustBeCompanyOfStreet(db, p, req.params.id, new AppError('not_found', `No company "${req.params.id}"`))
      return c
    },
  )

  app.post(
    '/companies',
    {
      schema: {
        tags: ['registry'],
        summary: 'Register a property company',
        body: z.object({ id: idSchema, name: text(120), contact: text(200).nullable().optional() }),
        response: { 201: company, 409: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin', 'operator')
      if (await getCompany(db, req.body.id)) throw new AppError('conflict', `A company "${req.body.id}" exists`)
      return reply.code(201).send(await createCompany(db, { id: req.body.id, name: req.body.name, contact: req.body.contact ?? null }))
    },
  )

  app.patch(
    '/companies/:id',
    {
      schema: {
        tags: ['registry'],
        summary: 'Change a property company',
        params: keyParams,
        body: z.object({ name: text(120).optional(), contact: text(200).nullable().optional() }),
        response: { 200: company, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const c = await updateCompany(db, req.params.id, req.body)
      if (!c) throw new AppError('not_found', `No company "${req.params.id}"`)
      return c
    },
  )

  // ---- Communities ----------------------------------------------------------------------------

  app.get(
    '/communities',
    {
      schema: {
        tags: ['registry'],
        summary: 'Communities (a crew member sees those of their company, a resident their own, a street officer their street\'s)',
        querystring: z.object({ company: z.string().optional(), district: z.string().optional(), streetId: z.string().optional().describe('Only communities of this street') }),
        response: { 200: z.object({ items: z.array(community) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew', 'resident', 'street_officer')
      const scope = companyScope(p)
      if (scope !== undefined && req.query.company !== undefined && req.query.company !== scope) return { items: [] }
      const street = streetScope(p)
      if (street !== undefined && req.query.streetId !== undefined && req.query.streetId !== street) return { items: [] }
      const items = await listCommunities(db, { companyId: scope ?? req.query.company, district: req.query.district, streetId: street ?? req.query.streetId })
      return { items: p.role === 'resident' ? items.filter((c) => c.id === p.communityId) : items }
    },
  )

  app.get(
    '/communities/:id',
    { schema: { tags: ['registry'], summary: 'One community', params: keyParams, response: { 200: community, ...errorResponses } } },
    async (req) => mustSeeCommunity(principalOf(req), await getCommunity(db, req.params.id), req.params.id),
  )

  app.post(
    '/communities',
    {
      schema: {
        tags: ['registry'],
        summary: 'Register a community, optionally with the company that looks after it',
        body: z.object({ id: idSchema, ...communityFields, companyId: z.string().optional() }),
        response: { 201: community, 409: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, 'admin', 'operator')
      const b = req.body
      if (await getCommunity(db, b.id)) throw new AppError('conflict', `A community "${b.id}" exists`)
      if (b.companyId !== undefined && !(await getCompany(db, b.companyId))) throw new AppError('validation_failed', `body.companyId: no company "${b.companyId}"`)
      await mustBeStreet(b.streetId)
      await db.transaction(async (tx) => {
        const fields = { name: b.name, district: b.district ?? null, street: b.street ?? null, streetId: b.streetId ?? null, address: b.address ?? null, lat: b.lat ?? null, lon: b.lon ?? null }
        await createCommunity(tx, b.id, fields)
        if (b.companyId !== undefined) await assignCommunity(tx, b.id, b.companyId, p.name, 'registered')
      })
      return reply.code(201).send(mustSeeCommunity(p, await getCommunity(db, b.id), b.id))
    },
  )

  app.patch(
    '/communities/:id',
    {
      schema: {
        tags: ['registry'],
        summary: 'Change a community (its company changes through /assignment)',
        params: keyParams,
        body: z.object({ ...communityFields, name: communityFields.name.optional() }),
        response: { 200: community, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      await mustBeStreet(req.body.streetId)
      const c = await updateCommunity(db, req.params.id, req.body)
      if (!c) throw new AppError('not_found', `No community "${req.params.id}"`)
      return c
    },
  )

  app.post(
    '/communities/:id/assignment',
    {
      schema: {
        tags: ['registry'],
        summary: 'Hand the community to a property company from now on (past alerts stay with their company)',
        params: keyParams,
        body: z.object({ companyId: z.string().min(1), note: text(500).optional() }),
        response: { 200: assignment, ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator')
      const c = await getCommunity(db, req.params.id)
      if (!c) throw new AppError('not_found', `No community "${req.params.id}"`)
      if (!(await getCompany(db, req.body.companyId))) throw new AppError('validation_failed', `body.companyId: no company "${req.body.companyId}"`)
      if (c.companyId === req.body.companyId) throw new AppError('validation_failed', `body.companyId: "${c.id}" is already looked after by "${c.companyId}"`)
      return db.transaction((tx) => assignCommunity(tx, c.id, req.body.companyId, p.name, req.body.note ?? null))
    },
  )

  app.get(
    '/communities/:id/assignments',
    {
      schema: { tags: ['registry'], summary: 'Which company looked after the community when', params: keyParams, response: { 200: z.object({ items: z.array(assignment) }), ...errorResponses } },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew')
      mustSeeCommunity(p, await getCommunity(db, req.params.id), req.params.id)
      return { items: await assignmentHistory(db, req.params.id) }
    },
  )
}

export default registry
