// Liveness and readiness: is the database answering, is every unit of this process keeping up
// (`deps.probes`: a stalled ingest, issue 7 item 1), and what storage features are on.
// /health and /ready answer the same checks; /ready is the name orchestrators probe for.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

const healthBody = z.object({
  status: z.enum(['ok', 'degraded']),
  database: z.enum(['up', 'down']),
  engine: z.enum(['postgres', 'pglite']),
  timescaledb: z.string().nullable().describe('TimescaleDB version, or null on plain PostgreSQL'),
  uptimeS: z.number(),
  problems: z.array(z.string()).describe('Why the status is degraded; empty when ok'),
})

const health: FastifyPluginAsyncZod = async (app) => {
  const deps = app.deps
  const started = Date.now()
  for (const [url, summary] of [
    ['/health', 'Service health'],
    ['/ready', 'Readiness: 503 while the database is down or ingestion is stalled'],
  ] as const) {
    app.get(url, { schema: { tags: ['system'], summary, response: { 200: healthBody, 503: healthBody } } }, async (_req, reply) => {
      const up = await deps.db.query('SELECT 1').then(
        () => true,
        () => false,
      )
      const problems = [...(up ? [] : ['database is not answering']), ...(deps.probes ?? []).flatMap((probe) => probe() ?? [])]
      return reply.code(problems.length === 0 ? 200 : 503).send({
        status: problems.length === 0 ? 'ok' : 'degraded',
        database: up ? 'up' : 'down',
        engine: deps.db.engine,
        timescaledb: deps.features.timescale ?? null,
        uptimeS: Math.round((Date.now() - started) / 1000),
        problems,
      })
    })
  }

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics())
  })
}

export default health
