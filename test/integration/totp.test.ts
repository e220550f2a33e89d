// One-time codes at sign-in (issue 20): an operator sets them up, then a password alone no longer
// signs in; wrong, replayed and late codes are refused, recovery codes work once, an admin resets
// a lost phone; and with TOTP_REQUIRED an office session can do nothing before the set-up. On the
// real API and PostgreSQL, with the sessions' clock moved; codes computed as an app would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { Db } from '../../core/db/client.ts'
import { base32Decode, stepOf, totpAt } from '../../core/totp.ts'
import { apiOnPostgres } from '../helpers/api.ts'
import { hasPostgres } from '../helpers/services.ts'

const pgUp = await hasPostgres()
const FAILURES_PER_MINUTE = 20
const PASSWORD = 'Harbour-lights-7'

/** What the authenticator app shows at `at` (30 s offset: `at` + steps). */
const codeOf = (secret: string, at: Date, steps = 0) => totpAt(base32Decode(secret), stepOf(at) + steps)

interface Api {
  app: App
  db: Db
  token: string
  close: () => Promise<void>
}

/** Helpers over one API: users with a password of their own, sign-in in one or two steps. */
function people(get: () => Api) {
  const admin = () => ({ authorization: `Bearer ${get().token}` })
  async function person(name: string, role: 'operator' | 'crew' | 'resident' | 'admin' = 'operator') {
    const { app } = get()
    const binding = role === 'crew' ? { companyId: 'co-test' } : role === 'resident' ? { communityId: 'cm-test' } : {}
    const created = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin(), payload: { name, role, ...binding } })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json<{ user: { id: string } }>().user.id
    const { password } = (await app.inject({ method: 'POST', url: `/api/v1/users/${id}/password`, headers: admin() })).json<{ password: string }>()
    const s = await signIn(name, password)
    const changed = await app.inject({ method: 'PUT', url: '/api/v1/me/password', headers: s.headers, payload: { current: password, next: PASSWORD } })
    expect(changed.statusCode).toBe(204)
    return { id, ...s }
  }
  async function signIn(name: string, password = PASSWORD, remoteAddress = '10.9.9.9') {
    const res = await get().app.inject({ method: 'POST', url: '/api/v1/session', payload: { name, password }, remoteAddress })
    return withSession(res)
  }
  function withSession(res: Awaited<ReturnType<App['inject']>>) {
    const cookie = /^hb_session=([^;]+)/.exec(String(res.headers['set-cookie'] ?? ''))?.[1]
    const body = res.json<{ csrf?: string; ticket?: string }>()
    return { res, ticket: body.ticket ?? '', headers: { cookie: `hb_session=${cookie ?? ''}`, 'x-hb-csrf': body.csrf ?? '' }, hasCookie: cookie !== undefined }
  }
  async function code(ticket: string, value: string, remoteAddress = '10.9.9.9') {
    return withSession(await get().app.inject({ method: 'POST', url: '/api/v1/session/totp', payload: { ticket, code: value }, remoteAddress }))
  }
  /** Sets up one-time codes with the session; returns the secret and the recovery codes. */
  async function enrol(headers: Record<string, string>, at: () => Date) {
    const { app } = get()
    const started = await app.inject({ method: 'POST', url: '/api/v1/me/totp', headers })
    expect(started.statusCode, started.body).toBe(200)
    expect(started.headers['cache-control']).toBe('no-store')
    const { secret, uri } = started.json<{ secret: string; uri: string }>()
    const confirmed = await app.inject({ method: 'POST', url: '/api/v1/me/totp/confirm', headers, payload: { code: codeOf(secret, at()) } })
    expect(confirmed.statusCode, confirmed.body).toBe(200)
    return { secret, uri, recoveryCodes: confirmed.json<{ recoveryCodes: string[] }>().recoveryCodes }
  }
  return { admin, person, signIn, code, enrol }
}

describe.skipIf(!pgUp)('one-time codes at sign-in (issue 20)', () => {
  let api: Api
  let now = new Date('2026-12-01T08:00:00Z')
  let seq = 0
  const address = () => `10.1.0.${++seq}`
  const { admin, person, signIn, code, enrol } = people(() => api)
  /** Moves the clock one step on, so that the next code is a new one. */
  const tick = () => (now = new Date(now.getTime() + 30_000))

  beforeAll(async () => {
    api = await apiOnPostgres({ authFailuresPerMinute: FAILURES_PER_MINUTE, trustProxy: true, sessions: { now: () => now } })
  })
  afterAll(async () => api.close())

  it('an operator sets them up; then the password gives a ticket, not a session, and the code the session', async () => {
    const lin = await person('lin')
    const before = await api.app.inject({ url: '/api/v1/me', headers: lin.headers })
    expect(before.json()).toMatchObject({ totp: { offered: true, enabled: false, mustEnrol: false } })

    // A wrong first code does not turn them on.
    const started = await api.app.inject({ method: 'POST', url: '/api/v1/me/totp', headers: lin.headers })
    const { secret, uri } = started.json<{ secret: string; uri: string }>()
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(uri).toBe(`otpauth://totp/housing-brain%3Alin?secret=${secret}&issuer=housing-brain&algorithm=SHA1&digits=6&period=30`)
    const wrong = await api.app.inject({ method: 'POST', url: '/api/v1/me/totp/confirm', headers: lin.headers, payload: { code: codeOf(secret, now, 3) } })
    expect(wrong.statusCode).toBe(400)
    expect(wrong.json()).toMatchObject({ code: 'totp_code_wrong' })
    expect((await signIn('lin')).res.statusCode).toBe(200)

    const confirmed = await api.app.inject({ method: 'POST', url: '/api/v1/me/totp/confirm', headers: lin.headers, payload: { code: codeOf(secret, now) } })
    expect(confirmed.statusCode).toBe(200)
    const { recoveryCodes } = confirmed.json<{ recoveryCodes: string[] }>()
    expect(recoveryCodes).toHaveLength(10)
    expect((await api.app.inject({ url: '/api/v1/me', headers: lin.headers })).json()).toMatchObject({ totp: { enabled: true } })
    // Set up already: a second start is refused, so the secret is never shown again.
    expect((await api.app.inject({ method: 'POST', url: '/api/v1/me/totp', headers: lin.headers })).json()).toMatchObject({ code: 'totp_already_on' })

    tick()
    const first = await signIn('lin')
    expect(first.res.statusCode).toBe(202)
    expect(first.res.json()).toMatchObject({ totpRequired: true })
    expect(first.hasCookie).toBe(false)
    expect(first.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const bad = await code(first.ticket, codeOf(secret, now, 5))
    expect(bad.res.statusCode).toBe(401)
    expect(bad.res.json()).toMatchObject({ code: 'totp_failed' })
    const done = await code(first.ticket, codeOf(secret, now))
    expect(done.res.statusCode).toBe(200)
    expect(done.res.json()).toMatchObject({ mustChangePassword: false })
    expect((await api.app.inject({ url: '/api/v1/alerts', headers: done.headers })).statusCode).toBe(200)
    // The ticket was used up.
    expect((await code(first.ticket, codeOf(secret, now, 1))).res.json()).toMatchObject({ code: 'totp_ticket_invalid' })

    // The same code again (another ticket, same 30 s): a replay, refused. The next step's code works.
    const second = await signIn('lin')
    expect((await code(second.ticket, codeOf(secret, now))).res.json()).toMatchObject({ code: 'totp_failed' })
    tick()
    expect((await code(second.ticket, codeOf(secret, now))).res.statusCode).toBe(200)

    // The secret is sealed at rest, never in an answer after the start, never in the audit log.
    const [row] = await api.db.query<{ s: string }>("SELECT totp_secret AS s FROM users WHERE name = 'lin'")
    expect(row?.s).toMatch(/^v1\./)
    expect(row?.s).not.toContain(secret)
    const audit = (await api.db.query<{ t: string }>('SELECT audit_log::text AS t FROM audit_log')).map((r) => r.t).join('\n')
    expect(audit).toContain('totp.start')
    expect(audit).toContain('totp.enable')
    // Each second step, refused or not, under the name of the ticket's user; no code kept.
    const steps = await api.db.query<{ status: number; body: unknown }>(
      "SELECT status, body FROM audit_log WHERE action = 'sessions.sign_in_code' AND actor_name = 'lin' ORDER BY id",
    )
    // (The used-up ticket names nobody: that attempt is not among them.)
    expect(steps.map((r) => r.status)).toEqual([401, 200, 401, 200])
    expect(new Set(steps.map((r) => JSON.stringify(r.body)))).toEqual(new Set(['"[redacted]"']))
    const me = (await api.app.inject({ url: '/api/v1/me', headers: done.headers })).body
    for (const text of [audit, me, second.res.body]) {
      expect(text).not.toContain(secret)
      for (const c of recoveryCodes) expect(text).not.toContain(c)
    }
  })

  it('a ticket lasts five minutes and five wrong codes; wrong codes count against the address’s budget', async () => {
    await person('gao')
    const headers = (await signIn('gao')).headers
    const { secret } = await enrol(headers, () => now)
    tick()

    const late = await signIn('gao')
    const start = now
    now = new Date(start.getTime() + 5 * 60_000 + 1000)
    expect((await code(late.ticket, codeOf(secret, now))).res.json()).toMatchObject({ code: 'totp_ticket_invalid' })
    now = start

    const guessed = await signIn('gao')
    for (let i = 1; i <= 5; i++) expect((await code(guessed.ticket, '000000', address())).res.json()).toMatchObject({ code: 'totp_failed' })
    expect((await code(guessed.ticket, codeOf(secret, now))).res.json()).toMatchObject({ code: 'totp_ticket_invalid' })

    // From one address: wrong codes (over fresh tickets) run into 429, then even a right code is refused.
    const from = address()
    const statuses: number[] = []
    for (let i = 0; i <= FAILURES_PER_MINUTE; i++) {
      const t = await signIn('gao', PASSWORD, address())
      statuses.push((await code(t.ticket, String(100000 + i), from)).res.statusCode)
    }
    expect(statuses[0]).toBe(401)
    expect(statuses.at(-1)).toBe(429)
    const blocked = await signIn('gao', PASSWORD, address())
    expect((await code(blocked.ticket, codeOf(secret, now), from)).res.statusCode).toBe(429)
    // Another address is not held.
    expect((await code(blocked.ticket, codeOf(secret, now), address())).res.statusCode).toBe(200)
  })

  it('a recovery code works once in place of a code', async () => {
    await person('ma')
    const { recoveryCodes } = await enrol((await signIn('ma')).headers, () => now)
    const [first = '', second = ''] = recoveryCodes
    const a = await signIn('ma')
    // As people copy it from paper: capitals and a space are fine.
    const ok = await code(a.ticket, first.toUpperCase().replace('-', ' '))
    expect(ok.res.statusCode).toBe(200)
    expect((await api.app.inject({ url: '/api/v1/alerts', headers: ok.headers })).statusCode).toBe(200)
    const b = await signIn('ma')
    expect((await code(b.ticket, first)).res.json()).toMatchObject({ code: 'totp_failed' })
    expect((await code(b.ticket, second)).res.statusCode).toBe(200)
    const stored = (await api.db.query<{ h: string }>('SELECT code_hash AS h FROM totp_recovery_codes')).map((r) => r.h).join('\n')
    for (const c of recoveryCodes) expect(stored).not.toContain(c.replace('-', ''))
  })

  it('an admin resets a lost phone; the user turns them off with the password only', async () => {
    const xu = await person('xu')
    await enrol(xu.headers, () => now)
    expect((await signIn('xu')).res.statusCode).toBe(202)
    // An operator may not reset someone's codes.
    const ops = await person('ops-reset')
    expect((await api.app.inject({ method: 'DELETE', url: `/api/v1/users/${xu.id}/totp`, headers: ops.headers })).statusCode).toBe(403)
    const reset = await api.app.inject({ method: 'DELETE', url: `/api/v1/users/${xu.id}/totp`, headers: admin() })
    expect(reset.statusCode).toBe(204)
    const back = await signIn('xu')
    expect(back.res.statusCode).toBe(200)
    expect((await api.app.inject({ url: '/api/v1/me', headers: back.headers })).json()).toMatchObject({ totp: { enabled: false } })

    await enrol(back.headers, () => now)
    const off = (password: string) => api.app.inject({ method: 'DELETE', url: '/api/v1/me/totp', headers: back.headers, payload: { password } })
    expect((await off('Not-my-password-1')).json()).toMatchObject({ code: 'wrong_password' })
    expect((await signIn('xu')).res.statusCode).toBe(202)
    expect((await off(PASSWORD)).statusCode).toBe(204)
    expect((await signIn('xu')).res.statusCode).toBe(200)
    const audit = (await api.db.query<{ t: string }>('SELECT audit_log::text AS t FROM audit_log')).map((r) => r.t).join('\n')
    expect(audit).toContain('users.reset_totp')
    expect(audit).toContain('totp.disable')
    expect(audit).not.toContain(PASSWORD)
  })

  it('crew members may set them up; residents are not offered them', async () => {
    const crew = await person('crew-tang', 'crew')
    expect((await api.app.inject({ url: '/api/v1/me', headers: crew.headers })).json()).toMatchObject({ totp: { offered: true } })
    await enrol(crew.headers, () => now)
    expect((await signIn('crew-tang')).res.statusCode).toBe(202)
    const resident = await person('resident-luo', 'resident')
    expect((await api.app.inject({ url: '/api/v1/me', headers: resident.headers })).json()).toMatchObject({ totp: { offered: false } })
    const refused = await api.app.inject({ method: 'POST', url: '/api/v1/me/totp', headers: resident.headers })
    expect(refused.statusCode).toBe(403)
    expect(refused.json()).toMatchObject({ code: 'totp_not_offered' })
  })
})

describe.skipIf(!pgUp)('TOTP_REQUIRED', () => {
  let api: Api
  let now = new Date('2026-12-01T08:00:00Z')
  const { person, signIn, code, enrol } = people(() => api)

  beforeAll(async () => {
    api = await apiOnPostgres({ sessions: { now: () => now, totpRequired: true } })
  })
  afterAll(async () => api.close())

  it('an operator without codes can only set them up, then works; cannot turn them off; crew are not obliged', async () => {
    const qin = await person('qin')
    const alerts = await api.app.inject({ url: '/api/v1/alerts', headers: qin.headers })
    expect(alerts.statusCode).toBe(403)
    expect(alerts.json()).toMatchObject({ code: 'totp_enrolment_required' })
    expect((await api.app.inject({ url: '/api/v1/me', headers: qin.headers })).json()).toMatchObject({ totp: { mustEnrol: true, enabled: false } })
    const { secret } = await enrol(qin.headers, () => now)
    expect((await api.app.inject({ url: '/api/v1/alerts', headers: qin.headers })).statusCode).toBe(200)
    const off = await api.app.inject({ method: 'DELETE', url: '/api/v1/me/totp', headers: qin.headers, payload: { password: PASSWORD } })
    expect(off.statusCode).toBe(409)
    expect(off.json()).toMatchObject({ code: 'totp_required' })
    const again = await signIn('qin')
    expect(again.res.statusCode).toBe(202)
    now = new Date(now.getTime() + 30_000)
    expect((await code(again.ticket, codeOf(secret, now))).res.statusCode).toBe(200)

    const crew = await person('crew-du', 'crew')
    expect((await api.app.inject({ url: '/api/v1/alerts', headers: crew.headers })).statusCode).toBe(200)
  })
})
