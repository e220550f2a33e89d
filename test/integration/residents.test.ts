// A resident's hazard report goes the whole way: it becomes an alert dispatched to the company,
// a crew acknowledges and resolves it, the resident rates it, and the company's satisfaction moves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { apiFor } from '../helpers/api.ts'

let db: Db
let app: App
const h = {} as Record<'admin' | 'crew' | 'resident' | 'neighbour', Record<string, string>>

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  await createCompany(db, { id: 'co-a', name: 'Alpha Property', contact: null })
  for (const cm of ['cm-a', 'cm-b']) {
    await createCommunity(db, cm, { name: cm, district: 'Minhang', street: null, address: null, lat: null, lon: null })
    await assignCommunity(db, cm, 'co-a', 'fixture', null)
  }
  const api = await apiFor(db, features)
  app = api.app
  h.admin = { authorization: `Bearer ${api.token}` }
  const token = async (name: string, role: 'crew' | 'resident', binding: { companyId?: string; communityId?: string }) =>
    ({ authorization: `Bearer ${(await issueToken(db, await insertUser(db, { name, role, ...binding }))).token}` })
  h.crew = await token('wang-crew', 'crew', { companyId: 'co-a' })
  h.resident = await token('li-resident', 'resident', { communityId: 'cm-a' })
  h.neighbour = await token('zhao-resident', 'resident', { communityId: 'cm-b' })
})

afterAll(async () => {
  await app.close()
  await db.close()
})

const satisfaction = async () => {
  const res = await app.inject({ url: '/api/v1/evaluation/companies/co-a', headers: h.admin })
  return res.json<{ company: { satisfaction: { mean: number | null; count: number; raters: number } } }>().company.satisfaction
}

describe('resident hazard report', () => {
  it('is reported, dispatched, acknowledged, resolved and rated, and the rating moves satisfaction', async () => {
    // Feedback first: the baseline of the company's satisfaction.
    expect((await app.inject({ method: 'POST', url: '/api/v1/communities/cm-a/feedback', headers: h.resident, payload: { rating: 2, comment: 'slow to answer' } })).statusCode).toBe(201)
    expect(await satisfaction()).toEqual({ mean: 2, count: 1, raters: 1 })

    const report = await app.inject({
      method: 'POST',
      url: '/api/v1/hazards',
      headers: h.resident,
      payload: { title: 'Manhole cover missing', description: 'Open hole by the bike shed', location: 'Building 7, east entrance', photoUrl: 'https://photos.example/hole.jpg' },
    })
    expect(report.statusCode).toBe(201)
    const alert = report.json<{ id: number; source: string; companyId: string; communityId: string; state: string; location: string; reportedBy: string }>()
    expect(alert).toMatchObject({ source: 'resident', companyId: 'co-a', communityId: 'cm-a', state: 'open', location: 'Building 7, east entrance', reportedBy: 'li-resident' })

    // The crew of the company sees it in its list and works it.
    const list = (await app.inject({ url: '/api/v1/alerts?state=open', headers: h.crew })).json<{ items: { id: number }[] }>()
    expect(list.items.map((a) => a.id)).toContain(alert.id)
    // Too early to rate: it is not resolved yet.
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${alert.id}/rating`, headers: h.resident, payload: { rating: 5 } })).statusCode).toBe(409)
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${alert.id}/ack`, headers: h.crew, payload: { note: 'coming with a cover' } })).statusCode).toBe(200)
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${alert.id}/resolve`, headers: h.crew, payload: { note: 'new cover fitted' } })).statusCode).toBe(200)

    // A resident of another community cannot rate it (not found); the reporter can.
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${alert.id}/rating`, headers: h.neighbour, payload: { rating: 1 } })).statusCode).toBe(404)
    const bad = await app.inject({ method: 'POST', url: `/api/v1/alerts/${alert.id}/rating`, headers: h.resident, payload: { rating: 7 } })
    expect(bad.statusCode).toBe(400)
    expect(bad.json<{ message: string }>().message).toMatch(/rating must be 1 to 5/)
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${alert.id}/rating`, headers: h.resident, payload: { rating: 5, comment: 'fixed the same day' } })).statusCode).toBe(201)

    expect(await satisfaction()).toEqual({ mean: 3.5, count: 2, raters: 1 })
    const history = (await app.inject({ url: `/api/v1/alerts/${alert.id}`, headers: h.resident })).json<{ history: { type: string; actor: string }[] }>().history
    expect(history.map((e) => [e.type, e.actor])).toEqual([
      ['raised', 'li-resident'],
      ['acknowledged', 'wang-crew'],
      ['resolved', 'wang-crew'],
    ])
  })

  it("shows a resident their own reports and what the office made public, with the crew's public note and the rating they gave after a reload", async () => {
    const { AlertService, DEFAULT_DEADLINES } = await import('../../alerts/service.ts')
    const { provisionDevices } = await import('../../core/provision.ts')
    const alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger)
    // A sensor alert of the community: not for residents until the office says so.
    await provisionDevices(db, [{ id: 'el-r1', kind: 'elevator', communityId: 'cm-a' }])
    const { alert: sensor } = await alerts.report({ ruleId: 'lift-fault', deviceId: 'el-r1', condition: 'active', source: 'operator', severity: 'major', title: 'Lift out of service' }, 'operator')
    if (!sensor) throw new Error('no sensor alert')
    const mine = (await app.inject({ method: 'POST', url: '/api/v1/hazards', headers: h.resident, payload: { title: 'Stairwell light out', location: 'Building 2' } })).json<{ id: number }>().id
    type Listed = { id: number; publicNote: string | null; myRating: { rating: number; comment: string | null } | null }
    const listed = async () => (await app.inject({ url: '/api/v1/alerts?limit=50', headers: h.resident })).json<{ items: Listed[] }>().items
    expect((await listed()).map((a) => a.id)).not.toContain(sensor.id)
    expect((await app.inject({ url: `/api/v1/alerts/${sensor.id}`, headers: h.resident })).statusCode).toBe(404)
    // The office makes the lift's alert public; the crew resolves it with a note for the residents.
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${sensor.id}/publish`, headers: h.admin, payload: { public: true } })).json()).toMatchObject({ public: true })
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${sensor.id}/publish`, headers: h.crew, payload: { public: true } })).statusCode).toBe(403)
    await app.inject({ method: 'POST', url: `/api/v1/alerts/${sensor.id}/resolve`, headers: h.crew, payload: { note: '电梯已恢复运行，被困人员已安全撤离', public: true } })
    await app.inject({ method: 'POST', url: `/api/v1/alerts/${mine}/resolve`, headers: h.crew, payload: { note: 'internal: replaced the ballast' } })
    const now = await listed()
    expect(now.find((a) => a.id === sensor.id)?.publicNote).toBe('电梯已恢复运行，被困人员已安全撤离')
    // A note not marked public stays with the crew.
    expect(now.find((a) => a.id === mine)?.publicNote).toBeNull()
    // The rating the resident gave comes back with the list, comment included.
    expect(now.find((a) => a.id === mine)?.myRating).toBeNull()
    await app.inject({ method: 'POST', url: `/api/v1/alerts/${mine}/rating`, headers: h.resident, payload: { rating: 4, comment: '修得挺快' } })
    expect((await listed()).find((a) => a.id === mine)?.myRating).toEqual({ rating: 4, comment: '修得挺快' })
    // The other community's resident sees neither.
    expect((await app.inject({ url: `/api/v1/alerts/${sensor.id}`, headers: h.neighbour })).statusCode).toBe(404)
  })

  it('tells a resident what is missing from a report', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/hazards', headers: h.resident, payload: { title: 'x' } })
    expect(res.statusCode).toBe(400)
    expect(res.json<{ message: string }>().message).toMatch(/title: say in a few words|location/)
    const elsewhere = await app.inject({ method: 'POST', url: '/api/v1/hazards', headers: h.resident, payload: { communityId: 'cm-b', title: 'Leak', location: 'Lobby' } })
    expect(elsewhere.statusCode).toBe(404)
  })
})
