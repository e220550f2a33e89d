// Every request the API answers, counted by method, route and status, and timed (issue 17).
// The route label is the pattern as registered (`/api/v1/devices/:id`), never the URL, so ids and
// scans of made-up paths cannot grow the series without bound; a request no route matched (a
// 404 of the not-found handler, a malformed URL) counts under one value, `unmatched`. Node's
// HTTP parser admits only the methods it knows, so that label is bounded too.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Metrics } from '../../core/metrics.ts'

const UNMATCHED = 'unmatched'

export default fp(
  (app: FastifyInstance, opts: { metrics: Pick<Metrics, 'httpRequests' | 'httpSeconds'> }) => {
    const { httpRequests, httpSeconds } = opts.metrics
    app.addHook('onResponse', (req, reply, done) => {
      const labels = { method: req.method, route: req.routeOptions.url ?? UNMATCHED }
      httpRequests.inc({ ...labels, status: String(reply.statusCode) })
      httpSeconds.observe(labels, reply.elapsedTime / 1000)
      done()
    })
    return Promise.resolve()
  },
  { name: 'http-metrics' },
)
