// One error shape for every failure: `{ code, message }`, with 4xx for the caller's mistakes.
// Validation messages name the field and what it expects; 5xx bodies never carry internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { AppError, ERRORS } from '../../core/errors.ts'

function describeValidation(err: FastifyError): string {
  const where = err.validationContext ?? 'request'
  const issues = (err.validation ?? []).slice(0, 5).map((v) => {
    const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.')
    return `${where}${path ? `.${path}` : ''}: ${v.message ?? 'invalid'}`
  })
  return issues.length > 0 ? issues.join('; ') : err.message
}

/**
 * Errors Fastify raises before routing (an undecodable URL such as `/%FF`, a path parameter over
 * `maxParamLength`): answered in the same `{ code, message }` shape as everything else.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  void reply.code(400).send({ code: 'validation_failed', message: `The URL is not valid: ${err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is too long' : 'it does not decode as UTF-8'}` })
}

/**
 * Where a request carries U+0000 in a string, as `params.id`, `body.name`…; undefined when none.
 * PostgreSQL cannot store NUL in text (SQLSTATE 22021), so it is refused here, once for every
 * route, instead of surfacing as a 500. Iterative, so a deeply nested body cannot overflow the stack.
 */
export function findNul(parts: Record<string, unknown>): string | undefined {
  const stack: [unknown, string][] = Object.entries(parts).map(([where, value]) => [value, where])
  while (stack.length > 0) {
    const [value, where] = stack.pop() ?? [undefined, '']
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return where
    } else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
      // A binary body (a photo) is bytes, not text: a NUL byte in it is no mistake.
      for (const [k, v] of Object.entries(value)) {
        if (k.includes('\u0000')) return where
        stack.push([v, `${where}.${k}`])
      }
    }
  }
  return undefined
}

/** SQLSTATE class 22 is "data exception": a value the caller sent that the database refuses. */
function isDataException(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)
}

export default fp(
  (app: FastifyInstance) => {
    app.addHook('preValidation', async (req) => {
      const where = findNul({ params: req.params, query: req.query, body: req.body })
      if (where !== undefined) throw new AppError('validation_failed', `${where}: must not contain the NUL character (U+0000)`)
    })
    app.setErrorHandler((err: FastifyError, req, reply) => {
      if (err instanceof AppError) {
        return reply.code(err.status).send({ code: err.code, message: err.message, details: err.details })
      }
      if (hasZodFastifySchemaValidationErrors(err) || err.validation) {
        return reply.code(400).send({ code: 'validation_failed', message: describeValidation(err) })
      }
      if (isDataException(err)) {
        // A value that passed the schema but not the database (out of range, not valid text):
        // the caller's mistake; the database's wording stays in the log.
        req.log.warn({ err }, 'request refused by the database as invalid data')
        return reply.code(400).send({ code: 'validation_failed', message: 'A value in the request is out of range or not valid text' })
      }
      const status = err.statusCode ?? 500
      if (status === 413) return reply.code(413).send({ code: 'payload_too_large', message: ERRORS.payload_too_large.message })
      if (status === 415) return reply.code(415).send({ code: 'unsupported_media_type', message: ERRORS.unsupported_media_type.message })
      if (status === 429) return reply.code(429).send({ code: 'rate_limited', message: err.message || ERRORS.rate_limited.message })
      if (status >= 400 && status < 500) {
        // Fastify's own client errors (malformed JSON body, bad content length, …).
        return reply.code(status).send({ code: 'validation_failed', message: err.message })
      }
      req.log.error({ err }, 'request failed')
      return reply.code(500).send({ code: 'internal', message: ERRORS.internal.message })
    })
    app.setNotFoundHandler((req, reply) =>
      reply.code(404).send({ code: 'route_not_found', message: `No route ${req.method} ${req.url.split('?')[0] ?? ''}` }),
    )
  },
  { name: 'errors' },
)
