// `housing-brain users`: tokens and one-time passwords printed once, two-step sign-in reset, usable at once, revocable;
// mistakes explained.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb, type Db } from '../../core/db/client.ts'
import { checkPassword } from '../../core/passwords.ts'
import { createSession, DEFAULT_SESSION_LIMITS, sessionPrincipal } from '../../core/repos/sessions.ts'
import { resolveToken } from '../../core/repos/tokens.ts'
import { confirmEnrolment, recoveryCodesLeft, startEnrolment, totpEnabled } from '../../core/repos/totp.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')
const exec = promisify(execFile)
const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('housing-brain users', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db
  const run = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await exec(process.execPath, [BIN, 'users', ...args], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: tdb.url, LOG_LEVEL: 'warn' }, timeout: 30_000 })
      return { code: 0, stdout, stderr }
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string }
      return { code: e.code, stdout: e.stdout, stderr: e.stderr }
    }
  }

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
  })
  afterAll(async () => {
    await db.close()
    await tdb.drop()
  })

  it('adds a user and prints a token that works, lists it, and revokes it', async () => {
    const added = await run('add', '--name', 'desk-1', '--role', 'operator', '--expires', '1d')
    expect(added.code).toBe(0)
    const token = added.stdout.trim()
    expect(token).toMatch(/^hb_[\w-]{40,}$/)
    expect(await resolveToken(db, token)).toMatchObject({ name: 'desk-1', role: 'operator' })
    const [row] = await db.query<{ expires_at: Date }>("SELECT expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.name = 'desk-1'")
    expect((row?.expires_at.getTime() ?? 0) - Date.now()).toBeGreaterThan(23 * 3_600_000)
    expect((await run('list')).stdout).toMatch(/desk-1\toperator\t-\t1 active token\(s\)/)
    expect((await run('revoke', '--name', 'desk-1')).stdout).toMatch(/revoked 1 token\(s\) of desk-1/)
    expect(await resolveToken(db, token)).toBeUndefined()
  })

  it('prints a one-time password, to be changed at the next sign-in, and ends the user\'s sessions', async () => {
    await run('add', '--name', 'desk-pw', '--role', 'operator')
    const [user] = await db.query<{ id: string }>("SELECT id FROM users WHERE name = 'desk-pw'")
    const session = await createSession(db, user?.id ?? '', new Date(), DEFAULT_SESSION_LIMITS)
    const r = await run('password', '--name', 'desk-pw')
    expect(r.code).toBe(0)
    const password = r.stdout.trim()
    expect(password).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{12}$/)
    const [row] = await db.query<{ hash: string; must: boolean }>("SELECT password_hash AS hash, must_change_password AS must FROM users WHERE name = 'desk-pw'")
    expect(row?.must).toBe(true)
    expect(await checkPassword(password, row?.hash)).toBe(true)
    expect(await sessionPrincipal(db, session.cookie, new Date(), DEFAULT_SESSION_LIMITS)).toBeUndefined()
    expect((await run('password', '--name', 'nobody')).stderr).toMatch(/no user "nobody"/)
  })

  it('resets two-step sign-in (the one way back for the last admin who lost their phone)', async () => {
    await run('add', '--name', 'desk-otp', '--role', 'admin')
    const [user] = await db.query<{ id: string }>("SELECT id FROM users WHERE name = 'desk-otp'")
    const id = user?.id ?? ''
    await startEnrolment(db, id, 'v1.sealed', new Date())
    expect(await confirmEnrolment(db, id, 'v1.sealed', 1, new Date(), ['h1', 'h2'])).toBe(true)
    expect(await totpEnabled(db, id)).toBe(true)
    const r = await run('totp-reset', '--name', 'desk-otp')
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('two-step sign-in reset for desk-otp')
    expect(await totpEnabled(db, id)).toBe(false)
    expect(await recoveryCodesLeft(db, id)).toBe(0)
    expect((await run('totp-reset', '--name', 'desk-otp')).stdout.trim()).toBe('two-step sign-in was off for desk-otp')
  })

  it('links a DingTalk unionId to one user, lists it, refuses it for a second user, and unlinks it', async () => {
    await run('add', '--name', 'crew-dt', '--role', 'operator')
    await run('add', '--name', 'crew-dt2', '--role', 'operator')
    const linked = await run('dingtalk', '--name', 'crew-dt', '--unionid', 'UnionCliWang01')
    expect(linked.code).toBe(0)
    expect(linked.stdout.trim()).toBe('crew-dt signs in with DingTalk as UnionCliWang01')
    expect((await run('list')).stdout).toMatch(/crew-dt\toperator\t-\t1 active token\(s\)\tDingTalk UnionCliWang01/)
    const taken = await run('dingtalk', '--name', 'crew-dt2', '--unionid', 'UnionCliWang01')
    expect(taken.code).toBe(1)
    expect(taken.stderr).toMatch(/"UnionCliWang01" is linked to another user already/)
    expect((await run('dingtalk', '--name', 'crew-dt2', '--unionid', 'has space')).stderr).toMatch(/--unionid: expected a DingTalk unionId/)
    expect((await run('dingtalk', '--name', 'crew-dt', '--unionid', '')).stdout.trim()).toBe('crew-dt has no DingTalk account linked now')
    const [row] = await db.query<{ u: string | null }>("SELECT dingtalk_union_id AS u FROM users WHERE name = 'crew-dt'")
    expect(row?.u).toBeNull()
  })

  it('explains a crew member without a company', async () => {
    const r = await run('add', '--name', 'crew-x', '--role', 'crew')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/a crew member needs --company/)
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/)
  })
})
