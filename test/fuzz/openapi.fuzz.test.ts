// Generated invalid requests against every operation of the OpenAPI document, on PostgreSQL:
// wrong types, missing fields, huge strings, NUL and lone surrogates, extreme numbers and dates,
// bad path parameters, bad JSON and wrong content types, with an admin token and without one.
// The promise under test: no 5xx, ever, and every 4xx is `{ code, message }` from the catalogue.
// Seeded (FUZZ_SEED overrides) and bounded (FUZZ_RUNS per operation) so it stays well under a minute.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { ERRORS } from '../../core/errors.ts'
import { apiOnPostgres } from '../helpers/api.ts'
import { hasPostgres } from '../helpers/services.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 20261128)
const RUNS = Number(process.env.FUZZ_RUNS ?? 60)

interface Schema {
  type?: string | string[]
  format?: string
  enum?: unknown[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  anyOf?: Schema[]
  oneOf?: Schema[]
}
interface Param {
  name: string
  in: 'path' | 'query' | 'header'
  schema?: Schema
}
interface Operation {
  parameters?: Param[]
  requestBody?: { content?: Record<string, { schema?: Schema }> }
}
interface Doc {
  paths: Record<string, Record<string, Operation>>
}

/** Values no well-behaved client sends: every one must be answered with a 4xx or accepted. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(
    'a\u0000b',
    '\u0000',
    '\uD800',
    'x\uDFFFy',
    'x'.repeat(100_000),
    '',
    ' ',
    '../../etc/passwd',
    '%00',
    '0',
    '-1',
    '1e400',
    'NaN',
    'Infinity',
    '9999999999999999999999',
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999Z',
    '2026-02-30T25:61:61Z',
    '1970-01-01T00:00:00Z',
    '=cmd|calc',
    'critical',
    'admin',
  ) },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 63, Number.MAX_SAFE_INTEGER + 2, 0.5, -0.5, 8.64e15 + 1, true, false, null, [], {}, [null], { a: '\u0000' }) },
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.jsonValue({ maxDepth: 3 }),
)

/** A plausible value for a schema (so that the one hostile field is what the server meets). */
function plausible(s: Schema | undefined): unknown {
  if (!s) return 'x'
  if (s.enum && s.enum.length > 0) return s.enum[0]
  const alt = s.anyOf ?? s.oneOf
  if (alt?.[0]) return plausible(alt[0])
  const type: string = (Array.isArray(s.type) ? s.type[0] : s.type) ?? 'string'
  switch (type) {
    case 'integer':
    case 'number':
      return 1
    case 'boolean':
      return true
    case 'array':
      return [plausible(s.items)]
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, plausible(v)]))
    default:
      return s.format === 'date-time' ? '2026-05-01T00:00:00Z' : 'fz-1'
  }
}

type Mutation =
  | { kind: 'path'; index: number; value: string }
  | { kind: 'query'; index: number; value: unknown; others: unknown[] }
  | { kind: 'body-field'; index: number; value: unknown; drop: boolean }
  | { kind: 'body-whole'; value: unknown }
  | { kind: 'body-deep'; steps: number[]; value: unknown }
  | { kind: 'raw-body'; text: string; contentType: string }

const rawBodies = fc.record({
  text: fc.oneof(fc.constantFrom('{', '{"a":', 'null', '[]', '"\u0000"', '{"__proto__":{"x":1}}', '{"a":1}'.repeat(3), 'x'.repeat(2 * 1024 * 1024)), fc.string({ unit: 'binary', maxLength: 200 })),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/json; charset=latin1'),
})

/** Path segments that are not ids: encoded NUL, invalid UTF-8, dot segments, huge ones. */
const badSegment = fc.oneof(
  fc.constantFrom('%00', 'a%00b', '%ED%A0%80', '%FF', '%', '..', 'x'.repeat(5000), '0', '-1', '9999999999999999999999', '1e400', 'NaN', '%20'),
  fc.string({ unit: 'binary', maxLength: 30 }).map(encodeSafely),
)

function encodeSafely(s: string): string {
  // encodeURIComponent throws on lone surrogates; send their replacement bytes instead.
  return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))
}

function mutations(params: Param[], body: Schema | undefined): fc.Arbitrary<Mutation> {
  const path = params.filter((p) => p.in === 'path')
  const query = params.filter((p) => p.in === 'query')
  const fields = Object.keys(body?.properties ?? {})
  const options: fc.Arbitrary<Mutation>[] = []
  if (path.length > 0) options.push(fc.record({ kind: fc.constant('path' as const), index: fc.nat(path.length - 1), value: badSegment }))
  if (query.length > 0) {
    // One hostile parameter, the others absent, plausible (null) or hostile too (extreme ranges).
    const others = fc.array(fc.oneof(fc.constant(undefined), fc.constant(null), hostile), { minLength: query.length, maxLength: query.length })
    options.push(fc.record({ kind: fc.constant('query' as const), index: fc.nat(query.length - 1), value: hostile, others }))
  }
  if (body) {
    if (fields.length > 0) options.push(fc.record({ kind: fc.constant('body-field' as const), index: fc.nat(fields.length - 1), value: hostile, drop: fc.boolean() }))
    options.push(fc.record({ kind: fc.constant('body-whole' as const), value: hostile }))
    // A plausible body with one value somewhere inside (a rule's scope, a list item) made hostile.
    options.push(fc.record({ kind: fc.constant('body-deep' as const), steps: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), value: hostile }))
  }
  options.push(rawBodies.map((r) => ({ kind: 'raw-body' as const, ...r })))
  return fc.oneof(...options)
}

function queryString(entries: [string, unknown][]): string {
  const parts = entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeSafely(typeof v === 'string' ? v : json(v))}`)
  return parts.length > 0 ? `?${parts.join('&')}` : ''
}

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('OpenAPI fuzz: generated invalid requests', () => {
  let api: Awaited<ReturnType<typeof apiOnPostgres>>
  let app: App
  let token: string

  beforeAll(async () => {
    api = await apiOnPostgres()
    app = api.app
    token = api.token
  })

  afterAll(() => api.close())

  it('answers every operation with a catalogued 4xx (or success), never a 5xx', { timeout: 120_000 }, async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json<Doc>()
    const failures: string[] = []
    let requests = 0
    for (const [pathTemplate, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const params = op.parameters ?? []
        const bodySchema = op.requestBody?.content?.['application/json']?.schema
        // The live stream stays open when a request is valid; send it only what cannot open one.
        const streaming = pathTemplate.endsWith('/stream')
        const arb = fc.record({ mutation: mutations(params, bodySchema), authed: fc.boolean() })
        await fc.assert(
          fc.asyncProperty(arb, async ({ mutation, authed }) => {
            if (streaming && authed && mutation.kind !== 'query') return
            if (streaming && authed && mutation.kind === 'query' && opensStream(mutation.value)) return
            let path = pathTemplate
            const pathParams = params.filter((p) => p.in === 'path')
            pathParams.forEach((p, i) => {
              const v = mutation.kind === 'path' && mutation.index === i ? mutation.value : knownId(pathTemplate)
              path = path.replace(`{${p.name}}`, v)
            })
            const sent = params
              .filter((p) => p.in === 'query')
              .flatMap((p, i): [string, unknown][] => {
                if (mutation.kind !== 'query') return []
                if (mutation.index === i) return [[p.name, mutation.value]]
                const other = mutation.others[i]
                if (other === undefined) return []
                return [[p.name, other === null ? plausible(p.schema) : other]]
              })
            // The feed's long poll waits up to `wait` seconds when the request is valid: keep the fuzz quick.
            if (authed && pathTemplate.endsWith('/feed') && sent.some(([k, v]) => k === 'wait' && Number(v) >= 1)) return
            const headers: Record<string, string> = authed ? { authorization: `Bearer ${token}` } : {}
            let payload: string | undefined
            if (method !== 'get' && method !== 'delete') {
              const body = plausible(bodySchema) as Record<string, unknown> | undefined
              headers['content-type'] = 'application/json'
              if (mutation.kind === 'body-field' && body && typeof body === 'object') {
                const key = Object.keys(bodySchema?.properties ?? {})[mutation.index] ?? ''
                payload = JSON.stringify(mutation.drop ? Object.fromEntries(Object.entries(body).filter(([k]) => k !== key)) : { ...body, [key]: mutation.value })
              } else if (mutation.kind === 'body-whole') payload = json(mutation.value)
              else if (mutation.kind === 'body-deep') payload = json(replaceDeep(body, mutation.steps, mutation.value))
              else if (mutation.kind === 'raw-body') {
                payload = mutation.text
                headers['content-type'] = mutation.contentType
              } else payload = JSON.stringify(body ?? {})
            }
            requests++
            const res = await app.inject({ method: method.toUpperCase() as 'GET', url: `${path}${queryString(sent)}`, headers, ...(payload === undefined ? {} : { payload }) })
            const where = `${method.toUpperCase()} ${pathTemplate} ${JSON.stringify(mutation).slice(0, 300)} authed=${authed}`
            if (res.statusCode >= 500) failures.push(`${res.statusCode} ${where}: ${res.body.slice(0, 200)}`)
            else if (res.statusCode >= 400) {
              const body = safeJson(res.body)
              if (!body || typeof body.code !== 'string' || !(body.code in ERRORS) || typeof body.message !== 'string') failures.push(`${res.statusCode} uncatalogued ${where}: ${res.body.slice(0, 200)}`)
            }
          }),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        )
      }
    }
    console.log(`openapi fuzz: seed ${SEED}, ${requests} requests over ${Object.keys(doc.paths).length} paths, ${failures.length} failures`)
    expect(failures.slice(0, 40)).toEqual([])
  })
})

/** A copy of `value` with what `steps` lead to (an index into the keys at each level) replaced. */
function replaceDeep(value: unknown, steps: number[], replacement: unknown): unknown {
  const [step, ...rest] = steps
  if (step === undefined || value === null || typeof value !== 'object') return replacement
  const entries = Object.entries(value)
  if (entries.length === 0) return replacement
  const key = entries[step % entries.length]?.[0] ?? ''
  const next = Object.fromEntries(entries.map(([k, v]) => [k, k === key ? replaceDeep(v, rest, replacement) : v]))
  return Array.isArray(value) ? Object.values(next) : next
}

/** JSON text of a value; `undefined` (which JSON.stringify returns for it at run time) as null. */
function json(v: unknown): string {
  return v === undefined ? 'null' : JSON.stringify(v)
}

/** An id that exists (seeded), so a request gets past "not found" to its query and body. */
function knownId(pathTemplate: string): string {
  if (pathTemplate.startsWith('/api/v1/devices/')) return 'mh-1'
  if (pathTemplate.includes('/companies/')) return 'co-test'
  if (pathTemplate.includes('/communities/')) return 'cm-test'
  return '1'
}

/** Whether a value sent as `after` is a valid event id (the stream would then stay open). */
function opensStream(v: unknown): boolean {
  const n = Number(typeof v === 'string' ? v : JSON.stringify(v))
  return Number.isInteger(n) && n >= 0
}

function safeJson(text: string): { code?: unknown; message?: unknown } | undefined {
  try {
    return JSON.parse(text) as { code?: unknown; message?: unknown }
  } catch {
    return undefined
  }
}
