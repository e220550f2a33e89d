// Users and their API tokens (admin). Tokens are shown once, stored hashed, revocable, with an
// optional expiry. Anyone may see who they are and revoke their own token. An admin may give a
// user a one-time password (signing in: api/routes/session.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../core/db/client.ts'
import { AppError } from '../../core/errors.ts'
import { getStreet } from '../../core/repos/streets.ts'
import { getCommunity, getCompany } from '../../core/repos/registry.ts'
import { ROLES, type Role } from '../../shared/domain.ts'
import { resetPassword } from '../../core/passwords.ts'
import { DINGTALK_UNION_ID } from '../../core/sso/dingtalk.ts'
import { WECOM_USERID } from '../../core/sso/wecom.ts'
import { findUserByName, getToken, getUser, insertUser, issueToken, listTokens, listUsers, revokeTokens, setDingtalkUnionId, setUserDisabled, setWecomUserId } from '../../core/repos/tokens.ts'
import { principalOf, requireRole } from '../access.ts'
import { mustEnrol } from '../plugins/auth.ts'
import { TOTP_ROLES } from '../../core/totp.ts'
import { duration, errorBody, errorResponses, keyParams, timestamp } from '../schemas.ts'

const user = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  companyId: z.string().nullable(),
  communityId: z.string().nullable(),
  streetId: z.string().nullable().describe('Street officers: the street (街道/镇) they oversee'),
  createdAt: timestamp,
  disabled: z.boolean().describe("A disabled user's tokens are refused (401 user_disabled) until an admin enables them"),
  totpEnabled: z.boolean().describe('Signing in with the password asks for a one-time code too (an admin resets it with DELETE /users/:id/totp)'),
  wecomUserId: z.string().nullable().describe('The WeCom (企业微信) userid that signs in as this user (GET /api/v1/session/wecom); null = none'),
  dingtalkUnionId: z.string().nullable().describe('The DingTalk (钉钉) unionId that signs in as this user (GET /api/v1/session/dingtalk); null = none'),
})
const dingtalkUnionId = z.string().trim().regex(DINGTALK_UNION_ID, 'expected a DingTalk unionId: up to 64 letters, digits or _ - + / = .')
const wecomUserId = z.string().trim().regex(WECOM_USERID, 'expected a WeCom userid (账号): up to 64 letters, digits, _ - . @ or /')
const tokenInfo = z.object({
  id: z.string(),
  label: z.string().nullable(),
  createdAt: timestamp,
  expiresAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
  lastUsedAt: timestamp.nullable(),
})
const issued = z.object({ id: z.string(), token: z.string().describe('Shown this once; stored only as a hash'), expiresAt: timestamp.nullable() })
const tokenBody = z.object({ label: z.string().trim().min(1).max(120).optional(), expiresIn: duration.optional().describe('e.g. 90d; default never') })

/** A crew member belongs to a company, a resident to a community, a street officer to a street, nobody else to any. */
async function checkBinding(db: Db, role: Role, companyId: string | undefined, communityId: string | undefined, streetId: string | undefined): Promise<void> {
  if (role === 'street_officer' && !streetId) throw new AppError('validation_failed', 'body.streetId: a street officer needs the street they oversee')
  if (role !== 'street_officer' && streetId) throw new AppError('validation_failed', `body.streetId: only street officers belong to a street, not a ${role}`)
  if (streetId && !(await getStreet(db, streetId))) throw new AppError('validation_failed', `body.streetId: no street "${streetId}"`)
  if (role === 'crew' && !companyId) throw new AppError('validation_failed', 'body.companyId: a crew member needs the company they work for')
  if (role !== 'crew' && companyId) throw new AppError('validation_failed', `body.companyId: only crew members belong to a company, not a ${role}`)
  if (role === 'resident' && !communityId) throw new AppError('validation_failed', 'body.communityId: a resident needs the community they live in')
  if (role !== 'resident' && communityId) throw new AppError('validation_failed', `body.communityId: only residents belong to a community, not a ${role}`)
  if (companyId && !(await getCompany(db, companyId))) throw new AppError('validation_failed', `body.companyId: no company "${companyId}"`)
  if (communityId && !(await getCommunity(db, communityId))) throw new AppError('validation_failed', `body.communityId: no community "${communityId}"`)
}

const users: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  const mustGetUser = async (id: string) => {
    const u = await getUser(db, id)
    if (!u) throw new AppError('not_found', `No user ${id}`)
    return u
  }

  app.get(
    '/me',
    {
      schema: {
        tags: ['users'],
        summary: 'Who the token or session belongs to',
        response: {
          200: user.extend({
            tokenId: z.string().describe('The token\'s id; `session:<id>` when signed in with a password'),
            signedInWith: z.enum(['token', 'session']),
            csrf: z.string().optional().describe('Signed in with a password: send as x-hb-csrf with POST, PUT, PATCH and DELETE'),
            mustChangePassword: z.boolean().describe('Only GET /me, PUT /me/password and DELETE /session work until the password is changed'),
            totp: z.object({
              offered: z.boolean().describe('The role may set up one-time codes (POST /me/totp)'),
              enabled: z.boolean().describe('Signing in with the password asks for a one-time code too'),
              mustEnrol: z.boolean().describe('TOTP_REQUIRED: this session can only set them up (POST /me/totp) until it is done'),
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = principalOf(req)
      const u = await getUser(db, p.userId)
      if (!u) throw new AppError('unauthorized')
      // The auth hook sets req.csrf for a request made with the session cookie only.
      return {
        ...u,
        tokenId: p.tokenId,
        signedInWith: req.csrf === null ? ('token' as const) : ('session' as const),
        ...(req.csrf === null ? {} : { csrf: req.csrf }),
        mustChangePassword: p.mustChangePassword ?? false,
        totp: { offered: TOTP_ROLES.includes(u.role), enabled: u.totpEnabled, mustEnrol: mustEnrol(p, app.sessionSettings) },
      }
    },
  )

  app.get(
    '/users',
    { schema: { tags: ['users'], summary: 'All users', response: { 200: z.object({ items: z.array(user) }), ...errorResponses } } },
    async (req) => {
      requireRole(req, 'admin')
      return { items: await listUsers(db) }
    },
  )

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user and their first token (shown once)',
        body: tokenBody.extend({
          name: z.string().trim().min(1).max(80),
          role: z.enum(ROLES),
          companyId: z.string().optional().describe('Crew members: the company they work for'),
          communityId: z.string().optional().describe('Residents: the community they live in'),
          streetId: z.string().optional().describe('Street officers: the street (街道/镇) they oversee'),
        }),
        response: { 201: z.object({ user, token: issued }), 409: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin')
      const b = req.body
      if (await findUserByName(db, b.name)) throw new AppError('conflict', `A user "${b.name}" exists`)
      await checkBinding(db, b.role, b.companyId, b.communityId, b.streetId)
      const result = await db.transaction(async (tx) => {
        const id = await insertUser(tx, { name: b.name, role: b.role, companyId: b.companyId ?? null, communityId: b.communityId ?? null, streetId: b.streetId ?? null })
        const token = await issueToken(tx, id, { label: b.label ?? 'first token', expiresAt: b.expiresIn ? new Date(Date.now() + b.expiresIn) : null })
        return { id, token }
      })
      return reply.code(201).send({ user: await mustGetUser(result.id), token: result.token })
    },
  )

  const userParams = keyParams

  app.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: "Disable or enable a user, or link their WeCom or DingTalk account: a disabled user's tokens stop working at once; enabling makes the unexpired, unrevoked ones work again",
        description: 'wecomUserId links the WeCom userid (通讯录 账号) that may sign in as this user, null unlinks it; a userid linked to another user is 409. dingtalkUnionId does the same for the DingTalk unionId.',
        params: userParams,
        body: z
          .object({ disabled: z.boolean().optional(), wecomUserId: wecomUserId.nullable().optional(), dingtalkUnionId: dingtalkUnionId.nullable().optional() })
          .strict()
          .refine((b) => b.disabled !== undefined || b.wecomUserId !== undefined || b.dingtalkUnionId !== undefined, 'give disabled, wecomUserId or dingtalkUnionId'),
        response: { 200: user, 409: errorBody, ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin')
      const u = await mustGetUser(req.params.id)
      // An admin who disabled themselves could lock the district out of its own users.
      if (req.body.disabled && u.id === p.userId) throw new AppError('cannot_disable_self')
      const { disabled, wecomUserId: linked, dingtalkUnionId: unionId } = req.body
      // A link held by another user is a unique violation, said as a conflict of that field.
      const link = async (field: string, value: string, set: () => Promise<unknown>) => {
        try {
          await set()
        } catch (err) {
          if ((err as { code?: string }).code === '23505') throw new AppError('conflict', `body.${field}: "${value}" is linked to another user already`)
          throw err
        }
      }
      if (linked !== undefined) await link('wecomUserId', String(linked), () => setWecomUserId(db, u.id, linked))
      if (unionId !== undefined) await link('dingtalkUnionId', String(unionId), () => setDingtalkUnionId(db, u.id, unionId))
      if (disabled !== undefined) await setUserDisabled(db, u.id, disabled)
      // Open alert streams of this user end now, not at their next recheck.
      if (disabled) app.revocations.emit('revoked', { userId: u.id })
      return mustGetUser(u.id)
    },
  )

  app.get(
    '/users/:id/tokens',
    { schema: { tags: ['users'], summary: "A user's tokens (never the tokens themselves)", params: userParams, response: { 200: z.object({ items: z.array(tokenInfo) }), ...errorResponses } } },
    async (req) => {
      requireRole(req, 'admin')
      return { items: await listTokens(db, (await mustGetUser(req.params.id)).id) }
    },
  )

  app.post(
    '/users/:id/tokens',
    { schema: { tags: ['users'], summary: 'Issue another token for a user (shown once)', params: userParams, body: tokenBody, response: { 201: issued, ...errorResponses } } },
    async (req, reply) => {
      requireRole(req, 'admin')
      const u = await mustGetUser(req.params.id)
      const expiresAt = req.body.expiresIn ? new Date(Date.now() + req.body.expiresIn) : null
      return reply.code(201).send(await issueToken(db, u.id, { ...(req.body.label ? { label: req.body.label } : {}), expiresAt }))
    },
  )

  app.post(
    '/users/:id/password',
    {
      schema: {
        tags: ['users'],
        summary: 'Give a user a one-time password (shown once): they must change it at their next sign-in; their sessions end',
        params: userParams,
        response: { 200: z.object({ password: z.string().describe('Shown this once; stored only as a hash'), mustChangePassword: z.literal(true) }), ...errorResponses },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin')
      const u = await mustGetUser(req.params.id)
      const { password, endedSessions } = await resetPassword(db, u.id)
      for (const id of endedSessions) app.revocations.emit('revoked', { tokenId: `session:${id}` })
      // A password in the body: no cache along the way may keep it.
      reply.header('cache-control', 'no-store')
      return { password, mustChangePassword: true as const }
    },
  )

  app.delete(
    '/tokens/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Revoke a token (an admin any, everyone their own); it stops working at once',
        params: keyParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = principalOf(req)
      const t = await getToken(db, req.params.id)
      if (!t || (p.role !== 'admin' && t.userId !== p.userId)) throw new AppError('not_found', `No token ${req.params.id}`)
      await revokeTokens(db, { tokenId: t.id })
      app.revocations.emit('revoked', { tokenId: t.id })
      return reply.code(204).send(null)
    },
  )
}

export default users
