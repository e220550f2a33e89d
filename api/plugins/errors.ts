// One error shape for every failure: `{ code, message }`, with 4xx for the caller's mistakes.
// Validation messages name the field and what it expects; 5xx bodies never carry internals.
import type { FastifyError, FastifyInstance } from 'fastify'
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

export default fp(
  (app: FastifyInstance) => {
    app.setErrorHandler((err: FastifyError, req, reply) => {
      if (err instanceof AppError) {
        return reply.code(err.status).send({ code: err.code, message: err.message, details: err.details })
      }
      if (hasZodFastifySchemaValidationErrors(err) || err.validation) {
        return reply.code(400).send({ code: 'validation_failed', message: describeValidation(err) })
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
