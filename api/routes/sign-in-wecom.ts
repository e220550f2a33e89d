// Signing in with WeCom (企业微信, issue 20): the console sends the browser to GET /session/wecom,
// which sends it on to WeCom with a fresh state (stored hashed, core/repos/sign-in-states.ts, and
// bound to this browser by a short-lived cookie); WeCom sends it back to the callback with a
// one-time code, exchanged for the person's WeCom userid (core/sso/wecom.ts). A userid an admin
// linked to an enabled user starts the same session as a password sign-in; any refusal sends the
// browser to the console's sign-in page with the error's code, said there in its language.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { createSession } from '../../core/repos/sessions.ts'
import { createSignInState, takeSignInState } from '../../core/repos/sign-in-states.ts'
import { userOfWecomId } from '../../core/repos/tokens.ts'
import type { SignInProvider } from '../../core/sso/provider.ts'
import { cookieOf, cookieWith, sameText, SESSION_COOKIE } from '../plugins/auth.ts'
import { errorResponses } from '../schemas.ts'

export interface SignInOptions {
  /** Set when WECOM_CORP_ID, WECOM_AGENT_ID and WECOM_SECRET are. */
  wecom?: SignInProvider | undefined
  /** This API as browsers reach it (SIGN_IN_BASE_URL, else NOTIFY_LINK_BASE_URL): the redirect URI's origin. */
  baseUrl: string
}

const STATE_COOKIE = 'hb_signin_state'
/** How long a sign-in may take between leaving for WeCom and coming back (a QR code scanned, a consent). */
export const STATE_TTL_MS = 10 * 60_000
const CALLBACK = '/api/v1/session/wecom/callback'
/** The WeCom app on a phone or desktop says so in its user agent ("wxwork/4.1.x"). */
const IN_WECOM_APP = /\bwxwork\b/i

const refusal = z.null().describe('Redirects to /console/?signInError=<code>: the console says why in the page\'s language')

function stateCookie(req: FastifyRequest, value: string, maxAgeS: number): string {
  // Path: only the callback needs it back. SameSite=Lax: WeCom's redirect is a top-level navigation.
  return cookieWith(req, `${STATE_COOKIE}=${value}`, '/api/v1/session/wecom', maxAgeS)
}

const signInWecom: FastifyPluginAsyncZod<SignInOptions> = async (app, opts) => {
  const { db } = app.deps
  const settings = app.sessionSettings
  const provider = opts.wecom
  const redirectUri = `${opts.baseUrl.replace(/\/+$/, '')}${CALLBACK}`
  const configured = (): SignInProvider => {
    if (!provider) throw new AppError('sign_in_unavailable')
    return provider
  }
  /** To the console's sign-in page, saying why (the state cookie cleared; the fragment as below). */
  const refuse = (req: FastifyRequest, reply: FastifyReply, code: string) =>
    reply.header('set-cookie', stateCookie(req, '', 0)).header('cache-control', 'no-store').redirect(`/console/?signInError=${encodeURIComponent(code)}#/`, 303)

  app.get(
    '/session/providers',
    {
      schema: {
        tags: ['users'],
        summary: 'The ways to sign in besides a password that this server offers (open to anyone: the sign-in page asks)',
        security: [],
        response: { 200: z.object({ wecom: z.boolean().describe('GET /api/v1/session/wecom works') }) },
      },
    },
    () => ({ wecom: provider !== undefined }),
  )

  app.get(
    '/session/wecom',
    {
      schema: {
        tags: ['users'],
        summary: 'Sign in with WeCom: redirects to WeCom, which comes back to /api/v1/session/wecom/callback',
        description:
          'Open to anyone; a browser navigates here. mode=app signs in inside the WeCom app (网页授权登录, snsapi_base), mode=qr a desktop ' +
          "browser by a QR code (企业微信Web登录); without mode, app when the user agent is the WeCom app's (wxwork), else qr. Sets the " +
          `${STATE_COOKIE} cookie for ${STATE_TTL_MS / 60_000} minutes. 404 sign_in_unavailable when WeCom is not configured.`,
        security: [],
        querystring: z.object({ mode: z.enum(['app', 'qr']).optional() }),
        response: { 302: z.null().describe('To WeCom'), 303: refusal, ...errorResponses },
      },
    },
    async (req, reply) => {
      const wecom = configured()
      const state = await createSignInState(db, wecom.id, settings.now(), STATE_TTL_MS)
      if (state === undefined) return refuse(req, reply, 'sign_in_busy')
      const mode = req.query.mode ?? (IN_WECOM_APP.test(req.headers['user-agent'] ?? '') ? 'app' : 'qr')
      reply.header('set-cookie', stateCookie(req, state, STATE_TTL_MS / 1000)).header('cache-control', 'no-store')
      return reply.redirect(wecom.authorizeUrl({ redirectUri, state, mode }), 302)
    },
  )

  app.get(
    '/session/wecom/callback',
    {
      schema: {
        tags: ['users'],
        summary: 'Where WeCom sends the browser back: starts a session (the hb_session cookie) and redirects to the console',
        description:
          'Open to anyone; WeCom redirects here with code and state. The state must be the one this browser was given (its cookie), ' +
          'unused and younger than 10 minutes; the WeCom userid must be linked to an enabled user (PATCH /api/v1/users/:id with ' +
          'wecomUserId). Success: 303 to /console/?signIn=wecom#/ with the same session as a password sign-in (GET /api/v1/me gives its ' +
          'csrf value). A refusal (but WeCom\'s own failures) counts against the address\'s failed-authentication budget.',
        security: [],
        querystring: z.object({ code: z.string().max(512).optional(), state: z.string().max(128).optional() }),
        response: { 303: z.null().describe('To the console, signed in, or to its sign-in page with signInError'), ...errorResponses },
      },
    },
    async (req, reply) => {
      const wecom = configured()
      // What a guesser could cause counts against the address; WeCom being down or misconfigured does not.
      // Over the budget, authFailures throws rate_limited: the browser is still sent to the page that says so.
      const fail = async (code: string) => {
        const counted = code === 'wecom_failed' || code === 'wecom_config' ? undefined : app.authFailures?.(req)
        const over = await Promise.resolve(counted).then(
          () => false,
          (err: unknown) => err instanceof AppError && err.code === 'rate_limited',
        )
        return refuse(req, reply, over ? 'rate_limited' : code)
      }
      // An address over its budget is refused before WeCom is asked, as a password sign-in is.
      if (app.authBlocked?.(req)) return fail('rate_limited')
      const { code, state } = req.query
      const bound = cookieOf(req.headers.cookie, STATE_COOKIE)
      // The state must come back to the browser it was given to (else a link made by someone else
      // would sign this browser in as them), and be used once.
      if (!state || !bound || !sameText(state, bound) || !(await takeSignInState(db, wecom.id, state, settings.now()))) return fail('sign_in_state_invalid')
      if (!code) return fail('wecom_code_invalid')
      let userId: string
      try {
        userId = await wecom.userOf(code)
      } catch (err) {
        if (err instanceof AppError) return fail(err.code)
        throw err
      }
      const user = await userOfWecomId(db, userId)
      if (!user) {
        req.log.info({ provider: wecom.id }, 'a WeCom account not linked to any user tried to sign in')
        return fail('wecom_not_linked')
      }
      if (user.disabled) return fail('user_disabled')
      const { id, cookie } = await createSession(db, user.id, settings.now(), settings.limits)
      req.log.info({ provider: wecom.id, userId: user.id, sessionId: id }, 'signed in with WeCom')
      reply.header('set-cookie', [stateCookie(req, '', 0), cookieWith(req, `${SESSION_COOKIE}=${cookie}`, '/', Math.floor(settings.limits.maxAgeMs / 1000))])
      // The csrf value is not in a redirect: the console reads it from GET /me, as after a reload.
      // The explicit fragment: a browser keeps the authorize URL's #wechat_redirect over redirects without one.
      return reply.header('cache-control', 'no-store').redirect('/console/?signIn=wecom#/', 303)
    },
  )
}

export default signInWecom
