// Residents are bounded (issue 18, item 6): one resident's burst of hazard reports or photos stops
// at their limits — concurrent requests included — with 429, a code, Retry-After and a message
// saying when; other residents are untouched; the window slides. And only the reporter rates
// their report (item 7). Through the real API on the real PostgreSQL server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { Db } from '../../core/db/client.ts'
import { apiFor, districtPeople, postgresDistrict } from '../helpers/api.ts'
import { tinyPng } from '../helpers/images.ts'
import { hasPostgres } from '../helpers/services.ts'

const pg = await hasPostgres()
const T0 = Date.UTC(2026, 2, 4, 2, 0)
const H = 3_600_000
let now = T0
let db: Db
let drop: () => Promise<void>
let app: App
const h = {} as Record<'admin' | 'crew' | 'li' | 'zhou' | 'sun', Record<string, string>>

const report = (who: Record<string, string>, title = 'Manhole cover missing') =>
  app.inject({ method: 'POST', url: '/api/v1/hazards', headers: who, payload: { title, location: 'Building 7, east entrance' } })
const photo = (id: number, who: Record<string, string>, body: Buffer) =>
  app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/photos`, headers: { ...who, 'content-type': 'image/png' }, payload: body })
/** A PNG of exactly `bytes` bytes (the signature is what is checked). */
const pngOf = (bytes: number) => Buffer.concat([tinyPng(), Buffer.alloc(bytes - tinyPng().length)])

describe.skipIf(!pg)('residents are bounded', () => {
  beforeAll(async () => {
    const district = await postgresDistrict()
    db = district.db
    drop = district.drop
    const api = await apiFor(db, district.features, { photos: { maxBytes: 4096, perAlert: 10 }, residents: { reportsPerHour: 5, reportsPerDay: 8, photoBytesPerDay: 10_000 } }, undefined, () => new Date(now))
    app = api.app
    Object.assign(h, { admin: { authorization: `Bearer ${api.token}` } }, await districtPeople(db))
  })

  afterAll(async () => {
    await app.close()
    await db.close()
    await drop()
  })

  it('fifty concurrent reports from one resident: five alerts, the rest 429 report_limit with Retry-After and when', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => report(h.li, `Burst ${i}`)))
    expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(5)
    const refused = answers.filter((r) => r.statusCode !== 201)
    expect(refused).toHaveLength(45)
    for (const r of refused) {
      expect(r.statusCode).toBe(429)
      expect(r.json()).toMatchObject({ code: 'report_limit' })
      expect(r.headers['retry-after']).toBe(String(H / 1000))
    }
    expect(refused[0]?.json<{ message: string }>().message).toMatch(/5 hazard reports in the last hour.*RESIDENT_REPORTS_PER_HOUR.*again at 03:00 UTC/)
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM alerts WHERE reported_by = 'li-resident'`)
    expect(row?.n).toBe(5)
    // Another resident is not held back by Li, nor is the office.
    expect((await report(h.zhou)).statusCode).toBe(201)
    expect((await app.inject({ method: 'POST', url: '/api/v1/hazards', headers: h.admin, payload: { communityId: 'cm-a', title: 'Office report', location: 'Gate' } })).statusCode).toBe(201)
  })

  it('the window slides: an hour after the first report one more fits; the day holds RESIDENT_REPORTS_PER_DAY', async () => {
    now = T0 + 30 * 60_000
    const half = await report(h.li)
    expect(half.statusCode).toBe(429)
    expect(Number(half.headers['retry-after'])).toBe(30 * 60)
    now = T0 + H + 1000
    for (let i = 0; i < 3; i++) expect((await report(h.li)).statusCode).toBe(201)
    // Eight in the day: the daily limit speaks now, and frees a day after the first report.
    const day = await report(h.li)
    expect(day.statusCode).toBe(429)
    expect(day.json<{ message: string }>().message).toMatch(/8 hazard reports in the last 24 hours.*RESIDENT_REPORTS_PER_DAY/)
    expect(Number(day.headers['retry-after'])).toBe(23 * 3600 - 1)
    now = T0 + 24 * H + 1000
    expect((await report(h.li)).statusCode).toBe(201)
  })

  it('photo bytes per resident per day: concurrent uploads stop at the quota with 429 photo_quota; crews are not bounded', async () => {
    const id = (await report(h.sun)).json<{ id: number }>().id
    const answers = await Promise.all(Array.from({ length: 6 }, () => photo(id, h.sun, pngOf(3000))))
    expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(3)
    const refused = answers.find((r) => r.statusCode === 429)
    expect(refused?.json()).toMatchObject({ code: 'photo_quota' })
    expect(refused?.json<{ message: string }>().message).toMatch(/RESIDENT_PHOTO_BYTES_PER_DAY.*again at/)
    expect(Number(refused?.headers['retry-after'])).toBe(24 * 3600)
    const [stored] = await db.query<{ bytes: number }>(`SELECT COALESCE(sum(size), 0)::int AS bytes FROM alert_photos WHERE uploaded_by = 'sun-resident'`)
    expect(stored?.bytes).toBe(9000)
    // A refused upload is not counted: a smaller photo that fits still goes in.
    expect((await photo(id, h.sun, pngOf(1000))).statusCode).toBe(201)
    for (let i = 0; i < 4; i++) expect((await photo(id, h.crew, pngOf(3000))).statusCode).toBe(201)
  })

  it('a resident rates only their own report; a neighbour of the same community may not', async () => {
    const id = (await report(h.zhou, 'Water leaking in the lift shaft')).json<{ id: number }>().id
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/resolve`, headers: h.crew, payload: { note: 'pipe sealed' } })).statusCode).toBe(200)
    const neighbour = await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/rating`, headers: h.sun, payload: { rating: 1 } })
    // The neighbour does not even see the report (404); made public, it could be seen but still not rated.
    expect(neighbour.statusCode).toBe(404)
    await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/publish`, headers: h.admin, payload: { public: true } })
    const seen = await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/rating`, headers: h.sun, payload: { rating: 1 } })
    expect(seen.json()).toMatchObject({ code: 'forbidden' })
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/rating`, headers: h.zhou, payload: { rating: 5 } })).statusCode).toBe(201)
    const [row] = await db.query<{ raters: string[] }>('SELECT array_agg(rated_by) AS raters FROM alert_ratings WHERE alert_id = $1', [id])
    expect(row?.raters).toEqual(['zhou-resident'])
  })
})
