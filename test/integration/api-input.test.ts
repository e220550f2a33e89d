// Input the database cannot take is the caller's mistake (4xx with a code), never a 500: a NUL
// character in a path id or a body string, times outside any real period, a huge bucket, a URL
// that does not decode. Issue 7, item 16; the OpenAPI fuzz suite (test/fuzz/) generalises it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { apiOnPostgres } from '../helpers/api.ts'
import { hasPostgres } from '../helpers/services.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('request input the database cannot store', () => {
  let api: Awaited<ReturnType<typeof apiOnPostgres>>
  let app: App
  let admin: Record<string, string>

  beforeAll(async () => {
    api = await apiOnPostgres()
    app = api.app
    admin = { authorization: `Bearer ${api.token}` }
  })

  afterAll(() => api.close())

  const NUL = 'a\u0000b'
  it.each([
    ['GET', '/api/v1/rules/a%00b', undefined],
    ['DELETE', '/api/v1/rules/a%00b', undefined],
    ['GET', '/api/v1/companies/a%00b', undefined],
    ['PATCH', '/api/v1/companies/co-test', { name: NUL }],
    ['POST', '/api/v1/companies', { id: 'co-nul', name: NUL }],
    ['GET', '/api/v1/communities/a%00b', undefined],
    ['POST', '/api/v1/communities', { id: 'cm-nul', name: NUL, companyId: 'co-test' }],
    ['GET', '/api/v1/users/a%00b/tokens', undefined],
    ['POST', '/api/v1/users', { name: NUL, role: 'operator' }],
    ['DELETE', '/api/v1/tokens/a%00b', undefined],
  ] as const)('refuses NUL: %s %s', async (method, url, body) => {
    const res = await app.inject({ method, url, headers: admin, ...(body ? { payload: body } : {}) })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/NUL/) as unknown })
  })

  it.each([
    '/api/v1/evaluation/ranking?from=0000-01-01T00:00:00Z',
    '/api/v1/evaluation/ranking?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z',
    '/api/v1/evaluation/ranking.csv?from=0000-01-01T00:00:00Z',
    '/api/v1/evaluation/companies/co-test?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z',
    '/api/v1/devices/mh-1/readings?metric=x&bucket=9999999999d',
    '/api/v1/devices/mh-1/readings?metric=x&bucket=99999999999999999999999d',
  ])('refuses times and buckets outside any real period: %s', async (url) => {
    const res = await app.inject({ url, headers: admin })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'validation_failed' })
  })

  it('answers an undecodable URL in the catalogue shape', async () => {
    const res = await app.inject({ url: '/api/v1/rules/%FF', headers: admin })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'validation_failed', message: expect.any(String) as unknown })
  })
})
