// Request budgets (issue 7, item 6): failed authentications are counted per address, before any
// token is trusted, with a budget of their own; valid tokens per token. Varying the header buys nothing.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { addressKey } from '../../api/plugins/rate-limit.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { apiFor } from '../helpers/api.ts'

let db: Db
let app: App
let good: string
let tokenFor: (role: 'admin') => Promise<string>
const FAILURES = 5
const PER_TOKEN = 20

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  const api = await apiFor(db, features, { rateLimitPerMinute: PER_TOKEN, authFailuresPerMinute: FAILURES })
  app = api.app
  good = api.token
  tokenFor = api.tokenFor
})

afterAll(async () => {
  await app.close()
  await db.close()
})

const get = (remoteAddress: string, authorization?: string) =>
  app.inject({ url: '/api/v1/me', remoteAddress, headers: authorization === undefined ? {} : { authorization } })

describe('rate limits', () => {
  it('answers 429 to an address past its failed-authentication budget, whatever header it varies, and still serves a valid token', async () => {
    const attacker = '203.0.113.7'
    const statuses: number[] = []
    for (let i = 0; i < FAILURES + 3; i++) {
      // A different bogus header every time: the key must not follow the header.
      const res = await get(attacker, i % 2 === 0 ? `Bearer hb_${randomBytes(16).toString('hex')}` : `Basic ${randomBytes(8).toString('hex')}`)
      statuses.push(res.statusCode)
      if (res.statusCode === 429) expect(res.json()).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/per minute/) as unknown })
    }
    expect(statuses).toEqual([...Array<number>(FAILURES).fill(401), 429, 429, 429])
    expect((await get(attacker)).statusCode).toBe(429)
    // A valid token from the same address (a colleague behind the same NAT) is served.
    expect((await get(attacker, `Bearer ${good}`)).statusCode).toBe(200)
    // Another address has its own budget.
    expect((await get('198.51.100.1', 'Bearer hb_nope')).statusCode).toBe(401)
  })

  it('ignores a forged X-Forwarded-For when no proxy is trusted (TRUST_PROXY unset)', async () => {
    const guesser = '203.0.113.60'
    const statuses: number[] = []
    for (let i = 0; i < FAILURES + 1; i++) {
      const res = await app.inject({ url: '/api/v1/me', remoteAddress: guesser, headers: { authorization: 'Bearer hb_nope', 'x-forwarded-for': `198.51.100.${i + 10}` } })
      statuses.push(res.statusCode)
    }
    expect(statuses).toEqual([...Array<number>(FAILURES).fill(401), 429])
  })

  it("behind a trusted proxy, counts each client by the proxy's X-Forwarded-For, and nobody else's header", async () => {
    const proxied = await apiFor(db, await migrate(db, { log: silentLogger }), { authFailuresPerMinute: FAILURES, trustProxy: ['10.0.0.0/8'] })
    try {
      const via = (remoteAddress: string, client: string) =>
        proxied.app.inject({ url: '/api/v1/me', remoteAddress, headers: { authorization: 'Bearer hb_nope', 'x-forwarded-for': client } })
      // One guesser behind the proxy spends its own budget...
      const guesses: number[] = []
      for (let i = 0; i < FAILURES + 1; i++) guesses.push((await via('10.0.0.2', '203.0.113.77')).statusCode)
      expect(guesses).toEqual([...Array<number>(FAILURES).fill(401), 429])
      // ...and a colleague behind the same proxy is not locked out with it.
      expect((await via('10.0.0.2', '198.51.100.77')).statusCode).toBe(401)
      // A client outside the trusted range cannot pass itself off as another by the header.
      const outside: number[] = []
      for (let i = 0; i < FAILURES + 1; i++) outside.push((await via('192.0.2.77', `198.51.100.${i + 100}`)).statusCode)
      expect(outside.at(-1)).toBe(429)
    } finally {
      await proxied.app.close()
    }
  })

  it('counts IPv6 clients by their /64', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:db8:1:2:ffff::9'))
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'))
    expect(addressKey('::ffff:192.0.2.1')).toBe(addressKey('192.0.2.1'))
  })

  it('counts valid tokens per token, not per address', async () => {
    const mine = await tokenFor('admin')
    const other = await tokenFor('admin')
    const statuses: number[] = []
    for (let i = 0; i < PER_TOKEN + 1; i++) statuses.push((await get('192.0.2.50', `Bearer ${mine}`)).statusCode)
    expect(statuses.slice(0, PER_TOKEN).every((s) => s === 200)).toBe(true)
    expect(statuses.at(-1)).toBe(429)
    expect((await get('192.0.2.50', `Bearer ${other}`)).statusCode).toBe(200)
  })
})
