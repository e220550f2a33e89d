// The API as a Fastify plugin tree: infrastructure plugins first, then one plugin per resource.
// `buildApp` only wires; listening and shutdown belong to the caller (cli/, tests use inject()).
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { IncomingMessage, ServerResponse } from 'node:http'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify'
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Db } from '../core/db/client.ts'
import type { DbFeatures } from '../core/db/migrate.ts'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import type { AlertService } from './alerts/service.ts'
import auth from './plugins/auth.ts'
import alertStream from './routes/alert-stream.ts'
import alerts from './routes/alerts.ts'
import rules from './routes/rules.ts'
import deviceAdmin from './routes/device-admin.ts'
import evaluation from './routes/evaluation.ts'
import registry from './routes/registry.ts'
import residents from './routes/residents.ts'
import users from './routes/users.ts'
import { DEFAULT_WEIGHTS, type Weights } from './evaluation/score.ts'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import { sha256 } from '../core/secrets.ts'
import silences from './routes/silences.ts'
import webhooks from './routes/webhooks.ts'
import errors from './plugins/errors.ts'
import deadLetters from './routes/dead-letters.ts'
import devices from './routes/devices.ts'
import health from './routes/health.ts'

export interface AppDeps {
  db: Db
  features: DbFeatures
  metrics: Metrics
  alerts: AlertService
  /** Checks of other units in this process (the ingest in `up`); each names what is wrong, or undefined. */
  probes?: readonly (() => string | undefined)[]
}

export interface AppOptions {
  weights?: Weights
  corsOrigins?: string[] | undefined
  /** Requests per minute per token or address; 0 = off. */
  rateLimitPerMinute?: number
  /** Told of every route as it is registered (tests check that each is documented and access-checked). */
  onRoute?: (route: { method: string; url: string; hidden: boolean }) => void
}

const CONSOLE_DIR = path.resolve(import.meta.dirname, '../console')

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>

export async function buildApp(deps: AppDeps, log: Logger, opts: AppOptions = {}): Promise<App> {
  // Typed as Fastify's logger so the instance type stays the plain App type.
  const loggerInstance: FastifyBaseLogger = log
  const app = Fastify({
    loggerInstance,
    bodyLimit: 1024 * 1024,
    // One line per request is noise at info level; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  const onRoute = opts.onRoute
  if (onRoute) {
    app.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) onRoute({ method, url: r.url, hidden: r.schema?.hide === true })
    })
  }

  await app.register(errors)
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        // Swagger UI styles itself inline and shows the validator badge as an image.
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
      },
    },
  })
  if (opts.corsOrigins && opts.corsOrigins.length > 0) {
    await app.register(cors, { origin: opts.corsOrigins, allowedHeaders: ['authorization', 'content-type', 'last-event-id'], maxAge: 600 })
  }
  if ((opts.rateLimitPerMinute ?? 0) > 0) {
    await app.register(rateLimit, {
      max: opts.rateLimitPerMinute,
      timeWindow: 60_000,
      // Per token when there is one (several users behind one address), else per address.
      keyGenerator: (req) => (req.headers.authorization ? sha256(req.headers.authorization) : req.ip),
      allowList: (req) => req.url === '/health' || req.url === '/ready' || req.url === '/metrics',
      errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, code: 'rate_limited', message: `Too many requests: at most ${ctx.max} per minute; retry in ${Math.ceil(ctx.ttl / 1000)} s` }),
    })
  }
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'housing-brain API', version: '1', description: 'Property supervision and evaluation API' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  // The console: static files, no build step (console/).
  await app.register(fastifyStatic, { root: CONSOLE_DIR, prefix: '/console/', decorateReply: false })
  app.get('/', { schema: { hide: true } }, (_req, reply) => reply.redirect('/console/'))
  await app.register(auth, { db: deps.db })

  await app.register(health, deps)
  await app.register(devices, deps)
  await app.register(deadLetters, deps)
  await app.register(alertStream, { service: deps.alerts })
  await app.register(alerts, { service: deps.alerts })
  await app.register(silences, { db: deps.db })
  await app.register(rules, { db: deps.db })
  await app.register(deviceAdmin, { db: deps.db })
  await app.register(registry, { db: deps.db })
  await app.register(users, { db: deps.db })
  await app.register(residents, { service: deps.alerts })
  await app.register(evaluation, { db: deps.db, weights: opts.weights ?? DEFAULT_WEIGHTS })
  await app.register(webhooks, { db: deps.db })
  return app
}
