// The dead-letter store: every rejected message or reading, newest first.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { REJECT_REASONS, type RejectReason } from '../../core/contract.ts'
import { listDeadLetters } from '../../core/repos/dead-letters.ts'
import { requireRole } from '../access.ts'
import { errorResponses, limitParam, requestTime, serialCursor, timestamp } from '../schemas.ts'

const reasonCodes = Object.keys(REJECT_REASONS) as [RejectReason, ...RejectReason[]]

const deadLetter = z.object({
  id: z.number().int(),
  receivedAt: timestamp,
  clientId: z.string().nullable(),
  topic: z.string(),
  deviceId: z.string().nullable(),
  reasonCode: z.enum(reasonCodes),
  reason: z.string(),
  payloadExcerpt: z.string().nullable(),
})

const deadLetters: FastifyPluginAsyncZod = async (app) => {
  const deps = app.deps
  app.get(
    '',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Rejected telemetry with the reason for each rejection',
        querystring: z.object({
          device: z.string().optional(),
          reason: z.enum(reasonCodes).optional(),
          from: requestTime.optional(),
          to: requestTime.optional(),
          limit: limitParam,
          cursor: serialCursor,
        }),
        response: { 200: z.object({ items: z.array(deadLetter), nextCursor: z.number().nullable() }), ...errorResponses },
      },
    },
    async (req) => {
      // Raw payloads of every company's devices: the office's debugging tool.
      requireRole(req, 'admin', 'operator')
      const q = req.query
      const items = await listDeadLetters(deps.db, { deviceId: q.device, reasonCode: q.reason, from: q.from, to: q.to, before: q.cursor, limit: q.limit })
      return { items, nextCursor: items.length === q.limit ? (items.at(-1)?.id ?? null) : null }
    },
  )
}

export default deadLetters
