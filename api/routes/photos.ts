// Photos of an alert: a crew's picture of the repair when resolving, a resident's picture of the
// hazard they report (a hazard report is an alert too). Kept in the database (core/repos/photos.ts)
// so every API process serves every photo.
//
// Upload format: the raw image as the request body (`Content-Type: image/jpeg`, one photo per
// request), not multipart/form-data. The browser sends a File from `<input type=file>` with
// `fetch(url, { body: file })` as it is; one photo per request makes the per-photo size limit the
// route's body limit (refused from Content-Length before anything is read, and by Fastify's
// bodyLimit while reading one without it), and needs no multipart parser or its temporary files.
// Several photos are several requests, counted against PHOTOS_PER_ALERT under the alert's row lock.
//
// The type is decided by the file's magic bytes (core/images.ts), never by the Content-Type header or a file name:
// JPEG (FF D8 FF, ISO/IEC 10918-1 SOI marker), PNG (the 8-byte signature, RFC 2083 §3.1) and WebP
// (a RIFF container of form type "WEBP", RFC 9649 §2.5). Anything else is 415
// unsupported_photo_type. Served back with that type, `nosniff` (helmet) and as an attachment of
// this origin only, the bytes cannot be run as a page.
//
// Who: whoever may see the alert (api/access.ts) — a crew member their company's — except that a
// resident adds to and sees only the photos of their own report.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { getAlert } from '../../core/repos/alerts.ts'
import { sniffImage } from '../../core/images.ts'
import { getPhoto, listPhotos, PHOTO_TYPES } from '../../core/repos/photos.ts'
import { mustSeePhotos, requireRole } from '../access.ts'
import { withinResidentLimits } from '../alerts/resident-limits.ts'
import { errorBody, errorResponses, serialParams, timestamp } from '../schemas.ts'

/** People take and look at photos; services (rules, Node-RED) have no business with them. */
const PEOPLE = ['admin', 'operator', 'crew', 'resident'] as const

const mb = (n: number) => `${Math.round((n / 1048576) * 10) / 10} MB`

export const photoSchema = z.object({
  id: z.number().int(),
  alertId: z.number().int(),
  contentType: z.enum(PHOTO_TYPES),
  size: z.number().int().describe('Bytes'),
  uploadedBy: z.string(),
  uploadedAt: timestamp,
  url: z.string().describe('Where the image is served (needs the bearer token)'),
})

const photoUrl = (alertId: number, id: number) => `/api/v1/alerts/${alertId}/photos/${id}`

const photos: FastifyPluginAsyncZod = async (app) => {
  const { db, alerts: service, settings } = app.deps
  const { maxBytes, perAlert } = settings.photos

  // In this plugin only: every body is raw bytes, at most one photo's worth.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) => done(null, body))

  app.post(
    '/:id/photos',
    {
      bodyLimit: maxBytes,
      onRequest: async (req) => {
        // Refuse an announced oversize body before reading it, with the limit in the message.
        const length = Number(req.headers['content-length'] ?? 0)
        if (length > maxBytes) throw new AppError('photo_too_large', `The photo is ${mb(length)}; at most ${mb(maxBytes)} (PHOTO_MAX_BYTES) — send a smaller or more compressed picture`)
      },
      schema: {
        tags: ['alerts'],
        summary: "Add a photo to an alert (a crew's repair, a resident's own hazard report): the image itself as the body",
        description:
          `The body is one JPEG, PNG or WebP image (Content-Type image/jpeg, image/png or image/webp; the type is read from the bytes), ` +
          `at most PHOTO_MAX_BYTES (default 5 MB; 413 photo_too_large). Other types: 415 unsupported_photo_type. An alert carries at most ` +
          `PHOTOS_PER_ALERT photos (default 10; 409 too_many_photos). A resident sends at most RESIDENT_PHOTO_BYTES_PER_DAY bytes of photos in any 24 hours (default 25 MB; 429 photo_quota with Retry-After). Recorded in the history as an \`attachment\` event.`,
        params: serialParams,
        response: { 201: photoSchema, 409: errorBody, 413: errorBody, 415: errorBody, 429: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...PEOPLE)
      const alert = mustSeePhotos(p, await getAlert(db, req.params.id), req.params.id)
      const body: unknown = req.body
      if (!Buffer.isBuffer(body) || body.length === 0) throw new AppError('validation_failed', 'body: send the image itself as the request body (Content-Type image/jpeg, image/png or image/webp)')
      if (body.length > maxBytes) throw new AppError('photo_too_large', `The photo is ${mb(body.length)}; at most ${mb(maxBytes)} (PHOTO_MAX_BYTES)`)
      const contentType = sniffImage(body)
      if (!contentType) throw new AppError('unsupported_photo_type', 'This file is not a JPEG, PNG or WebP image (judged by its content, not its name); take the photo with the camera or convert it')
      const info = await withinResidentLimits(db, p, reply, 'photo_bytes', body.length, settings.residents, service.clock(), () =>
        service.attachPhoto(alert.id, p.name, { contentType, bytes: body }, perAlert),
      )
      return reply.code(201).send({ ...info, url: photoUrl(info.alertId, info.id) })
    },
  )

  app.get(
    '/:id/photos',
    {
      schema: {
        tags: ['alerts'],
        summary: 'The photos of an alert (without the images)',
        params: serialParams,
        response: { 200: z.object({ items: z.array(photoSchema) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, ...PEOPLE)
      const alert = mustSeePhotos(p, await getAlert(db, req.params.id), req.params.id)
      return { items: (await listPhotos(db, alert.id)).map((i) => ({ ...i, url: photoUrl(i.alertId, i.id) })) }
    },
  )

  app.get(
    '/:id/photos/:photoId',
    {
      schema: {
        tags: ['alerts'],
        summary: 'One photo: the image, with its type (image/jpeg, image/png or image/webp)',
        params: serialParams.extend({ photoId: z.coerce.number().int().positive() }),
        response: { 200: z.any().describe('The image bytes'), ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...PEOPLE)
      const alert = mustSeePhotos(p, await getAlert(db, req.params.id), req.params.id)
      const photo = await getPhoto(db, alert.id, req.params.photoId)
      if (!photo) throw new AppError('not_found', `Alert ${alert.id} has no photo ${req.params.photoId}`)
      return reply
        .type(photo.contentType)
        // Private: it goes with a token; immutable: a photo never changes under its id.
        .header('cache-control', 'private, max-age=86400, immutable')
        // An attachment, never rendered in place by a browser that navigates to it; the console
        // fetches the bytes with its token and shows them through a blob: URL, which an <img>
        // displays whatever the disposition. nosniff (also helmet's) stated here for this route.
        .header('content-disposition', `attachment; filename="alert-${alert.id}-photo-${photo.id}.${photo.contentType.slice(6)}"`)
        .header('x-content-type-options', 'nosniff')
        .send(Buffer.from(photo.bytes))
    },
  )
}

export default photos
