// An optional bearer token for /metrics (METRICS_TOKEN; issue 7, item 17). The metrics name
// devices, queues and error counts: worth keeping from whoever can reach the port. Only the
// token's SHA-256 is kept in memory, and the comparison takes the same time whatever matches.
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../../core/errors.ts'
import { sha256 } from '../../core/secrets.ts'

export default fp(
  (app: FastifyInstance, opts: { token?: string | undefined }) => {
    if (opts.token === undefined) return
    const expected = Buffer.from(sha256(opts.token), 'hex')
    app.addHook('onRequest', async (req) => {
      if (req.url !== '/metrics' && !req.url.startsWith('/metrics?')) return
      const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
      // Digests of equal length, so timingSafeEqual never throws and leaks no length.
      const given = Buffer.from(sha256(match?.[1] ?? ''), 'hex')
      if (!match || !timingSafeEqual(given, expected)) {
        await app.authFailures?.(req)
        throw new AppError('unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>')
      }
    })
    return Promise.resolve()
  },
  { name: 'metrics-token' },
)
