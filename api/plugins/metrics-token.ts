// An optional bearer token for /metrics (METRICS_TOKEN; issue 7, item 17). The metrics name
// devices, queues and error counts: worth keeping from whoever can reach the port. The health
// server of `broker`, `ingest` and `rules` applies the same check (core/health-server.ts).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../../core/errors.ts'
import { bearerCheck } from '../../core/secrets.ts'

export default fp(
  (app: FastifyInstance, opts: { token?: string | undefined }) => {
    if (opts.token === undefined) return
    const allowed = bearerCheck(opts.token)
    app.addHook('onRequest', async (req) => {
      if (req.url !== '/metrics' && !req.url.startsWith('/metrics?')) return
      if (!allowed(req.headers.authorization)) {
        await app.authFailures?.(req)
        throw new AppError('unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>')
      }
    })
    return Promise.resolve()
  },
  { name: 'metrics-token' },
)
