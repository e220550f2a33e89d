// Authentication for /api: a bearer token (services, scripts, and people who prefer one) or the
// console's session cookie (issue 20; docs/security.md, "Signing in"). A request made with the
// cookie that changes something must carry x-hb-csrf: another site can make the browser send the
// cookie, not read the CSRF value. A session whose user must change their password reaches only
// the routes that let them do it; so does an office session owing a one-time code set-up
// (TOTP_REQUIRED). Revocations made through the API are announced on `app.revocations`, so that
// what outlives a request (an open alert stream) ends with its credential.
import { EventEmitter } from 'node:events'
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from '../../core/db/client.ts'
import { AppError } from '../../core/errors.ts'
import { csrfOf, DEFAULT_SESSION_LIMITS, sessionPrincipal, type SessionLimits } from '../../core/repos/sessions.ts'
import { TOTP_REQUIRED_ROLES } from '../../core/totp.ts'
import { authenticate, isTokenOfDisabledUser, type Principal } from '../../core/repos/tokens.ts'

/** A token revoked (a session's as `session:<id>`), or every token of a user. */
export type Revocation = { tokenId: string; userId?: undefined } | { userId: string; tokenId?: undefined }

export const SESSION_COOKIE = 'hb_session'
export const CSRF_HEADER = 'x-hb-csrf'
/** Signing in with a password. */
export const SIGN_IN_ROUTE = 'POST /api/v1/session'
/** Its second step, with a one-time code (the ticket it carries is its credential). */
export const SIGN_IN_CODE_ROUTE = 'POST /api/v1/session/totp'
/** Routes open to anyone: signing in, with a password (and a code) or through WeCom or DingTalk (api/routes/sign-in-providers.ts). */
const OPEN_ROUTES = new Set([SIGN_IN_ROUTE, SIGN_IN_CODE_ROUTE, 'GET /api/v1/session/providers', 'GET /api/v1/session/:provider', 'GET /api/v1/session/:provider/callback'])
/** What a session that must change its password may still do. */
const WHILE_MUST_CHANGE = new Set(['GET /api/v1/me', 'PUT /api/v1/me/password', 'DELETE /api/v1/session'])
/** What a session that must set up one-time codes (TOTP_REQUIRED) may still do. */
// A street officer reads their street and changes nothing: every other route is refused here, so a
// route added later stays closed to them until it is scoped to a street (api/access.ts streetScope).
const STREET_OFFICER_ROUTES = new Set([
  ...WHILE_MUST_CHANGE,
  'DELETE /api/v1/sessions',
  'GET /api/v1/streets',
  'GET /api/v1/streets/:id',
  'GET /api/v1/communities',
  'GET /api/v1/communities/:id',
  'GET /api/v1/companies',
  'GET /api/v1/companies/:id',
  'GET /api/v1/alerts',
  'GET /api/v1/alerts/:id',
  'GET /api/v1/alerts/stream',
  'GET /api/v1/devices',
  'GET /api/v1/devices/:id',
  'GET /api/v1/evaluation/ranking',
])
const WHILE_MUST_ENROL = new Set([...WHILE_MUST_CHANGE, 'POST /api/v1/me/totp', 'POST /api/v1/me/totp/confirm'])
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export interface SessionSettings {
  limits: SessionLimits
  /** The clock sessions are timed by (tests move it). */
  now: () => Date
  /** TOTP_REQUIRED: admins' and operators' sessions reach nothing but the set-up until they sign in with a code. */
  totpRequired: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
    /** The session's CSRF value, when the request came with the session cookie. */
    csrf: string | null
  }
  interface FastifyInstance {
    revocations: EventEmitter<{ revoked: [Revocation] }>
    sessionSettings: SessionSettings
  }
}

/** The value of one cookie of the Cookie header (RFC 6265 §5.4: `name=value` pairs joined by `; `). */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** A cookie `name=value` with its attributes; Secure when the request came over HTTPS (req.protocol honours TRUST_PROXY). */
export function cookieWith(req: FastifyRequest, pair: string, path: string, maxAgeS: number): string {
  const attrs = [pair, 'HttpOnly', 'SameSite=Lax', `Path=${path}`, `Max-Age=${maxAgeS}`]
  if (req.protocol === 'https') attrs.push('Secure')
  return attrs.join('; ')
}

/** Equal texts, compared in constant time. */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** A session of an office role without one-time codes, where TOTP_REQUIRED is on (bearer tokens are not people signing in). */
export const mustEnrol = (p: Principal, settings: Pick<SessionSettings, 'totpRequired'>): boolean =>
  settings.totpRequired && p.sessionId !== undefined && p.totpOn === false && TOTP_REQUIRED_ROLES.includes(p.role)

const routeOf = (req: FastifyRequest) => `${req.method} ${req.routeOptions.url ?? ''}`

export default fp(
  (app: FastifyInstance, opts: { db: Db; sessions?: Partial<SessionSettings> }) => {
    app.decorateRequest('principal', null)
    app.decorateRequest('csrf', null)
    const revocations = new EventEmitter<{ revoked: [Revocation] }>()
    // One listener per open stream; the streams per token are capped, not the tokens.
    revocations.setMaxListeners(0)
    app.decorate('revocations', revocations)
    const settings: SessionSettings = {
      limits: opts.sessions?.limits ?? DEFAULT_SESSION_LIMITS,
      now: opts.sessions?.now ?? (() => new Date()),
      totpRequired: opts.sessions?.totpRequired ?? false,
    }
    app.decorate('sessionSettings', settings)
    app.addHook('onRequest', async (req) => {
      if (!req.url.startsWith('/api/')) return
      // Signing in needs no credential (a stale cookie must not stand in its way).
      if (OPEN_ROUTES.has(routeOf(req))) return
      const header = req.headers.authorization
      const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null
      // Every failure counts against the address's budget (429 once over it; see rate-limit.ts).
      const fail = async (err: AppError): Promise<never> => {
        await app.authFailures?.(req)
        throw err
      }
      const cookie = match ? undefined : cookieOf(req.headers.cookie, SESSION_COOKIE)
      if (cookie) return bySession(req, cookie, fail)
      if (!match?.[1]) return fail(new AppError('unauthorized'))
      const principal = await authenticate(opts.db, match[1])
      if (!principal) {
        if (await isTokenOfDisabledUser(opts.db, match[1])) return fail(new AppError('user_disabled'))
        return fail(new AppError('unauthorized', 'The bearer token is unknown, revoked or expired'))
      }
      req.principal = principal
    })
    app.addHook('onRequest', async (req) => {
      if (req.principal?.role === 'street_officer' && !STREET_OFFICER_ROUTES.has(routeOf(req))) {
        throw new AppError('forbidden', 'A street officer reads their street\'s communities, devices, alerts, companies and ranking only')
      }
    })

    async function bySession(req: FastifyRequest, cookie: string, fail: (err: AppError) => Promise<never>): Promise<void> {
      const principal = await sessionPrincipal(opts.db, cookie, settings.now(), settings.limits)
      if (!principal) return fail(new AppError('session_ended'))
      req.principal = principal
      req.csrf = csrfOf(cookie)
      if (UNSAFE.has(req.method)) {
        const sent = req.headers[CSRF_HEADER]
        if (typeof sent !== 'string' || !sameText(sent, req.csrf)) throw new AppError('csrf')
      }
      if (principal.mustChangePassword && !WHILE_MUST_CHANGE.has(routeOf(req))) throw new AppError('password_change_required')
      if (mustEnrol(principal, settings) && !WHILE_MUST_ENROL.has(routeOf(req))) throw new AppError('totp_enrolment_required')
    }
  },
  { name: 'auth' },
)
