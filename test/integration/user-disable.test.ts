// An admin disables a user through the API (PATCH /api/v1/users/:id): the user's tokens are
// refused at once with a code saying why, and work again when the user is enabled; an admin
// cannot disable themselves, and nobody but an admin may do either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { Db } from '../../core/db/client.ts'
import { insertUser, issueToken, revokeTokens } from '../../core/repos/tokens.ts'
import { apiFor, embeddedDistrict } from '../helpers/api.ts'

let db: Db
let app: App
let admin: string
let tokenFor: Awaited<ReturnType<typeof apiFor>>['tokenFor']

beforeAll(async () => {
  const d = await embeddedDistrict()
  db = d.db
  const api = await apiFor(db, d.features)
  app = api.app
  admin = api.token
  tokenFor = api.tokenFor
})

afterAll(async () => {
  await app.close()
  await db.close()
})

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const patch = (id: string, token: string, payload: Record<string, unknown>) => app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: bearer(token), payload })
const me = (token: string) => app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) })

describe('disabling a user', () => {
  it("refuses a disabled user's tokens with user_disabled, and takes them back when enabled", async () => {
    const id = await insertUser(db, { name: 'desk-7', role: 'operator' })
    const first = await issueToken(db, id)
    const second = await issueToken(db, id)
    const revoked = await issueToken(db, id)
    const expired = await issueToken(db, id, { expiresAt: new Date(Date.now() - 1000) })
    await revokeTokens(db, { tokenId: revoked.id })
    expect((await me(first.token)).statusCode).toBe(200)

    const off = await patch(id, admin, { disabled: true })
    expect(off.statusCode).toBe(200)
    expect(off.json()).toMatchObject({ id, name: 'desk-7', disabled: true })
    for (const t of [first, second]) {
      const res = await me(t.token)
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'user_disabled', message: expect.stringMatching(/disabled/) as unknown })
    }
    // A revoked or expired token says only that it is not valid: the user's state is no business of its holder.
    for (const t of [revoked, expired]) expect((await me(t.token)).json()).toMatchObject({ code: 'unauthorized' })
    const listed = await app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(admin) })
    expect(listed.json<{ items: { id: string; disabled: boolean }[] }>().items.find((u) => u.id === id)).toMatchObject({ disabled: true })

    const on = await patch(id, admin, { disabled: false })
    expect(on.statusCode).toBe(200)
    expect(on.json()).toMatchObject({ id, disabled: false })
    for (const t of [first, second]) expect((await me(t.token)).statusCode).toBe(200)
    // Enabling does not bring back what was revoked or expired.
    for (const t of [revoked, expired]) expect((await me(t.token)).json()).toMatchObject({ code: 'unauthorized' })
  })

  it('refuses an admin disabling themselves with cannot_disable_self, and changes nothing', async () => {
    const self = (await me(admin)).json<{ id: string }>().id
    const res = await patch(self, admin, { disabled: true })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'cannot_disable_self' })
    expect((await me(admin)).statusCode).toBe(200)
    // Enabling oneself is harmless (and possible only while enabled).
    expect((await patch(self, admin, { disabled: false })).statusCode).toBe(200)
  })

  it('lets one admin disable another', async () => {
    const other = await tokenFor('admin')
    const otherId = (await me(other)).json<{ id: string }>().id
    expect((await patch(otherId, admin, { disabled: true })).statusCode).toBe(200)
    expect((await me(other)).json()).toMatchObject({ code: 'user_disabled' })
  })

  it.each(['operator', 'crew', 'service', 'resident'] as const)('refuses a %s with 403, and the target keeps working', async (role) => {
    const id = await insertUser(db, { name: `target-of-${role}`, role: 'operator' })
    const target = await issueToken(db, id)
    // Crew and residents belong somewhere (the district of embeddedDistrict).
    const caller = await insertUser(db, { name: `caller-${role}`, role, companyId: role === 'crew' ? 'co-a' : null, communityId: role === 'resident' ? 'cm-a' : null })
    const res = await patch(id, (await issueToken(db, caller)).token, { disabled: true })
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ code: 'forbidden' })
    expect((await me(target.token)).statusCode).toBe(200)
  })

  it('answers an unknown user with 404 and a body without `disabled` with 400', async () => {
    expect((await patch('nobody', admin, { disabled: true })).json()).toMatchObject({ code: 'not_found' })
    const bad = await patch(await insertUser(db, { name: 'bodyless', role: 'operator' }), admin, { disabled: 'yes' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ code: 'validation_failed' })
  })
})

describe("a token's last use", () => {
  it('is shown to the admin after the first request, and not rewritten by every request within a minute', async () => {
    const id = await insertUser(db, { name: 'desk-8', role: 'operator' })
    const token = await issueToken(db, id)
    const tokens = async () => (await app.inject({ method: 'GET', url: `/api/v1/users/${id}/tokens`, headers: bearer(admin) })).json<{ items: { id: string; lastUsedAt: string | null }[] }>().items
    expect((await tokens()).find((t) => t.id === token.id)?.lastUsedAt).toBeNull()
    expect((await me(token.token)).statusCode).toBe(200)
    const first = (await tokens()).find((t) => t.id === token.id)?.lastUsedAt
    expect(first).toEqual(expect.any(String))
    await new Promise((r) => setTimeout(r, 20))
    expect((await me(token.token)).statusCode).toBe(200)
    expect((await tokens()).find((t) => t.id === token.id)?.lastUsedAt).toBe(first)
    // A disabled user's request records nothing.
    await patch(id, admin, { disabled: true })
    await db.query(`UPDATE api_tokens SET last_used_at = NULL WHERE id = $1`, [token.id])
    expect((await me(token.token)).json()).toMatchObject({ code: 'user_disabled' })
    expect((await tokens()).find((t) => t.id === token.id)?.lastUsedAt).toBeNull()
  })
})
