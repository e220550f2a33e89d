// The first API routes through inject(), on the embedded database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { insertDeadLetters } from '../../core/repos/dead-letters.ts'
import { insertReadings, upsertLatest } from '../../core/repos/readings.ts'
import { apiFor } from '../helpers/api.ts'
import { seed } from '../helpers/stack.ts'

let db: Db
let app: App
let auth: { authorization: string }
const T0 = Date.UTC(2026, 4, 1, 0, 0, 0)

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  await seed(db)
  const api = await apiFor(db, features)
  app = api.app
  auth = { authorization: `Bearer ${api.token}` }
  // 10 minutes of one reading every 30 s: value = minute index.
  const n = 20
  const cols = {
    deviceIds: Array<string>(n).fill('ft-1'),
    metrics: Array<string>(n).fill('water_level_m'),
    ts: Array.from({ length: n }, (_, i) => T0 + i * 30_000),
    values: Array.from({ length: n }, (_, i) => Math.floor(i / 2)),
  }
  await insertReadings(db, cols)
  await upsertLatest(db, cols)
})

afterAll(async () => {
  await app.close()
  await db.close()
})

describe('authentication', () => {
  it('requires a bearer token on /api', async () => {
    const res = await app.inject({ url: '/api/v1/devices' })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toMatchObject({ code: 'unauthorized' })
    const bad = await app.inject({ url: '/api/v1/devices', headers: { authorization: 'Bearer hb_nope' } })
    expect(bad.statusCode).toBe(401)
    expect(bad.json<{ message: string }>().message).toMatch(/unknown, revoked or expired/)
  })

  it('leaves /health open', async () => {
    const res = await app.inject({ url: '/health' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'ok', database: 'up', engine: 'pglite', timescaledb: null })
  })
})

describe('devices', () => {
  it('lists devices with keyset pagination', async () => {
    const first = await app.inject({ url: '/api/v1/devices?limit=4', headers: auth })
    expect(first.statusCode).toBe(200)
    const page1 = first.json<{ items: { id: string }[]; nextCursor: string | null }>()
    expect(page1.items.map((d) => d.id)).toEqual(['el-1', 'ft-1', 'gw-1', 'mh-1'])
    const second = await app.inject({ url: `/api/v1/devices?limit=4&cursor=${page1.nextCursor ?? ''}`, headers: auth })
    const page2 = second.json<{ items: { id: string }[]; nextCursor: string | null }>()
    expect(page2.items.map((d) => d.id)).toEqual(['mh-2', 'mh-3'])
    expect(page2.nextCursor).toBeNull()
    const manholes = await app.inject({ url: '/api/v1/devices?kind=manhole&gateway=gw-1', headers: auth })
    expect(manholes.json<{ items: { id: string }[] }>().items.map((d) => d.id)).toEqual(['mh-2', 'mh-3'])
  })

  it('shows one device, and a coded 404 for an unknown one', async () => {
    const res = await app.inject({ url: '/api/v1/devices/mh-2', headers: auth })
    expect(res.json()).toMatchObject({ id: 'mh-2', kind: 'manhole', gatewayId: 'gw-1', enabled: true, status: null })
    const missing = await app.inject({ url: '/api/v1/devices/nope', headers: auth })
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toEqual({ code: 'device_not_found', message: 'No device "nope"' })
  })

  it('returns the latest value per metric', async () => {
    const res = await app.inject({ url: '/api/v1/devices/ft-1/latest', headers: auth })
    expect(res.json<{ values: unknown[] }>().values).toEqual([
      expect.objectContaining({ metric: 'water_level_m', value: 9, ts: new Date(T0 + 19 * 30_000).toISOString() }),
    ])
  })

  it('returns raw readings in time order', async () => {
    const url = `/api/v1/devices/ft-1/readings?metric=water_level_m&from=${new Date(T0).toISOString()}&to=${new Date(T0 + 90_000).toISOString()}`
    const res = await app.inject({ url, headers: auth })
    expect(res.json<{ points: unknown[] }>().points).toEqual([
      { ts: new Date(T0).toISOString(), value: 0 },
      { ts: new Date(T0 + 30_000).toISOString(), value: 0 },
      { ts: new Date(T0 + 60_000).toISOString(), value: 1 },
    ])
  })

  it('buckets readings with avg / min / max / last / count', async () => {
    const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 600_000).toISOString()}`
    const get = async (agg: string) =>
      (await app.inject({ url: `/api/v1/devices/ft-1/readings?metric=water_level_m&bucket=5m&agg=${agg}&${range}`, headers: auth })).json<{
        points: { ts: string; value: number; count: number }[]
      }>().points
    // Minutes 0–4 hold values 0..4 twice each, minutes 5–9 values 5..9.
    expect(await get('avg')).toEqual([
      { ts: new Date(T0).toISOString(), value: 2, count: 10 },
      { ts: new Date(T0 + 300_000).toISOString(), value: 7, count: 10 },
    ])
    expect((await get('min')).map((p) => p.value)).toEqual([0, 5])
    expect((await get('max')).map((p) => p.value)).toEqual([4, 9])
    expect((await get('last')).map((p) => p.value)).toEqual([4, 9])
    expect((await get('count')).map((p) => p.value)).toEqual([10, 10])
  })

  it('explains what to fix in a bad query', async () => {
    const cases: [string, RegExp][] = [
      ['/api/v1/devices/ft-1/readings', /querystring.*metric/],
      ['/api/v1/devices/ft-1/readings?metric=x&bucket=5 minutes', /duration such as 30s, 5m/],
      ['/api/v1/devices/ft-1/readings?metric=x&from=yesterday', /from/],
      ['/api/v1/devices/ft-1/readings?metric=x&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', /from must be before/],
      ['/api/v1/devices/ft-1/readings?metric=x&bucket=1s&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z', /at most 10000/],
      ['/api/v1/devices?kind=toaster', /kind/],
    ]
    for (const [url, message] of cases) {
      const res = await app.inject({ url, headers: auth })
      expect(res.statusCode, url).toBe(400)
      expect(res.json<{ code: string }>().code).toBe('validation_failed')
      expect(res.json<{ message: string }>().message, url).toMatch(message)
    }
  })

  it('answers an unknown route with a coded 404', async () => {
    const res = await app.inject({ url: '/api/v1/nothing', headers: auth })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ code: 'route_not_found' })
  })
})

describe('dead letters', () => {
  it('lists newest first, filters by device and reason, and pages', async () => {
    const at = new Date()
    await insertDeadLetters(
      db,
      ['malformed_json', 'out_of_range', 'out_of_range'].map((reasonCode, i) => ({
        receivedAt: at,
        clientId: 'mh-1',
        topic: 'hb/v1/devices/mh-1/telemetry',
        deviceId: 'mh-1',
        reasonCode: reasonCode as 'malformed_json' | 'out_of_range',
        reason: `reason ${i}`,
        payloadExcerpt: '{}',
      })),
    )
    const all = await app.inject({ url: '/api/v1/dead-letters?device=mh-1', headers: auth })
    expect(all.json<{ items: { reason: string }[] }>().items.map((d) => d.reason)).toEqual(['reason 2', 'reason 1', 'reason 0'])
    const range = await app.inject({ url: '/api/v1/dead-letters?reason=out_of_range&limit=1', headers: auth })
    const page = range.json<{ items: { reason: string }[]; nextCursor: number }>()
    expect(page.items.map((d) => d.reason)).toEqual(['reason 2'])
    const next = await app.inject({ url: `/api/v1/dead-letters?reason=out_of_range&limit=1&cursor=${page.nextCursor}`, headers: auth })
    expect(next.json<{ items: { reason: string }[] }>().items.map((d) => d.reason)).toEqual(['reason 1'])
    const bad = await app.inject({ url: '/api/v1/dead-letters?reason=sadness', headers: auth })
    expect(bad.statusCode).toBe(400)
  })
})

describe('OpenAPI', () => {
  it('documents the routes at /docs/json', async () => {
    const res = await app.inject({ url: '/docs/json' })
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>()
    expect(doc.openapi).toMatch(/^3\./)
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health', '/api/v1/devices', '/api/v1/devices/{id}', '/api/v1/devices/{id}/latest', '/api/v1/devices/{id}/readings', '/api/v1/dead-letters']),
    )
  })
})
