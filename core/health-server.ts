// /livez and /readyz for the processes that serve no HTTP of their own (broker, ingest, rules),
// on HEALTH_PORT (issue 11). Liveness: the event loop answers — nothing else is asked, so a
// database outage never gets a process restarted for nothing. Readiness: every check passes
// (database reachable, broker connected, ingest not stalled, not shutting down); the body lists
// what is wrong. Started before the service's units and stopped after them, so a draining process
// still answers "not ready" rather than refusing the connection. /metrics serves the process's
// own registry (issue 17), behind METRICS_TOKEN when it is set, as the API's does.
import http from 'node:http'
import type { Registry } from 'prom-client'
import { ERRORS } from './errors.ts'
import type { Logger } from './log.ts'
import { PortInUseError } from './net.ts'
import { bearerCheck } from './secrets.ts'
import type { Unit } from './units.ts'

/** One readiness check: what is wrong, or undefined when all is well. */
export type ReadinessCheck = () => Promise<string | undefined> | string | undefined

/** The longest one check may take before it counts as failed: a probe must answer, not hang. */
const CHECK_MS = 2000

async function run(check: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([Promise.resolve(check()), new Promise<string>((resolve) => (timer = setTimeout(() => resolve('a readiness check did not answer in time'), CHECK_MS)))])
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  } finally {
    clearTimeout(timer)
  }
}

export class HealthServer implements Unit {
  readonly name = 'health'
  private server: http.Server | undefined
  private draining = false
  private readonly started = Date.now()
  private readonly metricsAllowed: (authorization: string | undefined) => boolean
  port: number | undefined

  constructor(
    private readonly opts: { host: string; port: number | undefined; service: string; registry?: Registry | undefined; metricsToken?: string | undefined },
    private readonly checks: readonly ReadinessCheck[],
    private readonly log: Logger,
  ) {
    const token = opts.metricsToken
    this.metricsAllowed = token === undefined ? () => true : bearerCheck(token)
  }

  /** Readiness turns false from now on (the first step of a graceful shutdown). */
  drain(): void {
    this.draining = true
  }

  /** The problems readiness reports now (empty: ready). */
  async problems(): Promise<string[]> {
    const found = await Promise.all(this.checks.map(run))
    return [...(this.draining ? ['shutting down (draining)'] : []), ...found.filter((p): p is string => p !== undefined)]
  }

  async start(): Promise<void> {
    if (this.opts.port === undefined) return
    const server = http.createServer((req, res) => void this.answer(req, res))
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError('HEALTH_PORT', this.opts.port ?? 0, this.opts.host) : err))
      server.listen(this.opts.port, this.opts.host, () => resolve())
    })
    this.server = server
    const addr = server.address()
    this.port = typeof addr === 'object' && addr !== null ? addr.port : this.opts.port
    this.log.info({ port: this.port }, `health endpoints listening (${this.paths()})`)
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private paths(): string {
    return this.opts.registry ? '/livez, /readyz, /metrics' : '/livez, /readyz'
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(JSON.stringify(body))
    }
    const uptimeS = Math.round((Date.now() - this.started) / 1000)
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'GET only' })
    if (path === '/livez') return send(200, { status: 'ok', service: this.opts.service, uptimeS })
    if (path === '/readyz' || path === '/ready' || path === '/health') {
      const problems = await this.problems()
      return send(problems.length === 0 ? 200 : 503, { status: problems.length === 0 ? 'ok' : 'degraded', service: this.opts.service, uptimeS, problems })
    }
    const registry = this.opts.registry
    if (path === '/metrics' && registry) {
      // The API's answer and code (api/plugins/metrics-token.ts), so a scraper sees one behaviour.
      if (!this.metricsAllowed(req.headers.authorization)) return send(ERRORS.unauthorized.status, { code: 'unauthorized', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' })
      let text: string
      try {
        text = await registry.metrics()
      } catch (err) {
        this.log.error({ err }, 'collecting the metrics failed')
        return send(ERRORS.internal.status, { code: 'internal', message: ERRORS.internal.message })
      }
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' })
      return void res.end(text)
    }
    send(404, { error: `not found: ${this.paths()}` })
  }
}
