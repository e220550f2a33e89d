// Webhooks: where alert events are POSTed, with filters, and the log of each delivery.
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { ALERT_EVENT_TYPES, SEVERITIES } from '../../shared/domain.ts'
import { deleteWebhook, getWebhook, insertWebhook, listDeliveries, listWebhooks } from '../../core/repos/webhooks.ts'
import { generateSecret } from '../../core/secrets.ts'
import { requireRole } from '../access.ts'
import { destinationDenial } from '../../core/egress.ts'
import { errorResponses, limitParam, timestamp } from '../schemas.ts'


const webhook = z.object({
  id: z.string(),
  url: z.string(),
  severities: z.array(z.string()).nullable(),
  communityIds: z.array(z.string()).nullable(),
  eventTypes: z.array(z.string()).nullable(),
  enabled: z.boolean(),
  createdBy: z.string(),
  createdAt: timestamp,
})

const webhooks: FastifyPluginAsyncZod = async (app) => {
  const { db, settings: { egress: destinations } } = app.deps
  app.post(
    '',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Register a webhook; the signing secret is returned once',
        description:
          'Each matching alert event is POSTed as JSON with headers X-HB-Event, X-HB-Event-Id, X-HB-Delivery, X-HB-Attempt and ' +
          'X-HB-Signature: t=<epoch ms>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>. Non-2xx answers are retried with ' +
          'exponential backoff; redirects are not followed. Alerts raised in a maintenance window notify nobody. Loopback, ' +
          'private, link-local, multicast and other special-purpose addresses are refused (400 destination_denied) unless ' +
          'EGRESS_ALLOW allows them; a name is resolved and checked now, and again at every delivery.',
        body: z.object({
          url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
          secret: z.string().min(16, 'a secret needs at least 16 characters').max(200).optional().describe('Default: generated'),
          severities: z.array(z.enum(SEVERITIES)).min(1).optional().describe('Default: all'),
          communityIds: z.array(z.string()).min(1).optional().describe('Default: all'),
          events: z.array(z.enum(ALERT_EVENT_TYPES)).min(1).optional().describe('Default: all'),
        }),
        response: { 201: z.object({ webhook, secret: z.string() }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, 'admin', 'operator')
      const denied = await destinationDenial(new URL(req.body.url).hostname, destinations)
      if (denied !== undefined) throw new AppError('destination_denied', `body.url: the address is ${denied}; webhooks may only reach public addresses unless EGRESS_ALLOW allows it`)
      const secret = req.body.secret ?? generateSecret(32)
      const row = await insertWebhook(db, {
        id: randomUUID(),
        url: req.body.url,
        secret,
        severities: req.body.severities ?? null,
        communityIds: req.body.communityIds ?? null,
        eventTypes: req.body.events ?? null,
        createdBy: p.name,
      })
      return reply.code(201).send({ webhook: row, secret })
    },
  )

  app.get(
    '',
    { schema: { tags: ['notifications'], summary: 'Registered webhooks', response: { 200: z.object({ items: z.array(webhook) }), ...errorResponses } } },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      return { items: await listWebhooks(db) }
    },
  )

  const idParams = z.object({ id: z.uuid() })

  app.get(
    '/:id/deliveries',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Delivery log of one webhook, newest first',
        params: idParams,
        querystring: z.object({ limit: limitParam }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                id: z.number().int(),
                eventId: z.number().int(),
                eventType: z.string(),
                status: z.enum(['pending', 'delivered', 'failed']),
                attempts: z.number().int(),
                lastStatusCode: z.number().int().nullable(),
                lastError: z.string().nullable(),
                createdAt: timestamp,
                deliveredAt: timestamp.nullable(),
                nextAttemptAt: timestamp,
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      if (!(await getWebhook(db, req.params.id))) throw new AppError('not_found', `No webhook ${req.params.id}`)
      return { items: await listDeliveries(db, req.params.id, req.query.limit) }
    },
  )

  app.delete(
    '/:id',
    { schema: { tags: ['notifications'], summary: 'Remove a webhook', params: idParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      requireRole(req, 'admin', 'operator')
      if (!(await deleteWebhook(db, req.params.id))) throw new AppError('not_found', `No webhook ${req.params.id}`)
      return reply.code(204).send(null)
    },
  )
}

export default webhooks
