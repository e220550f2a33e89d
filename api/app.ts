// The API as a Fastify plugin tree: infrastructure plugins first, then one plugin per resource.
// `buildApp` only wires; listening and shutdown belong to the caller (cli/, tests use inject()).
import compress from '@fastify/compress'
import { constants as zlibConstants } from 'node:zlib'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { IncomingMessage, ServerResponse } from 'node:http'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify'
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/log.ts'
import auth, { type SessionSettings } from './plugins/auth.ts'
import audit from './plugins/audit.ts'
import appDeps, { DEFAULT_MAP_SETTINGS, DEFAULT_PHOTO_LIMITS, type AppDeps, type MapSettings, type PhotoLimits } from './plugins/deps.ts'
import { DEFAULT_RESIDENT_LIMITS, type ResidentLimits } from './alerts/resident-limits.ts'
import metricsToken from './plugins/metrics-token.ts'
import httpMetrics from './plugins/http-metrics.ts'
import { DEFAULT_DEVICE_LOGIN_LIMITS, type DeviceLoginLimits } from '../intake/device-login/index.ts'
import deviceLogins from '../intake/http/device-logins.ts'
import rateLimits from './plugins/rate-limit.ts'
import alertStream, { DEFAULT_STREAM_LIMITS, type StreamLimits } from './routes/alert-stream.ts'
import alerts from './routes/alerts.ts'
import alertsBulk from './routes/alerts-bulk.ts'
import rules from './routes/rules.ts'
import profiles from './routes/profiles.ts'
import profileDecode from './routes/profile-decode.ts'
import deviceTelemetry from '../intake/http/device-telemetry.ts'
import onenet from '../intake/http/onenet.ts'
import ctwing from '../intake/http/ctwing.ts'
import deviceAdmin from './routes/device-admin.ts'
import simulateFault from './routes/simulate-fault.ts'
import type { SimulateFaultMode } from '../intake/simulated-fault.ts'
import deviceImport from './routes/device-import.ts'
import evaluation from './routes/evaluation.ts'
import scoreWeights from './routes/score-weights.ts'
import overview from './routes/overview.ts'
import registry from './routes/registry.ts'
import residents from './routes/residents.ts'
import users from './routes/users.ts'
import session from './routes/session.ts'
import totp from './routes/totp.ts'
import signInProviders from './routes/sign-in-providers.ts'
import { DingtalkSignIn } from '../core/sso/dingtalk.ts'
import { WecomSignIn } from '../core/sso/wecom.ts'
import type { SignInProvider } from '../core/sso/provider.ts'
import { DEFAULT_WEIGHTS, type Weights } from '../alerts/score.ts'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import { PACKAGE_ROOT } from '../core/package-root.ts'
import silences from './routes/silences.ts'
import webhooks from './routes/webhooks.ts'
import { DENY_ALL_SPECIAL, type DestinationPolicy } from '../core/egress.ts'
import errors, { frameworkErrors } from './plugins/errors.ts'
import deadLetters from './routes/dead-letters.ts'
import feed from './routes/feed.ts'
import auditLog from './routes/audit.ts'
import csvExports, { EXPORT_MAX_ROWS } from './routes/exports.ts'
import devices from './routes/devices.ts'
import health from './routes/health.ts'
import map, { tileOrigins } from './routes/map.ts'
import photos from './routes/photos.ts'
import sitePlans from './routes/site-plans.ts'
import notify from './routes/notify.ts'
import notifyLinks from './routes/notify-links.ts'
import rotas from './routes/rotas.ts'
import hotline from './routes/hotline.ts'
import { HOTLINE_DEADLINE_MS } from './hotline/import.ts'
import rabbitmqAuth, { type RabbitAuthSettings } from '../intake/http/rabbitmq-auth.ts'

export type { AppDeps } from './plugins/deps.ts'

export interface AppOptions {
  weights?: Weights
  /** HOTLINE_HANDLE_DEADLINE; default 72 h. */
  hotlineDeadlineMs?: number
  corsOrigins?: string[] | undefined
  /** Proxies whose X-Forwarded-For names the client (TRUST_PROXY); default none. */
  trustProxy?: boolean | number | string[]
  /** Requests per minute per token or address; 0 = off. */
  rateLimitPerMinute?: number
  /** Failed authentications per minute per address before 429; 0 = off. */
  authFailuresPerMinute?: number
  /** When set, GET /metrics needs `Authorization: Bearer <it>` (METRICS_TOKEN). */
  metricsToken?: string | undefined
  /** Bounds of the live alert stream (backfill size and age, streams per token, token recheck). */
  alertStream?: Partial<StreamLimits>
  /** Special-range destinations every outgoing connection may reach (EGRESS_ALLOW); default none. */
  egress?: DestinationPolicy
  /** Photo size and count limits (PHOTO_MAX_BYTES, PHOTOS_PER_ALERT). */
  photos?: Partial<PhotoLimits>
  /** The map's base layer and the site plans' size limit (MAP_TILE_URL …, SITE_PLAN_MAX_BYTES). */
  map?: Partial<MapSettings>
  /** Residents' limits (RESIDENT_REPORTS_PER_HOUR, RESIDENT_REPORTS_PER_DAY, RESIDENT_PHOTO_BYTES_PER_DAY). */
  residents?: Partial<ResidentLimits>
  /** The token of OneNET's HTTP push (ONENET_PUSH_TOKEN); the OneNET receiver exists only with it. */
  onenetPushToken?: string | undefined
  /** The token of the CTWing subscription URL (CTWING_PUSH_TOKEN); the CTWing receiver exists only with it. */
  ctwingPushToken?: string | undefined
  /** Answer RabbitMQ's HTTP auth backend under /rabbitmq/auth/{key}/… (RABBITMQ_AUTH_KEY). */
  rabbitmqAuth?: RabbitAuthSettings | undefined
  /** Bounds of the device secret checks of the HTTP entry points, and their cache (MQTT_AUTH_MAX_CONCURRENT…). */
  deviceLogins?: DeviceLoginLimits
  /** Most rows one CSV export (alerts.csv, audit.csv) holds; default EXPORT_MAX_ROWS (50,000). */
  exportMaxRows?: number
  /** Which devices an admin may make report a fault (SIMULATE_FAULTS); default the demo's. */
  simulateFaults?: SimulateFaultMode
  /** Console sessions' lifetime and idle time, and the clock they are timed by (tests move it). */
  sessions?: Partial<SessionSettings>
  /** Signing in through WeCom (WECOM_*) or DingTalk (DINGTALK_*), and this API's address as browsers reach it (SIGN_IN_BASE_URL). */
  signIn?: { wecom?: SignInProvider | undefined; dingtalk?: SignInProvider | undefined; baseUrl: string }
  /** Told of every route as it is registered (tests check that each is documented and access-checked). */
  onRoute?: (route: { method: string; url: string; hidden: boolean }) => void
}

/**
 * The API's options from its sections of the configuration (core/settings.ts); `egress` and the
 * device login gate are built once per process and shared with the delivery pipeline and the broker.
 */
export function appOptions(
  cfg: Pick<Config, 'api' | 'alerts' | 'server' | 'onenet' | 'ctwing' | 'rabbitmq' | 'broker' | 'signin' | 'notify' | 'map'>,
  shared: { egress: DestinationPolicy; logins?: DeviceLoginLimits['shared'] },
  log: Logger,
): AppOptions {
  const { api, broker, rabbitmq, signin } = cfg
  const { wecomCorpId: corpId, wecomAgentId: agentId, wecomSecret: secret } = signin
  // All three or none: one missing leaves the button off (docs/configuration.md says which).
  const wecom =
    corpId !== undefined && agentId !== undefined && secret !== undefined
      ? new WecomSignIn({ corpId, agentId, secret, apiBaseUrl: signin.wecomApiBaseUrl, authorizeUrl: signin.wecomAuthorizeUrl, qrLoginUrl: signin.wecomQrLoginUrl }, log.child({ module: 'sign-in' }))
      : undefined
  const { dingtalkClientId: clientId, dingtalkClientSecret: clientSecret } = signin
  // Both or none, as WeCom's.
  const dingtalk =
    clientId !== undefined && clientSecret !== undefined
      ? new DingtalkSignIn({ clientId, clientSecret, apiBaseUrl: signin.dingtalkApiBaseUrl, authorizeUrl: signin.dingtalkAuthorizeUrl }, log.child({ module: 'sign-in' }))
      : undefined
  return {
    signIn: { wecom, dingtalk, baseUrl: signin.baseUrl ?? cfg.notify.linkBaseUrl },
    weights: { ...DEFAULT_WEIGHTS, ...cfg.alerts.weights },
    hotlineDeadlineMs: cfg.alerts.hotlineDeadlineMs,
    corsOrigins: api.corsOrigins,
    trustProxy: api.trustProxy,
    rateLimitPerMinute: api.rateLimitPerMinute,
    authFailuresPerMinute: api.authFailuresPerMinute,
    sessions: { totpRequired: api.totpRequired },
    egress: shared.egress,
    metricsToken: cfg.server.metricsToken,
    photos: { maxBytes: api.photoMaxBytes, perAlert: api.photosPerAlert },
    map: cfg.map,
    residents: { reportsPerHour: api.residentReportsPerHour, reportsPerDay: api.residentReportsPerDay, photoBytesPerDay: api.residentPhotoBytesPerDay },
    simulateFaults: api.simulateFaults,
    onenetPushToken: cfg.onenet.pushToken,
    ctwingPushToken: cfg.ctwing.pushToken,
    // In one process with the broker, its gate and cache: one bound for MQTT and HTTP together.
    deviceLogins: { maxConcurrent: broker.authMaxConcurrent, maxConcurrentPerAddress: broker.authMaxConcurrentPerAddress, shared: shared.logins },
    rabbitmqAuth:
      rabbitmq.authKey === undefined ? undefined : { key: rabbitmq.authKey, vhost: rabbitmq.vhost, exchange: rabbitmq.exchange, maxConcurrent: broker.authMaxConcurrent },
    alertStream: { backfillMax: api.streamBackfillMax, backfillMaxAgeMs: api.streamBackfillMaxAgeMs, perToken: api.streamsPerToken, recheckMs: api.streamRecheckMs },
  }
}

/** The built console (console/build.ts writes it on `npm install`, before tests, and from `up`). */
const CONSOLE_DIR = path.join(PACKAGE_ROOT, 'console', 'dist')

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>

function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops
}

export async function buildApp(deps: AppDeps, log: Logger, opts: AppOptions = {}): Promise<App> {
  // Typed as Fastify's logger so the instance type stays the plain App type.
  const loggerInstance: FastifyBaseLogger = log
  const app = Fastify({
    loggerInstance,
    bodyLimit: 1024 * 1024,
    // A hop count as proxy-addr's trust function (Fastify's types name only the other forms).
    trustProxy: typeof opts.trustProxy === 'number' ? trustHops(opts.trustProxy) : (opts.trustProxy ?? false),
    // One line per request is noise at info level; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors,
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
  // First, so that every answer is counted, whichever plugin gives it.
  await app.register(httpMetrics, { metrics: deps.metrics })
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        // Swagger UI styles itself inline and shows the validator badge as an image; the console
        // shows alert photos through object URLs (blob:), fetched with the bearer token.
        'style-src': ["'self'", "'unsafe-inline'"],
        // The map's base layer (MAP_TILE_URL), when it is on another host: its tile servers too.
        'img-src': ["'self'", 'data:', 'blob:', ...tileOrigins({ ...DEFAULT_MAP_SETTINGS, ...opts.map })],
      },
    },
  })
  if (opts.corsOrigins && opts.corsOrigins.length > 0) {
    await app.register(cors, { origin: opts.corsOrigins, allowedHeaders: ['authorization', 'content-type', 'last-event-id', 'x-hb-csrf'], maxAge: 600 })
  }
  // Answers over 1 KB compressed for clients that accept it (issue 21: 5,000 alerts were 4.3 MB on a
  // crew's 4G phone; brotli makes them ~47 KB, bench/console.ts). Brotli at quality 4, not the
  // default 11, which costs tens of milliseconds of CPU a megabyte. The live stream hijacks its
  // reply, so its events are never held back by a compressor's buffer.
  await app.register(compress, { encodings: ['br', 'gzip'], threshold: 1024, brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } } })
  await app.register(rateLimits, { perMinute: opts.rateLimitPerMinute ?? 0, authFailuresPerMinute: opts.authFailuresPerMinute ?? 0 })
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'housing-brain API', version: '1', description: 'Property supervision and evaluation API' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  })
  // Tags start closed: with every operation of 135 open at once Swagger UI stopped rendering after the
  // second tag (the page showed 11); opened one at a time each renders all of its own.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'none' } })
  // The console: the built single-page app (console/src), no CDN, nothing fetched at run time.
  // Brotli or gzip copies made at build (console/build.ts) go to browsers that accept them.
  await app.register(fastifyStatic, { root: CONSOLE_DIR, prefix: '/console/', decorateReply: false, preCompressed: true })
  app.get('/', { schema: { hide: true } }, (_req, reply) => reply.redirect('/console/'))
  await app.register(auth, { db: deps.db, ...(opts.sessions ? { sessions: opts.sessions } : {}) })
  await app.register(metricsToken, { token: opts.metricsToken })

  await app.register(appDeps, {
    ...deps,
    settings: {
      weights: opts.weights ?? DEFAULT_WEIGHTS,
      hotlineDeadlineMs: opts.hotlineDeadlineMs ?? HOTLINE_DEADLINE_MS,
      streamLimits: { ...DEFAULT_STREAM_LIMITS, ...opts.alertStream },
      egress: opts.egress ?? DENY_ALL_SPECIAL,
      photos: { ...DEFAULT_PHOTO_LIMITS, ...opts.photos },
      residents: { ...DEFAULT_RESIDENT_LIMITS, ...opts.residents },
      map: { ...DEFAULT_MAP_SETTINGS, ...opts.map },
      exports: { maxRows: opts.exportMaxRows ?? EXPORT_MAX_ROWS },
      simulateFaults: opts.simulateFaults ?? 'demo',
    },
  })

  await app.register(deviceLogins, { db: deps.db, metrics: deps.metrics, limits: opts.deviceLogins ?? DEFAULT_DEVICE_LOGIN_LIMITS, caches: deps.intake })
  // Before any route: every change a person makes through /api/v1 is recorded (plugins/audit.ts).
  await app.register(audit)

  // One plugin per resource, each under its prefix; its routes name only their relative path.
  // Plugins that serve several resources (residents' voice, notifications) sit under /api/v1.
  await app.register(health)
  const v1 = '/api/v1'
  await app.register(devices, { prefix: `${v1}/devices` })
  await app.register(deviceAdmin, { prefix: `${v1}/devices` })
  await app.register(deviceImport, { prefix: `${v1}/devices` })
  await app.register(simulateFault, { prefix: `${v1}/devices` })
  await app.register(map, { prefix: `${v1}/map` })
  await app.register(deadLetters, { prefix: `${v1}/dead-letters` })
  await app.register(feed, { prefix: `${v1}/feed` })
  await app.register(auditLog, { prefix: `${v1}/audit` })
  // GET /api/v1/alerts.csv and /api/v1/audit.csv: beside their lists, not under them.
  await app.register(csvExports, { prefix: v1 })
  await app.register(alertStream, { prefix: `${v1}/alerts` })
  await app.register(alerts, { prefix: `${v1}/alerts` })
  await app.register(alertsBulk, { prefix: `${v1}/alerts` })
  await app.register(photos, { prefix: `${v1}/alerts` })
  await app.register(silences, { prefix: `${v1}/silences` })
  await app.register(rules, { prefix: `${v1}/rules` })
  await app.register(profiles, { prefix: `${v1}/profiles` })
  await app.register(profileDecode, { prefix: `${v1}/profiles` })
  // What devices and their networks send: outside /api, with the devices' own credentials or a receiver token.
  const receiving = { db: deps.db, intake: deps.intake }
  await app.register(deviceTelemetry, { prefix: '/ingest/v1/devices', intake: deps.intake, metrics: deps.metrics, onRefused: async (req) => app.authFailures?.(req) })
  // A receiver exists once its token is set: without one it could only refuse every push.
  if (opts.onenetPushToken !== undefined) await app.register(onenet, { prefix: '/ingest/v1/onenet', ...receiving, token: opts.onenetPushToken })
  if (opts.ctwingPushToken !== undefined) await app.register(ctwing, { prefix: '/ingest/v1/ctwing', ...receiving, token: opts.ctwingPushToken })
  await app.register(registry, { prefix: v1 })
  await app.register(sitePlans, { prefix: v1 })
  await app.register(users, { prefix: v1 })
  await app.register(session, { prefix: v1 })
  await app.register(totp, { prefix: v1 })
  await app.register(signInProviders, { prefix: v1, ...(opts.signIn ?? { baseUrl: 'http://127.0.0.1:3000' }) })
  await app.register(residents, { prefix: v1 })
  await app.register(evaluation, { prefix: `${v1}/evaluation` })
  await app.register(scoreWeights, { prefix: `${v1}/evaluation` })
  await app.register(overview, { prefix: `${v1}/overview` })
  await app.register(hotline, { prefix: `${v1}/hotline` })
  await app.register(webhooks, { prefix: `${v1}/webhooks` })
  if (deps.notify) {
    await app.register(notify, { prefix: v1 })
    await app.register(rotas, { prefix: `${v1}/rotas` })
    await app.register(notifyLinks)
  }
  if (opts.rabbitmqAuth) await app.register(rabbitmqAuth, { prefix: '/rabbitmq/auth', db: deps.db, metrics: deps.metrics, settings: opts.rabbitmqAuth })
  return app
}
