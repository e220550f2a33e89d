// A community's site plan and where its devices stand on it (issue 20; docs/map.md). The office
// uploads one image per community, which the console draws at its natural size as the community's
// map; devices are placed on it at fractions of the image (0..1 from the top left), so a plan
// replaced by a scan of another resolution keeps every device where it was.
//
// The image is sent and validated like an alert photo (api/routes/photos.ts): the raw bytes as the
// body, the type read from them (never the Content-Type header), the size limit checked from
// Content-Length before anything is read. Its pixel size comes from its header (core/images.ts).
// Served with its SHA-256 as a strong ETag and `no-cache`, so a browser keeps it and asks only
// whether it changed (304), and a replaced plan shows at once.
//
// Who: the office (admin, operator) uploads, replaces, deletes and places; a crew member sees the
// plans of their company's communities; residents and services have no business with them.
import { createHash } from 'node:crypto'
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { imageSize, sniffImage } from '../../core/images.ts'
import { getDevice } from '../../core/repos/devices.ts'
import { PHOTO_TYPES } from '../../core/repos/photos.ts'
import { getCommunity } from '../../core/repos/registry.ts'
import { deleteSitePlan, getSitePlan, listSitePlans, putSitePlan, setPlanPosition } from '../../core/repos/site-plans.ts'
import { mustSeeCommunity, mustSeeDevice, OFFICE, requireRole } from '../access.ts'
import { errorBody, errorResponses, keyParams, timestamp } from '../schemas.ts'

/** The largest plan side drawn: larger images are refused (a browser would struggle with them). */
export const PLAN_MAX_SIDE = 16_384

const mb = (n: number) => `${Math.round((n / 1048576) * 10) / 10} MB`

export const sitePlanSchema = z.object({
  communityId: z.string(),
  contentType: z.enum(PHOTO_TYPES),
  width: z.number().int().describe('Pixels, from the image header'),
  height: z.number().int(),
  size: z.number().int().describe('Bytes'),
  etag: z.string().describe('The image\'s strong ETag (its SHA-256)'),
  uploadedBy: z.string(),
  uploadedAt: timestamp,
  url: z.string().describe('Where the image is served (needs the bearer token or session cookie)'),
})

const planUrl = (communityId: string) => `/api/v1/communities/${encodeURIComponent(communityId)}/site-plan`
const etagOf = (sha256: string) => `"${sha256}"`

/** A fraction of the plan's width or height. */
const fraction = (axis: string) => z.number().min(0, `${axis} is a fraction of the plan, from 0 to 1`).max(1, `${axis} is a fraction of the plan, from 0 to 1`)
const positionSchema = z.object({ deviceId: z.string(), x: fraction('x').describe('From the left edge, 0..1'), y: fraction('y').describe('From the top edge, 0..1') })

const sitePlans: FastifyPluginAsyncZod = async (app) => {
  const { db, settings } = app.deps
  const maxBytes = settings.map.sitePlanMaxBytes

  // The image routes in a child context: only there is every body raw bytes.
  await app.register(async (child) => {
    const images = child.withTypeProvider<ZodTypeProvider>()
    images.removeAllContentTypeParsers()
    images.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) => done(null, body))

    images.put(
      '/communities/:id/site-plan',
      {
        bodyLimit: maxBytes,
        onRequest: async (req) => {
          const length = Number(req.headers['content-length'] ?? 0)
          if (length > maxBytes) throw new AppError('site_plan_too_large', `The plan is ${mb(length)}; at most ${mb(maxBytes)} (SITE_PLAN_MAX_BYTES) — export it smaller or as JPEG/WebP`)
        },
        schema: {
          tags: ['registry'],
          summary: "Upload or replace a community's site plan: the image itself as the body",
          description:
            `One PNG, JPEG or WebP image (the type is read from the bytes), at most SITE_PLAN_MAX_BYTES (default 5 MB; 413 site_plan_too_large) ` +
            `and ${PLAN_MAX_SIDE} pixels a side (422 site_plan_unreadable). Other types: 415 unsupported_site_plan_type. Devices keep their positions, ` +
            'which are fractions of the image.',
          params: keyParams,
          response: { 200: sitePlanSchema, 413: errorBody, 415: errorBody, 422: errorBody, ...errorResponses },
        },
      },
      async (req) => {
        const p = requireRole(req, ...OFFICE)
        const community = mustSeeCommunity(p, await getCommunity(db, req.params.id), req.params.id)
        const body: unknown = req.body
        if (!Buffer.isBuffer(body) || body.length === 0) throw new AppError('validation_failed', 'body: send the image itself as the request body (Content-Type image/png, image/jpeg or image/webp)')
        const contentType = sniffImage(body)
        if (!contentType) throw new AppError('unsupported_site_plan_type', 'This file is not a PNG, JPEG or WebP image (judged by its content, not its name); export the plan as one of them')
        const size = imageSize(contentType, body)
        if (!size || size.width > PLAN_MAX_SIDE || size.height > PLAN_MAX_SIDE) {
          const said = size ? `${size.width} × ${size.height} pixels` : 'no size'
          throw new AppError('site_plan_unreadable', `The image header gives ${said}; a plan must be at most ${PLAN_MAX_SIDE} × ${PLAN_MAX_SIDE} pixels`)
        }
        const sha256 = createHash('sha256').update(body).digest('hex')
        const plan = await putSitePlan(db, { communityId: community.id, contentType, ...size, sha256, bytes: body, uploadedBy: p.name, uploadedAt: new Date() })
        return { ...plan, etag: etagOf(plan.sha256), url: planUrl(plan.communityId) }
      },
    )
  })

  app.get(
    '/communities/:id/site-plan',
    {
      schema: {
        tags: ['registry'],
        summary: "A community's site plan: the image, with its type, ETag and Cache-Control: no-cache (If-None-Match answers 304)",
        params: keyParams,
        response: { 200: z.any().describe('The image bytes'), 304: z.any().describe('Not modified: the ETag sent in If-None-Match is current'), ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...OFFICE, 'crew')
      const community = mustSeeCommunity(p, await getCommunity(db, req.params.id), req.params.id)
      const plan = await getSitePlan(db, community.id)
      if (!plan) throw new AppError('not_found', `Community "${community.id}" has no site plan`)
      const etag = etagOf(plan.sha256)
      // Private: it goes with a credential; no-cache: kept, but asked about, as it can be replaced.
      reply.header('etag', etag).header('cache-control', 'private, no-cache').header('x-content-type-options', 'nosniff')
      const wanted = req.headers['if-none-match']
      if (wanted !== undefined && wanted.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return reply.code(304).send()
      return reply
        .type(plan.contentType)
        .header('content-disposition', `attachment; filename="site-plan-${community.id.replace(/[^\w.-]/g, '_')}.${plan.contentType.slice(6)}"`)
        .send(Buffer.from(plan.bytes))
    },
  )

  app.delete(
    '/communities/:id/site-plan',
    {
      schema: {
        tags: ['registry'],
        summary: "Delete a community's site plan (its devices keep their positions for the next plan)",
        params: keyParams,
        response: { 204: z.null().describe('Deleted'), ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...OFFICE)
      const community = mustSeeCommunity(p, await getCommunity(db, req.params.id), req.params.id)
      if (!(await deleteSitePlan(db, community.id))) throw new AppError('not_found', `Community "${community.id}" has no site plan`)
      return reply.code(204).send(null)
    },
  )

  app.put(
    '/devices/:id/plan-position',
    {
      schema: {
        tags: ['registry'],
        summary: "Place a device on its community's site plan, at fractions of the image (x from the left, y from the top, each 0..1)",
        description: 'Out of 0..1: 400 validation_failed naming the field. A community without a plan: 409 no_site_plan.',
        params: keyParams,
        body: positionSchema.omit({ deviceId: true }),
        response: { 200: positionSchema, 409: errorBody, ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, ...OFFICE)
      const device = mustSeeDevice(p, await getDevice(db, req.params.id), req.params.id)
      const [plan] = await listSitePlans(db, [device.communityId])
      if (!plan) throw new AppError('no_site_plan', `Community "${device.communityId}" of device "${device.id}" has no site plan; upload one first (PUT ${planUrl(device.communityId)})`)
      await setPlanPosition(db, device.id, req.body)
      return { deviceId: device.id, ...req.body }
    },
  )

  app.delete(
    '/devices/:id/plan-position',
    {
      schema: {
        tags: ['registry'],
        summary: "Take a device off its community's site plan (it is listed beside the plan again)",
        params: keyParams,
        response: { 204: z.null().describe('Taken off'), ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...OFFICE)
      const device = mustSeeDevice(p, await getDevice(db, req.params.id), req.params.id)
      await setPlanPosition(db, device.id, null)
      return reply.code(204).send(null)
    },
  )
}

export default sitePlans
