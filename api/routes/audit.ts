// GET /api/v1/audit: the audit log (api/plugins/audit.ts records it), newest first, keyset-paginated
// as the dead letters are. The office's (admin, operator): it names every company's changes and
// every user; crews, residents and services get 403.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ROLES } from '../../shared/domain.ts'
import { listAudit, namesOf } from '../../core/repos/audit.ts'
import { requireRole } from '../access.ts'
import { auditFilterQuery } from '../audit/schemas.ts'
import { errorResponses, limitParam, serialCursor, timestamp } from '../schemas.ts'

const entry = z.object({
  id: z.number().int(),
  at: timestamp,
  actorId: z.string().describe('The user who made the change'),
  actorName: z.string(),
  actorRole: z.enum(ROLES),
  companyId: z.string().nullable().describe("The company the change concerns, where known: a crew member's own, or one the request names"),
  action: z.string().describe('Stable name of the change, e.g. rules.update, silences.create, devices.rotate_secret'),
  method: z.string(),
  route: z.string().describe('The route pattern, e.g. /api/v1/rules/:id'),
  target: z.record(z.string(), z.string()).describe('Path parameters, plus the id of what a create made'),
  names: z.record(z.string(), z.string()).describe("The names of the target's ids that are a user, device, company or community (id → name), for people to read"),
  query: z.record(z.string(), z.unknown()).nullable().describe('Query parameters, redacted'),
  body: z
    .unknown()
    .describe('The request body with secrets replaced by "[redacted]"; over 4 KB: { truncated, chars, excerpt }; not JSON: { contentType, bytes }'),
  status: z.number().int().describe('The response status: 2xx, or 403 for a refused attempt'),
  requestId: z.string(),
  ip: z.string().nullable().describe('Client address'),
})

const audit: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  app.get(
    '',
    {
      schema: {
        tags: ['audit'],
        summary: 'Who changed what: every change people made through the API (and every 403-refused attempt), newest first',
        description:
          'Recorded for every successful POST, PUT, PATCH and DELETE under /api/v1 by a person; not for services (rules engine, ' +
          'Node-RED) nor for alert actions (acknowledge, resolve, comments, photos, hazard reports), which are in each alert\'s history. The same as a spreadsheet: GET /api/v1/audit.csv.',
        querystring: auditFilterQuery.extend({ limit: limitParam, cursor: serialCursor }),
        response: { 200: z.object({ items: z.array(entry), nextCursor: z.number().nullable() }), ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const q = req.query
      const items = await listAudit(db, { actor: q.actor, action: q.action, target: q.target, companyId: q.company, from: q.from, to: q.to, before: q.cursor, limit: q.limit })
      const names = await namesOf(db, [...new Set(items.flatMap((e) => Object.values(e.target)))])
      const named = (target: Record<string, string>) => Object.fromEntries(Object.values(target).flatMap((id) => (names.has(id) ? [[id, names.get(id) ?? '']] : [])))
      return { items: items.map((e) => ({ ...e, names: named(e.target) })), nextCursor: items.length === q.limit ? (items.at(-1)?.id ?? null) : null }
    },
  )
}

export default audit
