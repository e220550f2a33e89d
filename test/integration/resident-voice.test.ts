// Residents cannot move the ranking by repetition, rate only their own reports, and see
// of their community's alerts only what is theirs or public (issue 7, item 11). Through the API,
// with real resident, crew and office tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { Db } from '../../core/db/client.ts'
import { apiFor, districtPeople, embeddedDistrict } from '../helpers/api.ts'

let db: Db
let app: App
const h = {} as Record<'admin' | 'crew' | 'li' | 'zhou' | 'sun', Record<string, string>>

beforeAll(async () => {
  const district = await embeddedDistrict()
  db = district.db
  const features = district.features
  const api = await apiFor(db, features)
  app = api.app
  Object.assign(h, { admin: { authorization: `Bearer ${api.token}` } }, await districtPeople(db))
})

afterAll(async () => {
  await app.close()
  await db.close()
})

const post = (url: string, headers: Record<string, string>, payload: unknown) => app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> })
const satisfaction = async () =>
  (await app.inject({ url: '/api/v1/evaluation/companies/co-a', headers: h.admin })).json<{ company: { satisfaction: { mean: number | null; count: number; raters: number } } }>().company
    .satisfaction

describe("residents' voice", () => {
  it('keeps one feedback per resident and community: sixty posts count once, the newest', async () => {
    expect((await post('/api/v1/communities/cm-a/feedback', h.zhou, { rating: 1 })).statusCode).toBe(201)
    for (let i = 0; i < 60; i++) expect((await post('/api/v1/communities/cm-a/feedback', h.li, { rating: i === 59 ? 4 : 5 })).statusCode).toBe(201)
    expect(await satisfaction()).toEqual({ mean: 2.5, count: 2, raters: 2 })
    const listed = (await app.inject({ url: '/api/v1/feedback?community=cm-a', headers: h.admin })).json<{ items: { author: string; rating: number }[] }>().items
    expect(listed.map((f) => [f.author, f.rating]).sort()).toEqual([['li-resident', 4], ['zhou-resident', 1]])
  })

  it('keeps one rating per alert, the reporter\'s: a neighbour may not rate it (issue 18)', async () => {
    const report = await post('/api/v1/hazards', h.li, { title: 'Lift stuck', location: 'Building 3', description: 'my neighbour Mr Qian is inside' })
    const id = report.json<{ id: number }>().id
    expect((await post(`/api/v1/alerts/${id}/resolve`, h.crew, { note: 'door sensor replaced' })).statusCode).toBe(200)
    expect((await post(`/api/v1/alerts/${id}/rating`, h.li, { rating: 5 })).statusCode).toBe(201)
    // The neighbour does not see another resident's report (issue 20), let alone rate it.
    expect((await post(`/api/v1/alerts/${id}/rating`, h.zhou, { rating: 1 })).json()).toMatchObject({ code: 'not_found' })
    // Li changes her mind: her own rating is replaced.
    expect((await post(`/api/v1/alerts/${id}/rating`, h.li, { rating: 3 })).statusCode).toBe(201)
    // Feedback 4 and 1, rating 3, from two residents.
    expect(await satisfaction()).toMatchObject({ count: 3, raters: 2 })
    expect((await satisfaction()).mean).toBeCloseTo(8 / 3, 2)
  })

  it("shows a resident another resident's report without its where, picture, description or name, and no crew notes", async () => {
    const report = await post('/api/v1/hazards', h.li, { title: 'Cover missing', location: 'Building 9, flat 402 doorstep', description: 'call me on 138…', photoUrl: 'https://photos.example/x.jpg' })
    const id = report.json<{ id: number }>().id
    expect((await post(`/api/v1/alerts/${id}/ack`, h.crew, { note: 'internal: tenant in 402 is difficult' })).statusCode).toBe(200)
    expect((await post(`/api/v1/alerts/${id}/comment`, h.crew, { note: 'internal: bill the contractor' })).statusCode).toBe(200)

    const seen = async (who: Record<string, string>) => (await app.inject({ url: `/api/v1/alerts/${id}`, headers: who })).json<Record<string, unknown> & { history: { type: string; actor: string; note: string | null }[] }>()
    // A neighbour sees it only once the office makes it public for the community (issue 20)…
    expect((await app.inject({ url: `/api/v1/alerts/${id}`, headers: h.sun })).statusCode).toBe(404)
    expect((await app.inject({ url: '/api/v1/alerts', headers: h.sun })).json<{ items: unknown[] }>().items).toEqual([])
    expect((await post(`/api/v1/alerts/${id}/publish`, h.admin, { public: true })).statusCode).toBe(200)
    // …and then without its where, picture, description or name.
    const bySun = await seen(h.sun)
    expect(bySun).toMatchObject({ id, title: 'Resident report: Cover missing', state: 'acknowledged', location: null, photoUrl: null, reportedBy: null, reason: null })
    expect(bySun.history).toEqual([
      expect.objectContaining({ type: 'raised', actor: 'resident', note: null }),
      expect.objectContaining({ type: 'acknowledged', actor: 'wang-crew', note: null }),
    ])
    const listed = (await app.inject({ url: '/api/v1/alerts', headers: h.sun })).json<{ items: Record<string, unknown>[] }>().items
    const text = JSON.stringify(listed)
    for (const secret of ['li-resident', 'zhou-resident', 'Building 9', 'Building 3', '138', 'Mr Qian', 'photos.example']) expect(text).not.toContain(secret)

    // The reporter sees their own report in full, but not the crew's notes either.
    const byLi = await seen(h.li)
    expect(byLi).toMatchObject({ location: 'Building 9, flat 402 doorstep', reportedBy: 'li-resident', photoUrl: 'https://photos.example/x.jpg' })
    expect(JSON.stringify(byLi.history)).not.toContain('internal')
    // The crew and the office see everything.
    const byCrew = await seen(h.crew)
    expect(byCrew.history.map((e) => e.note)).toEqual(['call me on 138…', 'internal: tenant in 402 is difficult', 'internal: bill the contractor', null])
    expect(byCrew.history.at(-1)?.type).toBe('published')
  })
})
