// Liveness and readiness: is the database answering, is every unit of this process keeping up
// (`deps.probes`: a stalled ingest, issue 7 item 1; shutting down, issue 11), and what storage
// features are on. /health, /ready and /readyz answer the same checks (/readyz is the name
// Kubernetes uses, /ready the one older probes use); /livez answers whenever the event loop
// does, without touching the database, so a database outage makes the API unready, never
// "dead" (restarting it would not bring the database back).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

const healthBody = z.object({
  status: z.enum(['ok', 'degraded']),
  database: z.enum(['up', 'down']),
  engine: z.enum(['postgres', 'pglite']),
  timescaledb: z.string().nullable().describe('TimescaleDB version, or null on plain PostgreSQL'),
  uptimeS: z.number(),
  leader: z.boolean().describe('Whether this API process runs the timed jobs (deadlines, reminders, retention) now'),
  problems: z.array(z.string()).describe('Why the status is degraded; empty when ok'),
})

/** The longest a readiness check waits for the database: a probe must answer, not hang. */
const DB_CHECK_MS = 2000

const health: FastifyPluginAsyncZod = async (app) => {
  const deps = app.deps
  const started = Date.now()
  for (const [url, summary] of [
    ['/health', 'Service health'],
    ['/ready', 'Readiness: 503 while the database is down, ingestion is stalled or the process is shutting down'],
    ['/readyz', 'Readiness (as /ready): 503 while the database is down, ingestion is stalled or the process is shutting down'],
  ] as const) {
    app.get(url, { schema: { tags: ['system'], summary, response: { 200: healthBody, 503: healthBody } } }, async (_req, reply) => {
      let timer: NodeJS.Timeout | undefined
      const up = await Promise.race([
        deps.db.query('SELECT 1').then(
          () => true,
          () => false,
        ),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DB_CHECK_MS))),
      ])
      clearTimeout(timer)
      const problems = [...(up ? [] : ['database is not answering']), ...(deps.probes ?? []).flatMap((probe) => probe() ?? [])]
      return reply.code(problems.length === 0 ? 200 : 503).send({
        status: problems.length === 0 ? 'ok' : 'degraded',
        database: up ? 'up' : 'down',
        engine: deps.db.engine,
        timescaledb: deps.features.timescale ?? null,
        uptimeS: Math.round((Date.now() - started) / 1000),
        leader: deps.leading?.() ?? false,
        problems,
      })
    })
  }

  app.get(
    '/livez',
    { schema: { tags: ['system'], summary: 'Liveness: 200 whenever the process answers (no database check)', response: { 200: z.object({ status: z.literal('ok'), uptimeS: z.number() }) } } },
    () => ({ status: 'ok' as const, uptimeS: Math.round((Date.now() - started) / 1000) }),
  )

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics())
  })
}

export default health
