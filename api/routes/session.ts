// Signing in with a user name and password (issue 20): a session cookie for the console, signing
// out here or everywhere, and changing one's own password. The cookie and CSRF checks are in
// api/plugins/auth.ts; the rules of a password and its hash in core/passwords.ts. A user with
// one-time codes on gets a ticket for the password instead of a session, and the session for the
// ticket and a code (POST /session/totp; the set-up is routes/totp.ts).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { checkPassword, hashPassword, PASSWORD_MAX, passwordProblem } from '../../core/passwords.ts'
import { createSession, csrfOf, endSessions } from '../../core/repos/sessions.ts'
import { getUser, passwordHashOf, passwordOf, setPasswordHash } from '../../core/repos/tokens.ts'
import { consumeTicket, issueTicket, ticketFailed, ticketUser, totpEnabled } from '../../core/repos/totp.ts'
import { checkSecondFactor } from '../../core/second-factor.ts'
import { codeField, totpKeyOf } from '../second-factor.ts'
import { principalOf } from '../access.ts'
import { cookieWith, SESSION_COOKIE } from '../plugins/auth.ts'
import { errorBody, errorResponses, timestamp } from '../schemas.ts'

const sessionCookie = (req: FastifyRequest, value: string, maxAgeS: number) => cookieWith(req, `${SESSION_COOKIE}=${value}`, '/', maxAgeS)

const clearCookie = (req: FastifyRequest, reply: FastifyReply) => reply.header('set-cookie', sessionCookie(req, '', 0))

// Long enough for any passphrase; the check itself reads at most PASSWORD_MAX characters.
const password = z.string().min(1).max(PASSWORD_MAX * 4)

/** How long the code may take after the password, and how many wrong codes one ticket allows. */
const TICKET_TTL_MS = 5 * 60_000
const TICKET_MAX_FAILURES = 5

const signedIn = z.object({ csrf: z.string().describe('Send as x-hb-csrf with POST, PUT, PATCH and DELETE'), mustChangePassword: z.boolean() })

const session: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  const settings = app.sessionSettings
  const ended = (ids: string[]) => {
    for (const id of ids) app.revocations.emit('revoked', { tokenId: `session:${id}` })
  }

  app.post(
    '/session',
    {
      schema: {
        tags: ['users'],
        summary: 'Sign in with a user name and password: sets the hb_session cookie (HttpOnly, SameSite=Lax)',
        description:
          'Open to anyone. A wrong name or password is 401 sign_in_failed and counts against the address\'s failed-authentication budget ' +
          '(RATE_LIMIT_AUTH_FAILURES_PER_MINUTE; 429 beyond it, even for a right password). Requests made with the cookie that change ' +
          'something must send the returned csrf value in the x-hb-csrf header. With mustChangePassword, only GET /me, PUT /me/password ' +
          'and DELETE /session work until the password is changed. A user with one-time codes on gets 202 with a ticket and no cookie: ' +
          'POST /session/totp with it and a code within 5 minutes.',
        security: [],
        body: z.object({ name: z.string().trim().min(1).max(80), password }),
        response: {
          200: signedIn,
          202: z.object({
            totpRequired: z.literal(true),
            ticket: z.string().describe('For POST /session/totp: single use, for this user, 5 minutes'),
            expiresAt: timestamp,
          }),
          429: errorBody,
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      // An address over its failure budget is refused before the check (429, counted again):
      // otherwise a guesser would still learn which guess was right.
      if (app.authBlocked?.(req)) await app.authFailures?.(req)
      const user = await passwordOf(db, req.body.name)
      // An unknown name costs the same scrypt work as a wrong password (core/passwords.ts).
      const right = await checkPassword(req.body.password, user?.passwordHash)
      if (!user || !right) {
        await app.authFailures?.(req)
        throw new AppError('sign_in_failed')
      }
      // Told only to whoever knows the password, so a guesser learns nothing from it.
      if (user.disabled) throw new AppError('user_disabled', 'This user is disabled; an admin can enable them again')
      if (await totpEnabled(db, user.id)) {
        const now = settings.now()
        const expiresAt = new Date(now.getTime() + TICKET_TTL_MS)
        const ticket = await issueTicket(db, user.id, now, expiresAt)
        return reply.code(202).header('cache-control', 'no-store').send({ totpRequired: true as const, ticket, expiresAt })
      }
      return startSession(req, reply, user.id, user.mustChangePassword)
    },
  )

  /** Sets the cookie of a new session of `userId`; the answer of a completed sign-in. */
  async function startSession(req: FastifyRequest, reply: FastifyReply, userId: string, mustChangePassword: boolean) {
    const { cookie } = await createSession(db, userId, settings.now(), settings.limits)
    reply.header('set-cookie', sessionCookie(req, cookie, Math.floor(settings.limits.maxAgeMs / 1000))).header('cache-control', 'no-store')
    return { csrf: csrfOf(cookie), mustChangePassword }
  }

  app.post(
    '/session/totp',
    {
      schema: {
        tags: ['users'],
        summary: 'Sign in, second step: the ticket of POST /session and a one-time code (or a recovery code) set the hb_session cookie',
        description:
          'Open to anyone with a ticket. A wrong or reused code is 401 totp_failed and counts against the address\'s failed-authentication budget ' +
          `(429 beyond it); after ${TICKET_MAX_FAILURES} wrong codes, or 5 minutes, the ticket is gone (401 totp_ticket_invalid) and the password is asked again. ` +
          'Each code of the app works once; each recovery code once.',
        security: [],
        body: z.object({ ticket: z.string().min(1).max(100), code: codeField }),
        response: { 200: signedIn, 429: errorBody, 503: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      // As the password: an address over its budget is refused before the check.
      if (app.authBlocked?.(req)) await app.authFailures?.(req)
      const now = settings.now()
      const userId = await ticketUser(db, req.body.ticket, now)
      if (!userId) {
        await app.authFailures?.(req)
        throw new AppError('totp_ticket_invalid')
      }
      const user = await getUser(db, userId)
      if (!user || user.disabled) throw new AppError('user_disabled', 'This user is disabled; an admin can enable them again')
      // The audit log names who this attempt was for, refused or not (api/plugins/audit.ts).
      req.principal = { userId, name: user.name, role: user.role, companyId: user.companyId, communityId: user.communityId, tokenId: 'sign-in' }
      const used = await checkSecondFactor(db, totpKeyOf(app), userId, req.body.code, now)
      if (!used) {
        await ticketFailed(db, req.body.ticket, TICKET_MAX_FAILURES)
        await app.authFailures?.(req)
        throw new AppError('totp_failed')
      }
      // Single use: of two requests with the same ticket, one signs in.
      if (!(await consumeTicket(db, req.body.ticket))) throw new AppError('totp_ticket_invalid')
      const mustChange = (await passwordOf(db, user.name))?.mustChangePassword ?? false
      return startSession(req, reply, userId, mustChange)
    },
  )

  app.delete(
    '/session',
    { schema: { tags: ['users'], summary: 'Sign out: ends the session of the cookie and clears it', response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      const p = principalOf(req)
      if (p.sessionId) ended(await endSessions(db, { sessionId: p.sessionId }))
      return clearCookie(req, reply).code(204).send(null)
    },
  )

  app.delete(
    '/sessions',
    {
      schema: {
        tags: ['users'],
        summary: "Sign out everywhere: ends every session of the caller (API tokens are not touched; revoke them with DELETE /tokens/:id)",
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = principalOf(req)
      ended(await endSessions(db, { userId: p.userId }))
      if (p.sessionId) clearCookie(req, reply)
      return reply.code(204).send(null)
    },
  )

  app.put(
    '/me/password',
    {
      schema: {
        tags: ['users'],
        summary: "Change one's own password: ends one's other sessions and clears mustChangePassword",
        description: 'A wrong current password is 403 wrong_password and counts like a failed sign-in. The rules of a new one are in the 400 message.',
        body: z.object({ current: password, next: password }),
        response: { 204: z.null(), 429: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = principalOf(req)
      if (!(await checkPassword(req.body.current, await passwordHashOf(db, p.userId)))) {
        await app.authFailures?.(req)
        throw new AppError('wrong_password')
      }
      const problem = passwordProblem(p.name, req.body.next)
      if (problem) throw new AppError('weak_password', problem)
      if (req.body.next === req.body.current) throw new AppError('password_unchanged')
      await setPasswordHash(db, p.userId, await hashPassword(req.body.next), false)
      ended(await endSessions(db, { userId: p.userId, except: p.sessionId }))
      return reply.code(204).send(null)
    },
  )
}

export default session
