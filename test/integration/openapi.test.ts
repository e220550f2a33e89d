// The OpenAPI document: valid OpenAPI 3, served with a browsable UI at /docs, listing every route
// (and, for the CSV import, the codes its problems carry).
import { Validator } from '@seriousme/openapi-schema-validator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { apiFor } from '../helpers/api.ts'

let db: Db
let app: App
const registered: { method: string; url: string; hidden: boolean }[] = []

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  app = (await apiFor(db, features, { onRoute: (r) => registered.push(r) })).app
})

afterAll(async () => {
  await app.close()
  await db.close()
})

describe('OpenAPI', () => {
  it('is a valid OpenAPI 3 document', async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json<{ openapi: string }>()
    expect(doc.openapi).toMatch(/^3\./)
    const result = await new Validator().validate(doc)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
  })

  it('lists every registered route with its responses', async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json<{ paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> }>()
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)),
    )
    const routes = registered.filter((r) => !r.hidden && r.method !== 'HEAD' && !r.url.startsWith('/docs') && !r.url.startsWith('/console'))
    expect(routes.length).toBeGreaterThan(40)
    expect(routes.map((r) => `${r.method} ${r.url}`).filter((r) => !documented.has(r))).toEqual([])
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) expect(Object.keys(op.responses ?? {}), `${method} ${path}`).not.toEqual([])
    }
  })

  it('documents the code and params of each problem of a CSV import, for clients to word them', async () => {
    type Schema = { properties?: Record<string, Schema>; items?: Schema; enum?: string[]; required?: string[] }
    type Op = { responses: Record<string, { content: Record<string, { schema: Schema }> }> }
    const doc = (await app.inject({ url: '/docs/json' })).json<{ paths: Record<string, Record<string, Op>> }>()
    const op = doc.paths['/api/v1/devices/import']?.post
    const schema = (status: string) => op?.responses[status]?.content['application/json']?.schema
    const problem = schema('422')?.properties?.details?.properties?.problems?.items
    expect(problem?.required).toEqual(expect.arrayContaining(['row', 'column', 'code', 'params', 'message']))
    expect(problem?.properties?.code?.enum).toEqual(expect.arrayContaining(['unknown_column', 'community_missing', 'community_unknown', 'imei_taken']))
    expect(schema('400')?.properties?.details?.properties?.code?.enum).toContain('not_utf8')
    expect(schema('413')?.properties?.details?.properties?.code?.enum).toContain('file_too_large')
  })

  it('serves the browsable UI at /docs with security headers', async () => {
    const res = await app.inject({ url: '/docs' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(res.body).toContain('swagger-ui')
    const api = await app.inject({ url: '/health' })
    expect(api.headers['x-content-type-options']).toBe('nosniff')
    expect(api.headers['content-security-policy']).toContain("default-src 'self'")
  })
})
