// Signing in with another organisation's directory (issue 20): WeCom (企业微信) or DingTalk (钉钉),
// one set of routes for each configured provider. The console sends the browser to
// GET /session/:provider, which sends it on to the provider with a fresh state (stored hashed,
// core/repos/sign-in-states.ts, and bound to this browser by a short-lived cookie); the provider
// sends it back to the callback with a one-time code, exchanged for the person's id there
// (core/sso/). An id an admin linked to an enabled user starts the same session as a password
// sign-in; any refusal sends the browser to the console's sign-in page with the error's code.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Queryable } from '../../core/db/client.ts'
import { AppError } from '../../core/errors.ts'
import { createSession } from '../../core/repos/sessions.ts'
import { createSignInState, takeSignInState } from '../../core/repos/sign-in-states.ts'
import { userOfDingtalkUnionId, userOfWecomId, type User } from '../../core/repos/tokens.ts'
import type { SignInProvider } from '../../core/sso/provider.ts'
import { cookieOf, cookieWith, sameText, SESSION_COOKIE } from '../plugins/auth.ts'
import { errorResponses } from '../schemas.ts'

export const PROVIDERS = ['wecom', 'dingtalk'] as const
export type ProviderId = (typeof PROVIDERS)[number]

export interface SignInOptions {
  /** Set when WECOM_CORP_ID, WECOM_AGENT_ID and WECOM_SECRET are. */
  wecom?: SignInProvider | undefined
  /** Set when DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET are. */
  dingtalk?: SignInProvider | undefined
  /** This API as browsers reach it (SIGN_IN_BASE_URL, else NOTIFY_LINK_BASE_URL): the redirect URI's origin. */
  baseUrl: string
}

/** What each provider needs besides its client: how its id finds a user, and how its app's browser says so. */
const KINDS: Record<ProviderId, { name: string; userOf: (db: Queryable, id: string) => Promise<User | undefined>; inApp: RegExp}> = {
  // The WeCom app on a phone or desktop says so in its user agent ("wxwork/4.1.x").
  wecom: { name: 'WeCom', userOf: userOfWecomId, inApp: /\bwxwork\b/i },
  // DingTalk's page is the same in its app and in a browser (a QR code): the mode does not matter.
  dingtalk: { name: 'DingTalk', userOf: userOfDingtalkUnionId, inApp: /\bDingTalk\b/i },
}

const STATE_COOKIE = 'hb_signin_state'
/** How long a sign-in may take between leaving for the provider and coming back (a QR code scanned, a consent). */
export const STATE_TTL_MS = 10 * 60_000

const refusal = z.null().describe('Redirects to /console/?signInError=<code>: the console says why in the page\'s language')
const providerParams = z.object({ provider: z.enum(PROVIDERS).describe('wecom (企业微信) or dingtalk (钉钉)') })

function stateCookie(req: FastifyRequest, provider: ProviderId, value: string, maxAgeS: number): string {
  // Path: only this provider's callback needs it back. SameSite=Lax: the provider's redirect is a top-level navigation.
  return cookieWith(req, `${STATE_COOKIE}=${value}`, `/api/v1/session/${provider}`, maxAgeS)
}

const signInProviders: FastifyPluginAsyncZod<SignInOptions> = async (app, opts) => {
  const { db } = app.deps
  const settings = app.sessionSettings
  const base = opts.baseUrl.replace(/\/+$/, '')
  const configured = (id: ProviderId): SignInProvider => {
    const provider = opts[id]
    if (!provider) throw new AppError('sign_in_unavailable')
    return provider
  }
  /** To the console's sign-in page, saying why (the state cookie cleared; the fragment as below). */
  const refuse = (req: FastifyRequest, reply: FastifyReply, id: ProviderId, code: string) =>
    reply.header('set-cookie', stateCookie(req, id, '', 0)).header('cache-control', 'no-store').redirect(`/console/?signInError=${encodeURIComponent(code)}#/`, 303)

  app.get(
    '/session/providers',
    {
      schema: {
        tags: ['users'],
        summary: 'The ways to sign in besides a password that this server offers (open to anyone: the sign-in page asks)',
        security: [],
        response: {
          200: z.object({
            wecom: z.boolean().describe('GET /api/v1/session/wecom works'),
            dingtalk: z.boolean().describe('GET /api/v1/session/dingtalk works'),
          }),
        },
      },
    },
    () => ({ wecom: opts.wecom !== undefined, dingtalk: opts.dingtalk !== undefined }),
  )

  app.get(
    '/session/:provider',
    {
      schema: {
        tags: ['users'],
        summary: 'Sign in with WeCom or DingTalk: redirects to the provider, which comes back to /api/v1/session/:provider/callback',
        description:
          'Open to anyone; a browser navigates here. WeCom: mode=app signs in inside the WeCom app (网页授权登录, snsapi_base), mode=qr a ' +
          "desktop browser by a QR code (企业微信Web登录); without mode, app when the user agent is the WeCom app's (wxwork), else qr. " +
          'DingTalk: one page for both (login.dingtalk.com/oauth2/auth, scope openid). Sets the ' +
          `${STATE_COOKIE} cookie for ${STATE_TTL_MS / 60_000} minutes. 404 sign_in_unavailable when the provider is not configured.`,
        security: [],
        params: providerParams,
        querystring: z.object({ mode: z.enum(['app', 'qr']).optional() }),
        response: { 302: z.null().describe('To the provider'), 303: refusal, ...errorResponses },
      },
    },
    async (req, reply) => {
      const id = req.params.provider
      const provider = configured(id)
      const state = await createSignInState(db, provider.id, settings.now(), STATE_TTL_MS)
      if (state === undefined) return refuse(req, reply, id, 'sign_in_busy')
      const mode = req.query.mode ?? (KINDS[id].inApp.test(req.headers['user-agent'] ?? '') ? 'app' : 'qr')
      const redirectUri = `${base}/api/v1/session/${id}/callback`
      reply.header('set-cookie', stateCookie(req, id, state, STATE_TTL_MS / 1000)).header('cache-control', 'no-store')
      return reply.redirect(provider.authorizeUrl({ redirectUri, state, mode }), 302)
    },
  )

  app.get(
    '/session/:provider/callback',
    {
      schema: {
        tags: ['users'],
        summary: 'Where WeCom or DingTalk sends the browser back: starts a session (the hb_session cookie) and redirects to the console',
        description:
          'Open to anyone; the provider redirects here with code and state. The state must be the one this browser was given (its cookie), ' +
          'unused and younger than 10 minutes; the WeCom userid or DingTalk unionId must be linked to an enabled user (PATCH ' +
          '/api/v1/users/:id with wecomUserId or dingtalkUnionId). Success: 303 to /console/?signIn=<provider>#/ with the same session ' +
          "as a password sign-in (GET /api/v1/me gives its csrf value). A refusal (but the provider's own failures) counts against the " +
          "address's failed-authentication budget.",
        security: [],
        params: providerParams,
        querystring: z.object({
          code: z.string().max(512).optional(),
          authCode: z.string().max(512).optional().describe("DingTalk's name for code (授权通过后返回authCode)"),
          state: z.string().max(128).optional(),
        }),
        response: { 303: z.null().describe('To the console, signed in, or to its sign-in page with signInError'), ...errorResponses },
      },
    },
    async (req, reply) => {
      const id = req.params.provider
      const provider = configured(id)
      // What a guesser could cause counts against the address; the provider being down or misconfigured does not.
      // Over the budget, authFailures throws rate_limited: the browser is still sent to the page that says so.
      const fail = async (code: string) => {
        const counted = code === `${id}_failed` || code === `${id}_config` ? undefined : app.authFailures?.(req)
        const over = await Promise.resolve(counted).then(
          () => false,
          (err: unknown) => err instanceof AppError && err.code === 'rate_limited',
        )
        return refuse(req, reply, id, over ? 'rate_limited' : code)
      }
      // An address over its budget is refused before the provider is asked, as a password sign-in is.
      if (app.authBlocked?.(req)) return fail('rate_limited')
      const { state } = req.query
      const code = req.query.code ?? req.query.authCode
      const bound = cookieOf(req.headers.cookie, STATE_COOKIE)
      // The state must come back to the browser it was given to (else a link made by someone else
      // would sign this browser in as them), and be used once.
      if (!state || !bound || !sameText(state, bound) || !(await takeSignInState(db, provider.id, state, settings.now()))) return fail('sign_in_state_invalid')
      if (!code) return fail(`${id}_code_invalid`)
      let theirId: string
      try {
        theirId = await provider.userOf(code)
      } catch (err) {
        if (err instanceof AppError) return fail(err.code)
        throw err
      }
      const user = await KINDS[id].userOf(db, theirId)
      if (!user) {
        req.log.info({ provider: id }, `a ${KINDS[id].name} account not linked to any user tried to sign in`)
        return fail(`${id}_not_linked`)
      }
      if (user.disabled) return fail('user_disabled')
      const { id: sessionId, cookie } = await createSession(db, user.id, settings.now(), settings.limits)
      req.log.info({ provider: id, userId: user.id, sessionId }, `signed in with ${KINDS[id].name}`)
      reply.header('set-cookie', [stateCookie(req, id, '', 0), cookieWith(req, `${SESSION_COOKIE}=${cookie}`, '/', Math.floor(settings.limits.maxAgeMs / 1000))])
      // The csrf value is not in a redirect: the console reads it from GET /me, as after a reload.
      // The explicit fragment: a browser keeps the authorize URL's #wechat_redirect over redirects without one.
      return reply.header('cache-control', 'no-store').redirect(`/console/?signIn=${id}#/`, 303)
    },
  )
}

export default signInProviders
