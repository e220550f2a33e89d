// Generated hostile requests against every receiver route, which the OpenAPI fuzz
// (openapi.fuzz.test.ts) does not reach — OneNET (URL check and push), CTWing, the HTTP device API
// and RabbitMQ's HTTP auth backend — on PostgreSQL, with a real ingest behind them: null, arrays,
// numbers, strings, 10,000 levels of nesting, 2 MiB bodies, wrong content types, broken UTF-8, and
// correctly signed / authenticated requests carrying hostile messages, so the generated input gets
// past the signature to the parsing, the device lookup and the pipeline (issue 18, item 5).
// The promise: no 5xx, ever; every 4xx is `{ code, message }` from the catalogue.
// Seeded (FUZZ_SEED overrides) and bounded (FUZZ_RUNS per case) so it stays well under a minute.
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ERRORS } from '../../core/errors.ts'
import { provisionDevices } from '../../core/provision.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { hasPostgres } from '../helpers/services.ts'
import { COMMUNITY } from '../helpers/stack.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 20261207)
const RUNS = Number(process.env.FUZZ_RUNS ?? 60)
const ONENET = 'fuzz-onenet-token'
const CTWING = 'fuzz-ctwing-token'
const RABBIT_KEY = 'fuzz-rabbit-key'
const IMEI = '869975030012345'

const pgUp = await hasPostgres()

/** Values no well-behaved sender puts anywhere. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a\u0000b', '\uD800', 'x'.repeat(20_000), '', '  ', '1e400', 'NaN', '-1', '00', 'ff', 'zz', '9999999999999999999999', '__proto__', IMEI, 'mh-1', 'mh-nb', 'mh-open') },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, 1, 2, 7, 1e308, -1e308, 2 ** 63, 0.5, 8.64e15 + 1, Date.now(), true, false, null, [], {}, [null], { a: '\u0000' }) },
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 3 }),
)

/** Bodies as bytes on the wire, with the content type they claim. */
const rawBody = fc.record({
  text: fc.oneof(
    fc.constantFrom('', 'null', '[]', '{}', '0', '"x"', 'true', '{', '{"a":', '[{}]', '{"__proto__":{"x":1}}', '\u0000', '\uFEFF{}', `${'['.repeat(10_000)}${']'.repeat(10_000)}`, `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`, 'x'.repeat(2 * 1024 * 1024)),
    fc.string({ unit: 'binary', maxLength: 200 }),
    hostile.map((v) => json(v)),
  ),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'image/png'),
})

/** A field of a platform message: mostly plausible, sometimes hostile. */
const field = <T>(plausible: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: plausible }, hostile)
const deviceRef = fc.constantFrom('mh-1', 'mh-nb', 'mh-open', 'nobody', '2016617')

const onenetMessage = fc.record(
  {
    type: field(fc.constantFrom(1, 2, 7)),
    dev_id: field(deviceRef),
    imei: field(fc.constantFrom(IMEI, '860000000000000')),
    ds_id: field(fc.constantFrom('cover_tilt_deg', 'battery_pct', 'water_level_cm', 'unknown')),
    at: field(fc.integer({ min: Date.now() - 86_400_000, max: Date.now() })),
    value: field(fc.oneof(fc.double({ min: -10, max: 100, noNaN: true }), fc.constantFrom('81', '0A0B', 'nan'))),
    status: field(fc.constantFrom(0, 1)),
  },
  { requiredKeys: [] },
)

const ctwingMessage = fc.record(
  {
    messageType: field(fc.constantFrom('dataReport', 'deviceOnlineOfflineReport', 'commandResponse')),
    deviceId: field(deviceRef),
    IMEI: field(fc.constantFrom(IMEI, '860000000000000')),
    timestamp: field(fc.integer({ min: Date.now() - 86_400_000, max: Date.now() })),
    eventType: field(fc.constantFrom(0, 1)),
    payload: field(
      fc.oneof(
        fc.record({ serviceData: field(fc.dictionary(fc.constantFrom('cover_tilt_deg', 'battery_pct', 'x'), hostile, { maxKeys: 3 })) }),
        fc.record({ APPdata: field(fc.base64String({ maxLength: 40 })) }),
      ),
    ),
  },
  { requiredKeys: [] },
)

const entry = fc.record({ ts: field(fc.integer({ min: Date.now() - 86_400_000, max: Date.now() })), values: field(fc.dictionary(fc.constantFrom('cover_tilt_deg', 'battery_pct', 'speed_mps', ''), field(fc.double({ min: 0, max: 10, noNaN: true })), { maxKeys: 3 })), seq: field(fc.nat()) }, { requiredKeys: ['values'] })

let nonces = 0
/** OneNET's documented signature, Base64(MD5(token + nonce + msg)), over the msg text as sent. */
function signed(msgText: string, extra = ''): string {
  const nonce = `fz${SEED}-${nonces++}`
  const signature = createHash('md5').update(ONENET + nonce + msgText, 'utf8').digest('base64')
  return `{"msg":${msgText}${extra},"msg_signature":"${signature}","nonce":"${nonce}"}`
}

interface Request {
  method: 'GET' | 'POST'
  url: string
  headers: Record<string, string>
  payload?: string
}

/** A JSON text of a value; `undefined`, which JSON.stringify returns for it at run time, as null. */
function json(v: unknown): string {
  return v === undefined ? 'null' : JSON.stringify(v)
}

function encode(v: unknown): string {
  const s = typeof v === 'string' ? v : json(v)
  // encodeURIComponent throws on lone surrogates; send their replacement bytes instead.
  return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))
}

describe.skipIf(!pgUp)('receiver fuzz: generated hostile requests to every receiver route', () => {
  let receivers: ReceiverStack
  let basic: string

  beforeAll(async () => {
    receivers = await startReceivers({ onenetPushToken: ONENET, ctwingPushToken: CTWING, rabbitmqAuth: { key: RABBIT_KEY, vhost: '/', exchange: 'amq.topic', maxConcurrent: 4 } })
    const db = receivers.stack.db
    await provisionDevices(db, [
      { id: 'mh-nb', kind: 'manhole', communityId: COMMUNITY },
      { id: 'mh-open', kind: 'manhole', communityId: COMMUNITY, platformIdFallback: true },
    ])
    await updateDevice(db, 'mh-nb', { imei: IMEI })
    basic = `Basic ${Buffer.from(`mh-1:${receivers.stack.creds.get('mh-1')?.secret ?? ''}`).toString('base64')}`
  })

  afterAll(() => receivers.stop())

  const raw = (method: 'GET' | 'POST', url: string, r: { text: string; contentType: string }, headers: Record<string, string> = {}): Request => ({ method, url, headers: { 'content-type': r.contentType, ...headers }, payload: r.text })
  const jsonPost = (url: string, payload: string, headers: Record<string, string> = {}): Request => ({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload })
  const rabbitPaths = ['user', 'vhost', 'resource', 'topic'] as const
  const rabbitField = fc.constantFrom('username', 'password', 'vhost', 'client_id', 'ip', 'resource', 'name', 'permission', 'routing_key', 'variable_map.client_id')

  /** Each receiver route, with the requests that reach it; every case runs RUNS times. */
  const cases: Record<string, fc.Arbitrary<Request>> = {
    'POST /ingest/v1/onenet, any bytes': rawBody.map((r) => raw('POST', '/ingest/v1/onenet', r)),
    'POST /ingest/v1/onenet, signed hostile messages': fc
      .oneof(onenetMessage.map(json), fc.array(onenetMessage, { maxLength: 5 }).map(json), hostile.map(json), fc.constantFrom('[]', '[[]]', `[${'{"type":1,"dev_id":"mh-open","ds_id":"battery_pct","value":1,"at":1},'.repeat(1000)}null]`))
      .map((msg) => jsonPost('/ingest/v1/onenet', signed(msg))),
    'POST /ingest/v1/onenet, signed with a member repeated': fc.tuple(onenetMessage.map(json), fc.constantFrom('msg', 'nonce', 'msg_signature', 'x')).map(([msg, key]) => jsonPost('/ingest/v1/onenet', signed(msg, `,"${key}":${msg}`))),
    'GET /ingest/v1/onenet, URL check': fc.record({ msg: hostile, nonce: hostile, signature: hostile }, { requiredKeys: [] }).map((q) => ({ method: 'GET' as const, url: `/ingest/v1/onenet?${Object.entries(q).map(([k, v]) => `${k}=${encode(v)}`).join('&')}`, headers: {} })),
    'POST /ingest/v1/ctwing, any bytes': fc.tuple(rawBody, fc.boolean()).map(([r, withToken]) => raw('POST', `/ingest/v1/ctwing${withToken ? `?token=${CTWING}` : ''}`, r)),
    'POST /ingest/v1/ctwing, hostile pushes': fc.oneof(ctwingMessage.map(json), fc.array(ctwingMessage, { maxLength: 3 }).map(json)).map((body) => jsonPost(`/ingest/v1/ctwing?token=${CTWING}`, body)),
    'POST /ingest/v1/devices/{id}/telemetry, any bytes': fc.tuple(rawBody, fc.constantFrom('', '?fPort=1', '?fPort=-1', '?fPort=x', '?fPort=1e400')).map(([r, q]) => raw('POST', `/ingest/v1/devices/mh-1/telemetry${q}`, r, { authorization: basic })),
    'POST /ingest/v1/devices/{id}/telemetry, hostile entries': fc.oneof(entry.map(json), fc.array(entry, { maxLength: 50 }).map(json), fc.array(entry, { minLength: 1, maxLength: 3 }).map((es) => json(Array.from({ length: 1000 }, (_, i) => es[i % es.length])))).map((body) => jsonPost('/ingest/v1/devices/mh-1/telemetry', body, { authorization: basic })),
    'POST /ingest/v1/devices/{id}/telemetry, hostile ids and credentials': fc.tuple(fc.constantFrom('%00', '%FF', '..', 'x'.repeat(300), 'mh-1', 'nobody'), hostile).map(([id, who]) => jsonPost(`/ingest/v1/devices/${id}/telemetry`, '{"values":{"battery_pct":1}}', { authorization: typeof who === 'string' ? `Basic ${Buffer.from(who).toString('base64')}` : `Bearer ${json(who)}` })),
    'GET /rabbitmq/auth/{key}/…': fc.tuple(fc.constantFrom(...rabbitPaths), fc.dictionary(rabbitField, hostile, { maxKeys: 6 }), fc.boolean()).map(([p, q, rightKey]) => ({
      method: 'GET' as const,
      url: `/rabbitmq/auth/${rightKey ? RABBIT_KEY : 'wrong'}/${p}?${Object.entries(q).map(([k, v]) => `${encodeURIComponent(k)}=${encode(v)}`).join('&')}`,
      headers: {},
    })),
    'POST /rabbitmq/auth/{key}/…': fc.tuple(fc.constantFrom(...rabbitPaths), fc.oneof(rawBody, fc.dictionary(rabbitField, hostile, { maxKeys: 6 }).map((f) => ({ text: Object.entries(f).map(([k, v]) => `${encodeURIComponent(k)}=${encode(v)}`).join('&'), contentType: 'application/x-www-form-urlencoded' })))).map(([p, r]) => raw('POST', `/rabbitmq/auth/${RABBIT_KEY}/${p}`, r)),
  }

  it('answers every receiver route with a catalogued 4xx (or success), never a 5xx', { timeout: 240_000 }, async () => {
    const failures: string[] = []
    const statuses = new Map<string, number>()
    let requests = 0
    for (const [name, arb] of Object.entries(cases)) {
      await fc.assert(
        fc.asyncProperty(arb, async (req) => {
          requests++
          const res = await receivers.app.inject({ method: req.method, url: req.url, headers: req.headers, ...(req.payload === undefined ? {} : { payload: req.payload }) })
          const key = `${name} → ${res.statusCode}`
          statuses.set(key, (statuses.get(key) ?? 0) + 1)
          const where = `${name}: ${req.method} ${req.url.slice(0, 120)} ${(req.payload ?? '').slice(0, 200)}`
          if (res.statusCode >= 500) failures.push(`${res.statusCode} ${where}: ${res.body.slice(0, 200)}`)
          else if (res.statusCode >= 400) {
            const body = safeJson(res.body)
            if (!body || typeof body.code !== 'string' || !(body.code in ERRORS) || typeof body.message !== 'string') failures.push(`${res.statusCode} uncatalogued ${where}: ${res.body.slice(0, 200)}`)
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      )
    }
    console.log(`receiver fuzz: seed ${SEED}, ${requests} requests over ${Object.keys(cases).length} cases, ${failures.length} failures`)
    console.log([...statuses].map(([k, n]) => `  ${k}: ${n}`).join('\n'))
    expect(failures.slice(0, 40)).toEqual([])
  })
})

function safeJson(text: string): { code?: unknown; message?: unknown } | undefined {
  try {
    return JSON.parse(text) as { code?: unknown; message?: unknown }
  } catch {
    return undefined
  }
}
