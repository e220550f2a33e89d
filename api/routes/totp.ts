// One-time codes (TOTP, RFC 6238) as a second step of signing in (issue 20; core/second-factor.ts):
// setting them up from the account panel, turning them off with the password, and an admin's
// reset for a lost phone. The step at sign-in itself is POST /session/totp (routes/session.ts).
// The secret is in an answer once, at the start of the set-up; recovery codes once, at its end.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { checkPassword, PASSWORD_MAX } from '../../core/passwords.ts'
import { beginEnrolment, clearTotp, confirmTotp, ENROLMENT_TTL_MS } from '../../core/second-factor.ts'
import { totpEnabled } from '../../core/repos/totp.ts'
import { getUser, passwordHashOf } from '../../core/repos/tokens.ts'
import { TOTP_REQUIRED_ROLES, TOTP_ROLES } from '../../core/totp.ts'
import { principalOf, requireRole } from '../access.ts'
import { codeField, totpKeyOf } from '../second-factor.ts'
import { errorBody, errorResponses, keyParams, timestamp } from '../schemas.ts'

const totp: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  const settings = app.sessionSettings

  app.post(
    '/me/totp',
    {
      schema: {
        tags: ['users'],
        summary: 'Start setting up one-time codes: a new secret for an authenticator app (shown this once)',
        description:
          `Admins, operators and crew members. Add the secret to an authenticator app (scan the otpauth:// URI as a QR code, or type the secret), ` +
          `then confirm with POST /me/totp/confirm within ${ENROLMENT_TTL_MS / 60_000} minutes. Starting again replaces a set-up not yet confirmed.`,
        response: {
          200: z.object({
            secret: z.string().describe('Base32 (RFC 4648), for typing into the app; never shown again'),
            uri: z.string().describe('otpauth://totp/… (Key Uri Format) for a QR code'),
            expiresAt: timestamp.describe('Confirm before this'),
          }),
          409: errorBody,
          503: errorBody,
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req)
      if (!TOTP_ROLES.includes(p.role)) throw new AppError('totp_not_offered')
      if (await totpEnabled(db, p.userId)) throw new AppError('totp_already_on')
      const now = settings.now()
      const started = await beginEnrolment(db, totpKeyOf(app), { id: p.userId, name: p.name }, now)
      // A secret in the body: no cache along the way may keep it.
      reply.header('cache-control', 'no-store')
      return { ...started, expiresAt: new Date(now.getTime() + ENROLMENT_TTL_MS) }
    },
  )

  app.post(
    '/me/totp/confirm',
    {
      schema: {
        tags: ['users'],
        summary: 'Turn one-time codes on with a first code of the app; answers the ten recovery codes (shown this once)',
        description: 'A wrong code is 400 totp_code_wrong and counts against the address\'s failed-authentication budget.',
        body: z.object({ code: codeField }),
        response: {
          200: z.object({ recoveryCodes: z.array(z.string()).describe('Each works once in place of a code; stored only as hashes') }),
          409: errorBody,
          429: errorBody,
          503: errorBody,
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req)
      if (!TOTP_ROLES.includes(p.role)) throw new AppError('totp_not_offered')
      const outcome = await confirmTotp(db, totpKeyOf(app), p.userId, req.body.code.replace(/\s/g, ''), settings.now())
      if (!outcome.ok) {
        if (outcome.why === 'not_started') throw new AppError('totp_not_started')
        await app.authFailures?.(req)
        throw new AppError('totp_code_wrong')
      }
      reply.header('cache-control', 'no-store')
      return { recoveryCodes: outcome.recoveryCodes }
    },
  )

  app.delete(
    '/me/totp',
    {
      schema: {
        tags: ['users'],
        summary: 'Turn one-time codes off (the password is asked again); the recovery codes are deleted',
        description: 'A wrong password is 403 wrong_password and counts like a failed sign-in. Where TOTP_REQUIRED is on, admins and operators cannot (409 totp_required).',
        body: z.object({ password: z.string().min(1).max(PASSWORD_MAX * 4) }),
        response: { 204: z.null(), 409: errorBody, 429: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = principalOf(req)
      if (!(await checkPassword(req.body.password, await passwordHashOf(db, p.userId)))) {
        await app.authFailures?.(req)
        throw new AppError('wrong_password', 'The password is wrong')
      }
      if (settings.totpRequired && TOTP_REQUIRED_ROLES.includes(p.role)) throw new AppError('totp_required')
      await clearTotp(db, p.userId)
      return reply.code(204).send(null)
    },
  )

  app.delete(
    '/users/:id/totp',
    {
      schema: {
        tags: ['users'],
        summary: "Reset a user's one-time codes (a lost phone): off, recovery codes deleted; they sign in with the password alone and may set them up again",
        params: keyParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin')
      const u = await getUser(db, req.params.id)
      if (!u) throw new AppError('not_found', `No user ${req.params.id}`)
      await clearTotp(db, u.id)
      return reply.code(204).send(null)
    },
  )
}

export default totp
