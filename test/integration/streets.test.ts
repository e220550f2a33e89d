// Streets (街道/镇, issue 22): communities belong to a street; a street officer sees only their
// street's communities, devices, alerts, companies and ranking, and changes nothing; the ranking
// can be cut by street. The roles matrix (roles.test.ts) holds the officer's column for every route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AlertService } from '../../alerts/service.ts'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { eventsAfter } from '../../core/repos/alerts.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { createStreet } from '../../core/repos/streets.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { apiFor } from '../helpers/api.ts'

let db: Db
let app: App
let alerts: AlertService
let office = ''
let officerA = ''
const alertOf: Record<string, number> = {}

// Street A: cm-a1 (co-a) and cm-a2 (co-c). Street B: cm-b (co-b) and cm-b2 (co-c), so co-c is in both.
const COMMUNITIES = [
  { id: 'cm-a1', street: 'st-a', company: 'co-a', device: 'el-a1' },
  { id: 'cm-a2', street: 'st-a', company: 'co-c', device: 'el-a2' },
  { id: 'cm-b', street: 'st-b', company: 'co-b', device: 'el-b' },
  { id: 'cm-b2', street: 'st-b', company: 'co-c', device: 'el-b2' },
]

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  await createStreet(db, { id: 'st-a', name: '莘庄镇', district: '闵行区' })
  await createStreet(db, { id: 'st-b', name: '古美路街道', district: '闵行区' })
  for (const co of ['co-a', 'co-b', 'co-c']) await createCompany(db, { id: co, name: `Company ${co}`, contact: null })
  for (const c of COMMUNITIES) {
    await createCommunity(db, c.id, { name: c.id, district: 'Minhang', street: null, streetId: c.street, address: null, lat: null, lon: null })
    await assignCommunity(db, c.id, c.company, 'fixture', null)
    await provisionDevices(db, [{ id: c.device, kind: 'elevator', communityId: c.id }])
  }
  const api = await apiFor(db, features)
  app = api.app
  alerts = api.alerts
  for (const c of COMMUNITIES) {
    const { alert } = await alerts.report({ ruleId: `r-${c.device}`, deviceId: c.device, condition: 'active', source: 'operator', severity: 'minor', title: 'Lift stuck' }, 'fixture')
    if (!alert) throw new Error('no fixture alert')
    alertOf[c.device] = alert.id
  }
  office = (await issueToken(db, await insertUser(db, { name: 'office', role: 'operator' }))).token
  officerA = (await issueToken(db, await insertUser(db, { name: 'officer-a', role: 'street_officer', streetId: 'st-a' }))).token
})

afterAll(async () => {
  await app.close()
  await db.close()
})

const get = async (token: string, url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
const ids = (body: { items: { id?: string | number; companyId?: string }[] }) => body.items.map((i) => i.id ?? i.companyId).sort()

describe('a street officer', () => {
  it('sees only their street: communities, devices, alerts, companies', async () => {
    expect(ids((await get(officerA, '/api/v1/communities')).json())).toEqual(['cm-a1', 'cm-a2'])
    expect(ids((await get(officerA, '/api/v1/devices')).json())).toEqual(['el-a1', 'el-a2'])
    expect(ids((await get(officerA, '/api/v1/alerts')).json())).toEqual([alertOf['el-a1'], alertOf['el-a2']].sort())
    expect(ids((await get(officerA, '/api/v1/companies')).json())).toEqual(['co-a', 'co-c'])
    expect(ids((await get(officerA, '/api/v1/streets')).json())).toEqual(['st-a'])
    // Naming the other street's things in a filter finds nothing rather than leaking them.
    expect((await get(officerA, '/api/v1/alerts?community=cm-b')).json<{ items: unknown[] }>().items).toEqual([])
    expect((await get(officerA, '/api/v1/communities?streetId=st-b')).json<{ items: unknown[] }>().items).toEqual([])
  })

  it("gets 404 for the other street's alerts, devices, communities, companies and the street itself", async () => {
    for (const url of [`/api/v1/alerts/${alertOf['el-b']}`, '/api/v1/devices/el-b', '/api/v1/communities/cm-b', '/api/v1/companies/co-b', '/api/v1/streets/st-b']) {
      expect((await get(officerA, url)).statusCode, url).toBe(404)
    }
    // A company of both streets is theirs to see; its alert in the other street is not.
    expect((await get(officerA, '/api/v1/companies/co-c')).statusCode).toBe(200)
    expect((await get(officerA, `/api/v1/alerts/${alertOf['el-b2']}`)).statusCode).toBe(404)
    expect((await get(officerA, `/api/v1/alerts/${alertOf['el-a2']}`)).statusCode).toBe(200)
  })

  it("resumes the alert stream with their street's events only", async () => {
    const events = await eventsAfter(db, 0, 100, null, 'st-a')
    expect(new Set(events.map((e) => e.alert.communityId))).toEqual(new Set(['cm-a1', 'cm-a2']))
  })

  it('changes nothing and reads nothing else (403)', async () => {
    const headers = { authorization: `Bearer ${officerA}` }
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${alertOf['el-a1']}/ack`, headers, payload: {} })).statusCode).toBe(403)
    expect((await app.inject({ method: 'POST', url: '/api/v1/streets', headers, payload: { id: 'st-x', name: 'X' } })).statusCode).toBe(403)
    expect((await get(officerA, '/api/v1/evaluation/ranking.csv')).statusCode).toBe(403)
    expect((await get(officerA, '/api/v1/audit')).statusCode).toBe(403)
  })
})

describe('the ranking by street', () => {
  type Ranking = { items: { companyId: string; alerts: number }[] }
  const alertsOf = (r: Ranking) => Object.fromEntries(r.items.map((i) => [i.companyId, i.alerts]))

  it("counts only the street's alerts and lists only its companies", async () => {
    expect(alertsOf((await get(office, '/api/v1/evaluation/ranking')).json<Ranking>())).toEqual({ 'co-a': 1, 'co-b': 1, 'co-c': 2 })
    expect(alertsOf((await get(office, '/api/v1/evaluation/ranking?streetId=st-b')).json<Ranking>())).toEqual({ 'co-b': 1, 'co-c': 1 })
    expect(alertsOf((await get(officerA, '/api/v1/evaluation/ranking')).json<Ranking>())).toEqual({ 'co-a': 1, 'co-c': 1 })
    // An officer asking for another street's gets nothing; an unknown street is 404 for the office.
    expect((await get(officerA, '/api/v1/evaluation/ranking?streetId=st-b')).json<Ranking>().items).toEqual([])
    expect((await get(office, '/api/v1/evaluation/ranking?streetId=nowhere')).statusCode).toBe(404)
    const csv = (await get(office, '/api/v1/evaluation/ranking.csv?streetId=st-a')).body
    expect(csv).toContain('co-a')
    expect(csv).not.toContain('co-b')
  })
})

describe('the office', () => {
  const send = (method: 'POST' | 'PATCH', url: string, payload: object) => app.inject({ method, url, headers: { authorization: `Bearer ${office}` }, payload })

  it('registers streets and sets a community street', async () => {
    const created = await send('POST', '/api/v1/streets', { id: 'st-c', name: '江川路街道', district: '闵行区' })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({ id: 'st-c', name: '江川路街道', communities: 0 })
    expect((await send('POST', '/api/v1/streets', { id: 'st-c', name: 'again' })).statusCode).toBe(409)
    expect((await send('PATCH', '/api/v1/streets/st-c', { name: '江川路街道（新）' })).json()).toMatchObject({ name: '江川路街道（新）' })
    const moved = await send('POST', '/api/v1/communities', { id: 'cm-c', name: 'New', streetId: 'st-c' })
    expect(moved.json()).toMatchObject({ streetId: 'st-c' })
    expect((await send('PATCH', '/api/v1/communities/cm-c', { streetId: null })).json()).toMatchObject({ streetId: null })
    const bad = await send('PATCH', '/api/v1/communities/cm-c', { streetId: 'nowhere' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json<{ message: string }>().message).toContain('no street "nowhere"')
  })

  it('binds a street officer to an existing street', async () => {
    const admin = (await issueToken(db, await insertUser(db, { name: 'admin', role: 'admin' }))).token
    const add = (payload: object) => app.inject({ method: 'POST', url: '/api/v1/users', headers: { authorization: `Bearer ${admin}` }, payload })
    expect((await add({ name: 'so-1', role: 'street_officer' })).statusCode).toBe(400)
    expect((await add({ name: 'so-2', role: 'street_officer', streetId: 'nowhere' })).statusCode).toBe(400)
    expect((await add({ name: 'op-1', role: 'operator', streetId: 'st-a' })).statusCode).toBe(400)
    const ok = await add({ name: 'so-3', role: 'street_officer', streetId: 'st-a' })
    expect(ok.statusCode).toBe(201)
  })
})
