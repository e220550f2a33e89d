// Signing in like a person (issue 20): a user name and password give a session cookie; what a
// user and an admin notice of it, on the real API and PostgreSQL, with the sessions' clock moved.
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { Db } from '../../core/db/client.ts'
import { PASSWORD_RULES } from '../../core/passwords.ts'
import { ensureAdminPassword } from '../../core/provision.ts'
import { insertUser } from '../../core/repos/tokens.ts'
import { apiOnPostgres } from '../helpers/api.ts'
import { hasPostgres } from '../helpers/services.ts'

const pgUp = await hasPostgres()
// Above what the other tests' ended sessions and wrong passwords add up to from their addresses.
const FAILURES_PER_MINUTE = 20

describe.skipIf(!pgUp)('signing in with a password (issue 20)', () => {
  let api: Awaited<ReturnType<typeof apiOnPostgres>>
  let app: App
  let db: Db
  let now = new Date('2026-12-01T08:00:00Z')
  const admin = () => ({ authorization: `Bearer ${api.token}` })
  let seq = 0
  /** A different client address per test, so the failure budget of one is not another's. */
  const address = () => `10.0.0.${++seq}`

  beforeAll(async () => {
    api = await apiOnPostgres({ authFailuresPerMinute: FAILURES_PER_MINUTE, trustProxy: true, sessions: { now: () => now } })
    app = api.app
    db = api.db
  })
  afterAll(async () => api.close())

  /** A crew member of co-test with a one-time password from an admin; returns their id and that password. */
  async function crewMember(name: string): Promise<{ id: string; password: string }> {
    const created = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin(), payload: { name, role: 'crew', companyId: 'co-test' } })
    expect(created.statusCode).toBe(201)
    const id = created.json<{ user: { id: string } }>().user.id
    const reset = await app.inject({ method: 'POST', url: `/api/v1/users/${id}/password`, headers: admin() })
    expect(reset.statusCode).toBe(200)
    expect(reset.headers['cache-control']).toBe('no-store')
    return { id, password: reset.json<{ password: string }>().password }
  }

  async function signIn(name: string, password: string, headers: Record<string, string> = {}, remoteAddress = '10.9.9.9') {
    const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { name, password }, headers, remoteAddress })
    const setCookie = String(res.headers['set-cookie'] ?? '')
    const cookie = /^hb_session=([^;]+)/.exec(setCookie)?.[1]
    return { res, setCookie, cookie: `hb_session=${cookie ?? ''}`, csrf: res.statusCode === 200 ? res.json<{ csrf: string }>().csrf : '' }
  }

  /** Signs in with the one-time password and changes it to `next`; the session's cookie and CSRF value. */
  async function ready(name: string, next = 'Harbour-lights-7') {
    const { password } = await crewMember(name)
    const s = await signIn(name, password)
    const changed = await app.inject({ method: 'PUT', url: '/api/v1/me/password', headers: { cookie: s.cookie, 'x-hb-csrf': s.csrf }, payload: { current: password, next } })
    expect(changed.statusCode).toBe(204)
    return s
  }

  it('a sign-in sets an HttpOnly, SameSite=Lax cookie (Secure over HTTPS through a trusted proxy) that /me and the alerts answer to', async () => {
    const { password } = await crewMember('wang')
    const plain = await signIn('wang', password)
    expect(plain.res.statusCode).toBe(200)
    expect(plain.setCookie).toMatch(/^hb_session=[A-Za-z0-9_-]{43}; /)
    expect(plain.setCookie).toContain('HttpOnly')
    expect(plain.setCookie).toContain('SameSite=Lax')
    expect(plain.setCookie).toContain('Path=/')
    expect(plain.setCookie).not.toContain('Secure')
    const body = plain.res.json<{ csrf: string; mustChangePassword: boolean }>()
    expect(body.mustChangePassword).toBe(true)

    const https = await signIn('wang', password, { 'x-forwarded-proto': 'https' })
    expect(https.setCookie).toContain('; Secure')

    const me = await app.inject({ url: '/api/v1/me', headers: { cookie: plain.cookie } })
    expect(me.statusCode).toBe(200)
    expect(me.json()).toMatchObject({ name: 'wang', role: 'crew', signedInWith: 'session', csrf: body.csrf, mustChangePassword: true })
    // Only the cookie's hash is stored.
    const stored = (await db.query<{ t: string }>('SELECT sessions::text AS t FROM sessions')).map((r) => r.t).join('\n')
    expect(stored).toContain(createHash('sha256').update(plain.cookie.slice('hb_session='.length)).digest('hex'))
    expect(stored).not.toContain(plain.cookie.slice('hb_session='.length))
  })

  it('a change made with the cookie needs x-hb-csrf; a bearer token does not', async () => {
    const s = await ready('chen')
    const comment = (headers: Record<string, string>) => app.inject({ method: 'DELETE', url: '/api/v1/sessions', headers })
    const missing = await app.inject({ method: 'PUT', url: '/api/v1/me/password', headers: { cookie: s.cookie }, payload: { current: 'x', next: 'y' } })
    expect(missing.statusCode).toBe(403)
    expect(missing.json()).toMatchObject({ code: 'csrf' })
    expect(missing.json<{ message: string }>().message).toContain('x-hb-csrf')
    expect((await comment({ cookie: s.cookie, 'x-hb-csrf': 'not-it' })).json()).toMatchObject({ code: 'csrf' })
    // A GET needs none.
    expect((await app.inject({ url: '/api/v1/alerts', headers: { cookie: s.cookie } })).statusCode).toBe(200)
    expect((await comment({ cookie: s.cookie, 'x-hb-csrf': s.csrf })).statusCode).toBe(204)
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/sessions', headers: admin() })).statusCode).toBe(204)
  })

  it('signing out ends the session; signing out everywhere ends them all', async () => {
    const first = await ready('zhao')
    const second = await signIn('zhao', 'Harbour-lights-7')
    const third = await signIn('zhao', 'Harbour-lights-7')
    const me = (s: { cookie: string }) => app.inject({ url: '/api/v1/me', headers: { cookie: s.cookie } })
    const out = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: second.cookie, 'x-hb-csrf': second.csrf } })
    expect(out.statusCode).toBe(204)
    expect(String(out.headers['set-cookie'])).toMatch(/^hb_session=; .*Max-Age=0/)
    expect((await me(second)).statusCode).toBe(401)
    expect((await me(second)).json()).toMatchObject({ code: 'session_ended' })
    expect((await me(first)).statusCode).toBe(200)
    const everywhere = await app.inject({ method: 'DELETE', url: '/api/v1/sessions', headers: { cookie: third.cookie, 'x-hb-csrf': third.csrf } })
    expect(everywhere.statusCode).toBe(204)
    expect((await me(first)).statusCode).toBe(401)
    expect((await me(third)).statusCode).toBe(401)
  })

  it('a session ends after 30 minutes idle, and after 12 hours however busy', async () => {
    const s = await ready('sun')
    const me = () => app.inject({ url: '/api/v1/me', headers: { cookie: s.cookie } })
    const start = now
    try {
      // Used every 20 minutes: alive for 12 hours, not a minute more.
      for (let m = 20; m < 12 * 60; m += 20) {
        now = new Date(start.getTime() + m * 60_000)
        expect((await me()).statusCode, `after ${m} min`).toBe(200)
      }
      now = new Date(start.getTime() + 12 * 3_600_000 + 1000)
      expect((await me()).statusCode).toBe(401)

      now = start
      const idle = await signIn('sun', 'Harbour-lights-7')
      now = new Date(start.getTime() + 29 * 60_000)
      expect((await app.inject({ url: '/api/v1/me', headers: { cookie: idle.cookie } })).statusCode).toBe(200)
      now = new Date(start.getTime() + 29 * 60_000 + 31 * 60_000)
      expect((await app.inject({ url: '/api/v1/me', headers: { cookie: idle.cookie } })).statusCode).toBe(401)
    } finally {
      now = start
    }
  })

  it('a wrong name or password is one 401 message; guessing on gets 429, even with the right password', async () => {
    await ready('qian')
    const from = address()
    const wrongPassword = await signIn('qian', 'Not-the-one-1', {}, from)
    const wrongName = await signIn('nobody-here', 'Not-the-one-1', {}, from)
    expect(wrongPassword.res.statusCode).toBe(401)
    expect(wrongName.res.statusCode).toBe(401)
    expect(wrongPassword.res.json()).toEqual(wrongName.res.json())
    expect(wrongPassword.res.json()).toMatchObject({ code: 'sign_in_failed', message: 'user name or password is wrong' })
    expect(wrongPassword.setCookie).toBe('')
    const statuses = []
    for (let i = 2; i <= FAILURES_PER_MINUTE; i++) statuses.push((await signIn('qian', `Guess-number-${i}`, {}, from)).res.statusCode)
    expect(statuses.at(-1)).toBe(429)
    expect((await signIn('qian', 'Harbour-lights-7', {}, from)).res.statusCode).toBe(429)
    // Another address is not held.
    expect((await signIn('qian', 'Harbour-lights-7', {}, address())).res.statusCode).toBe(200)
  })

  it('the live alert stream opens with the cookie and ends when its session is signed out', async () => {
    const s = await ready('he')
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    const { status, first, ended } = await new Promise<{ status: number; first: string; ended: Promise<void> }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/alerts/stream', headers: { cookie: s.cookie } }, (res) => {
        const ended = new Promise<void>((done) => res.on('end', done).on('close', done))
        res.once('data', (chunk: Buffer) => resolve({ status: res.statusCode ?? 0, first: chunk.toString(), ended }))
      })
      req.on('error', reject)
    })
    expect(status).toBe(200)
    expect(first).toContain('retry:')
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: s.cookie, 'x-hb-csrf': s.csrf } })).statusCode).toBe(204)
    await ended
  })

  it('a disabled user cannot sign in, and their session stops working', async () => {
    const s = await ready('li')
    const { id } = (await app.inject({ url: '/api/v1/me', headers: { cookie: s.cookie } })).json<{ id: string }>()
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: admin(), payload: { disabled: true } })).statusCode).toBe(200)
    const refused = await signIn('li', 'Harbour-lights-7')
    expect(refused.res.statusCode).toBe(401)
    expect(refused.res.json()).toMatchObject({ code: 'user_disabled' })
    expect((await app.inject({ url: '/api/v1/me', headers: { cookie: s.cookie } })).statusCode).toBe(401)
  })

  it('a one-time password works only to change it; the change ends the other sessions and the old password', async () => {
    const { password } = await crewMember('zhou')
    const s = await signIn('zhou', password)
    const other = await signIn('zhou', password)
    const headers = { cookie: s.cookie, 'x-hb-csrf': s.csrf }
    const alerts = await app.inject({ url: '/api/v1/alerts', headers })
    expect(alerts.statusCode).toBe(403)
    expect(alerts.json()).toMatchObject({ code: 'password_change_required' })
    expect(alerts.json<{ message: string }>().message).toContain('PUT /api/v1/me/password')
    const change = (current: string, next: string) => app.inject({ method: 'PUT', url: '/api/v1/me/password', headers, payload: { current, next } })

    // The rules, stated in the refusal.
    for (const weak of ['Short-1', 'zhou', 'alllowercaseletters', '12345678901234']) {
      const res = await change(password, weak)
      expect(res.statusCode, weak).toBe(400)
      expect(res.json(), weak).toMatchObject({ code: 'weak_password', message: PASSWORD_RULES })
    }
    expect(PASSWORD_RULES).toContain('at least 10 characters')
    expect(PASSWORD_RULES).toContain('user name')
    expect((await change(password, password)).json()).toMatchObject({ code: 'password_unchanged', message: 'The new password must differ from the current one' })
    expect((await change('Wrong-current-1', 'Good-enough-22')).json()).toMatchObject({ code: 'wrong_password' })

    expect((await change(password, '平安-小区-2026年')).statusCode).toBe(204)
    expect((await app.inject({ url: '/api/v1/alerts', headers })).statusCode).toBe(200)
    expect((await app.inject({ url: '/api/v1/me', headers })).json()).toMatchObject({ mustChangePassword: false })
    expect((await app.inject({ url: '/api/v1/me', headers: { cookie: other.cookie } })).statusCode).toBe(401)
    expect((await signIn('zhou', password)).res.statusCode).toBe(401)
    expect((await signIn('zhou', '平安-小区-2026年')).res.json()).toMatchObject({ mustChangePassword: false })
  })

  it('an admin reset gives a one-time password, ends the sessions and forces a change', async () => {
    const s = await ready('wu')
    const { id } = (await app.inject({ url: '/api/v1/me', headers: { cookie: s.cookie } })).json<{ id: string }>()
    const reset = await app.inject({ method: 'POST', url: `/api/v1/users/${id}/password`, headers: admin() })
    const { password } = reset.json<{ password: string }>()
    expect(password).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{12}$/)
    expect((await app.inject({ url: '/api/v1/me', headers: { cookie: s.cookie } })).statusCode).toBe(401)
    expect((await signIn('wu', 'Harbour-lights-7')).res.statusCode).toBe(401)
    const again = await signIn('wu', password)
    expect(again.res.json()).toMatchObject({ mustChangePassword: true })
    const changed = await app.inject({
      method: 'PUT',
      url: '/api/v1/me/password',
      headers: { cookie: again.cookie, 'x-hb-csrf': again.csrf },
      payload: { current: password, next: 'Fresh-start-99' },
    })
    expect(changed.statusCode).toBe(204)
    // Once: the one-time password is gone with the change.
    expect((await signIn('wu', password)).res.statusCode).toBe(401)
    // Not an admin's to give by anyone else.
    const crew = { cookie: again.cookie, 'x-hb-csrf': again.csrf }
    expect((await app.inject({ method: 'POST', url: `/api/v1/users/${id}/password`, headers: crew })).statusCode).toBe(403)
  })

  it('the admin gets a one-time password on the first start only (the banner of `up`)', async () => {
    await insertUser(db, { name: 'admin', role: 'admin' })
    const first = await ensureAdminPassword(db)
    expect(first).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{12}$/)
    expect(await ensureAdminPassword(db)).toBeUndefined()
    const s = await signIn('admin', first ?? '')
    expect(s.res.json()).toMatchObject({ mustChangePassword: true })
  })

  it('no password or hash in any answer or in the audit log', async () => {
    const s = await ready('feng', 'Secret-river-55')
    const answers = [
      (await app.inject({ url: '/api/v1/users', headers: admin() })).body,
      (await app.inject({ url: '/api/v1/me', headers: { cookie: s.cookie } })).body,
      s.res.body,
    ]
    const [hashRow] = await db.query<{ h: string }>("SELECT password_hash AS h FROM users WHERE name = 'feng'")
    expect(hashRow?.h).toMatch(/^scrypt\$16384\$8\$1\$/)
    const audit = (await db.query<{ t: string }>('SELECT audit_log::text AS t FROM audit_log')).map((r) => r.t).join('\n')
    expect(audit).toContain('users.change_password')
    expect(audit).toContain('users.reset_password')
    const hashes = (await db.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE password_hash IS NOT NULL')).map((r) => r.h.split('$').at(-1) ?? '')
    for (const text of [...answers, audit]) {
      expect(text).not.toContain('Secret-river-55')
      expect(text).not.toContain('Harbour-lights-7')
      expect(text).not.toContain('scrypt$')
      for (const h of hashes) expect(text).not.toContain(h)
    }
  })
})
