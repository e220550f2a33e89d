// Liveness and readiness: is the database answering, and what storage features are on.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { AppDeps } from '../app.ts'

const healthBody = z.object({
  status: z.enum(['ok', 'degraded']),
  database: z.enum(['up', 'down']),
  engine: z.enum(['postgres', 'pglite']),
  timescaledb: z.string().nullable().describe('TimescaleDB version, or null on plain PostgreSQL'),
  uptimeS: z.number(),
})

const health: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const started = Date.now()
  app.get(
    '/health',
    { schema: { tags: ['system'], summary: 'Service health', response: { 200: healthBody, 503: healthBody } } },
    async (_req, reply) => {
      const up = await deps.db.query('SELECT 1').then(
        () => true,
        () => false,
      )
      return reply.code(up ? 200 : 503).send({
        status: up ? 'ok' : 'degraded',
        database: up ? 'up' : 'down',
        engine: deps.db.engine,
        timescaledb: deps.features.timescale ?? null,
        uptimeS: Math.round((Date.now() - started) / 1000),
      })
    },
  )

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics())
  })
}

export default health
