// The audit log: who changed the configuration. One hook for the whole API, so a route added next
// year is recorded without anyone remembering to: every POST, PUT, PATCH and DELETE under /api/v1/
// made by an authenticated person that succeeds (2xx) leaves one row in audit_log, and so does one
// refused with 403 (someone trying a change their role does not allow is what an office asks
// about). Other refusals (400, 404, 409…) changed nothing and say nothing new; they are not kept.
//
// Left out, on purpose:
// - the `service` role (the rules engine, Node-RED): machine traffic, whose alert reports are in
//   each alert's history;
// - the routes in AUDIT_EXCLUDED (shared/audit-actions.ts): the alert lifecycle, whose every action
//   is already an alert_events row naming its actor, and decoder try-outs, which store nothing;
// - everything outside /api/v1/ (device telemetry, the OneNET and CTWing receivers, notification
//   links, RabbitMQ's auth backend): devices and platforms, not people.
//
// Each row: time, actor (user id, name, role), action (by route: shared/audit-actions.ts), target
// (path parameters, the id of what a create made, a bulk action's counts), the company concerned where known, the
// query and body redacted and bounded (api/audit/redact.ts), status, request id and client address.
//
// When: the body is captured in preValidation (what was sent, before zod turns "1h" into
// milliseconds), and the row is written in onSend, before the response leaves. So a client that
// reads the log right after its change finds it there, and the write's latency falls on mutating
// requests only. It is not in the route's transaction — that would mean remembering it in every
// route — so a crash between the commit and onSend loses the row. A failed or slow write (over
// WRITE_TIMEOUT_MS) is logged at error level and counted (hb_audit_write_failures_total), and the
// response goes out as it is: the change has been made, and answering 500 would misstate that.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { insertAudit, type AuditEntry } from '../../core/repos/audit.ts'
import { actionOf, AUDIT_EXCLUDED, routeKey } from '../../shared/audit-actions.ts'
import { auditBody, auditQuery, REDACTED } from '../audit/redact.ts'

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** Routes whose body is passwords or one-time codes (issue 20): recorded as "[redacted]" whole. */
const PASSWORD_BODIES = new Set(['PUT /api/v1/me/password', 'POST /api/v1/session', 'POST /api/v1/me/totp/confirm', 'DELETE /api/v1/me/totp', 'POST /api/v1/session/totp'])
/**
 * Refusals kept too: a wrong one-time code after a right password (the route names the ticket's
 * user as the principal before checking the code).
 */
const REFUSALS_KEPT = new Set(['POST /api/v1/session/totp'])
/** The longest the response waits for its audit row; past it the row is counted as failed. */
const WRITE_TIMEOUT_MS = 5000
/** A created thing's id is read from responses up to this size (a created row, not a listing). */
const MAX_CREATED_PAYLOAD = 64 * 1024

declare module 'fastify' {
  interface FastifyRequest {
    /** The query and body as sent, redacted; set in preValidation for the requests audited. */
    auditSnapshot: { body: unknown; query: Record<string, unknown> | null } | null
    /** What a change did, where its answer holds it and a later reader needs it (a bulk action's counts): kept in the row's target. */
    auditOutcome: Record<string, string> | null
  }
}

/** Whether the request is one the audit log records (see the header). */
function audited(req: FastifyRequest): boolean {
  if (!MUTATING.has(req.method)) return false
  const pattern = req.routeOptions.url
  if (pattern === undefined || !pattern.startsWith('/api/v1/')) return false
  if (!req.principal || req.principal.role === 'service') return false
  return !Object.hasOwn(AUDIT_EXCLUDED, routeKey(req.method, pattern))
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** The id of what a create made: the response's `id`, or that of the object it wraps ({ device: { id } }). */
function createdId(payload: unknown, contentType: unknown): string | undefined {
  if (typeof payload !== 'string' || payload.length > MAX_CREATED_PAYLOAD || typeof contentType !== 'string' || !contentType.includes('json')) return undefined
  let data: unknown
  try {
    data = JSON.parse(payload)
  } catch {
    return undefined
  }
  const idOf = (o: unknown) => (isRecord(o) && (typeof o.id === 'string' || typeof o.id === 'number') ? String(o.id) : undefined)
  if (!isRecord(data)) return undefined
  return idOf(data) ?? Object.values(data).map(idOf).find((id) => id !== undefined)
}

/** Path parameters as strings, plus `id` (or, when the path has an id, `created`) of what a create made. */
function targetOf(params: unknown, created: string | undefined): Record<string, string> {
  const target: Record<string, string> = {}
  if (isRecord(params)) for (const [k, v] of Object.entries(params)) target[k] = String(v)
  if (created !== undefined && !Object.values(target).includes(created)) target[target.id === undefined ? 'id' : 'created'] = created
  return target
}

/** The company a change concerns: a crew member's own, else one the request names. */
function companyOf(req: FastifyRequest, target: Record<string, string>): string | null {
  if (req.principal?.companyId) return req.principal.companyId
  const named = (o: unknown) => (isRecord(o) && typeof o.companyId === 'string' ? o.companyId : undefined)
  const inPath = req.routeOptions.url?.startsWith('/api/v1/companies/:id') ? target.id : undefined
  return named(req.body) ?? named(req.query) ?? inPath ?? null
}

export default fp(
  (app: FastifyInstance) => {
    const { db, metrics } = app.deps
    app.decorateRequest('auditSnapshot', null)
    app.decorateRequest('auditOutcome', null)

    const snapshotOf = (req: FastifyRequest) => ({
      // A password's body is not kept at all: its names (current, next) say nothing of a secret.
      body: PASSWORD_BODIES.has(routeKey(req.method, req.routeOptions.url ?? '')) ? REDACTED : auditBody(req.body, req.headers['content-type']),
      query: auditQuery(req.query),
    })
    app.addHook('preValidation', async (req) => {
      if (audited(req)) req.auditSnapshot = snapshotOf(req)
    })

    app.addHook('onSend', async (req, reply, payload) => {
      const status = reply.statusCode
      const kept = (status >= 200 && status < 300) || status === 403 || (status === 401 && REFUSALS_KEPT.has(routeKey(req.method, req.routeOptions.url ?? '')))
      if (!kept || !audited(req) || !req.principal) return payload
      const p = req.principal
      const pattern = req.routeOptions.url ?? req.url
      const snapshot = req.auditSnapshot ?? snapshotOf(req)
      const target = { ...targetOf(req.params, status === 201 ? createdId(payload, reply.getHeader('content-type')) : undefined), ...req.auditOutcome }
      const entry: AuditEntry = {
        actorId: p.userId,
        actorName: p.name,
        actorRole: p.role,
        companyId: companyOf(req, target),
        action: actionOf(req.method, pattern),
        method: req.method,
        route: pattern,
        target,
        query: snapshot.query,
        body: snapshot.body,
        status,
        requestId: req.id,
        ip: req.ip,
      }
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          insertAudit(db, entry),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`the audit write took longer than ${WRITE_TIMEOUT_MS} ms`)), WRITE_TIMEOUT_MS)
          }),
        ])
      } catch (err) {
        metrics.auditWriteFailures.inc()
        req.log.error({ err, action: entry.action, target, actor: p.name }, 'audit log write failed; the change itself was made')
      } finally {
        clearTimeout(timer)
      }
      return payload
    })
  },
  { name: 'audit', dependencies: ['deps', 'auth'] },
)
