// Device profiles as data (core/profiles/schema.ts): list, read, create, replace, delete. A
// definition is validated whole and refused with every problem and what to fix; a profile that
// devices use cannot be deleted.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { DEVICE_KINDS } from '../../core/contract.ts'
import { withArticle } from '../../shared/text.ts'
import { AppError } from '../../core/errors.ts'
import { profileSchema, type DeviceProfile } from '../../core/profiles/schema.ts'
import { deleteProfile, getProfile, listProfiles, upsertProfile, type StoredProfile } from '../../core/repos/profiles.ts'
import { describeIssues } from '../../rules/definitions.ts'
import { requireRole } from '../access.ts'
import { errorResponses, timestamp } from '../schemas.ts'

const profileResponse = z.object({
  id: z.string(),
  kind: z.enum(DEVICE_KINDS),
  definition: z.record(z.string(), z.unknown()).describe('The profile as stored: reportInterval in milliseconds'),
  builtin: z.boolean().describe('Shipped with housing-brain; edits are kept across restarts'),
  devices: z.number().int().describe('Devices using the profile'),
  createdAt: timestamp,
  updatedAt: timestamp,
})

function validate(input: unknown): DeviceProfile {
  const parsed = profileSchema.safeParse(input)
  if (!parsed.success) throw new AppError('validation_failed', describeIssues(parsed.error).map((m) => `body.${m}`).join('; '))
  return parsed.data
}

const profiles: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  app.get(
    '',
    { schema: { tags: ['profiles'], summary: 'All device profiles', response: { 200: z.object({ items: z.array(profileResponse) }), ...errorResponses } } },
    async (req) => {
      requireRole(req, 'admin', 'operator', 'service')
      return { items: await listProfiles(db) }
    },
  )

  const idParams = z.object({ id: z.string().min(1).max(64) })
  const mustGet = async (id: string): Promise<StoredProfile> => {
    const p = await getProfile(db, id)
    if (!p) throw new AppError('not_found', `No device profile "${id}"`)
    return p
  }

  app.get(
    '/:id',
    { schema: { tags: ['profiles'], summary: 'One device profile', params: idParams, response: { 200: profileResponse, ...errorResponses } } },
    async (req) => {
      requireRole(req, 'admin', 'operator', 'service')
      return mustGet(req.params.id)
    },
  )

  app.post(
    '',
    {
      schema: {
        tags: ['profiles'],
        summary: 'Create a device profile (kind, report interval, rule overrides, decoder)',
        description: 'The decoder is declarative (fields: JSON paths, scale, offset, convert, map) and/or a JavaScript decodeUplink(input) run in a sandbox. See the README "Device profiles".',
        body: z.record(z.string(), z.unknown()).describe('A device profile; see the README "Device profiles"'),
        response: { 201: profileResponse, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin', 'operator')
      const p = validate(req.body)
      if (await getProfile(db, p.id)) throw new AppError('conflict', `A device profile "${p.id}" exists; PUT /api/v1/profiles/${p.id} replaces it`)
      await upsertProfile(db, { id: p.id, kind: p.kind, definition: p })
      return reply.code(201).send(await mustGet(p.id))
    },
  )

  app.put(
    '/:id',
    {
      schema: {
        tags: ['profiles'],
        summary: 'Replace a device profile (its devices decode with the new one from their next payload)',
        params: idParams,
        body: z.record(z.string(), z.unknown()),
        response: { 200: profileResponse, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const p = validate({ ...req.body, id: req.params.id })
      const existing = await getProfile(db, p.id)
      if (existing && existing.devices > 0 && existing.kind !== p.kind) {
        throw new AppError('validation_failed', `body.kind: ${existing.devices} ${existing.kind} devices use this profile; it cannot become ${withArticle(p.kind)} profile`)
      }
      await upsertProfile(db, { id: p.id, kind: p.kind, definition: p })
      return mustGet(p.id)
    },
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags: ['profiles'],
        summary: 'Delete a device profile no device uses',
        params: idParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin', 'operator')
      const outcome = await deleteProfile(db, req.params.id)
      if (outcome === false) throw new AppError('not_found', `No device profile "${req.params.id}"`)
      if (outcome === 'in_use') throw new AppError('conflict', `Devices use the profile "${req.params.id}"; give them another profile (PATCH /api/v1/devices/{id} with profileId) first`)
      return reply.code(204).send(null)
    },
  )
}

export default profiles
