// Bulk by filter (issue 21): 5,000 open alerts acknowledged in one call after a count that names
// 5,000 — every one with its history event and on the committed-event bus — while a crew member of
// another company touches none of them, and an alert raised after the count is left alone.
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { AlertService } from '../../alerts/service.ts'
import type { CommittedEvent } from '../../alerts/events.ts'
import type { Db } from '../../core/db/client.ts'
import { eventsOf, getAlert } from '../../core/repos/alerts.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { apiFor, embeddedDistrict } from '../helpers/api.ts'
import { manyOpenAlerts } from '../helpers/many-alerts.ts'

const N = 5000

describe('alerts: bulk by filter', () => {
  let db: Db
  let app: App
  let alerts: AlertService
  let operator: Record<string, string>
  let crewA: Record<string, string>
  let crewB: Record<string, string>
  let ids: number[]
  const bearer = async (name: string, role: 'operator' | 'crew', companyId?: string) =>
    ({ authorization: `Bearer ${(await issueToken(db, await insertUser(db, { name, role, ...(companyId ? { companyId } : {}) }))).token}` })

  beforeAll(async () => {
    const d = await embeddedDistrict()
    db = d.db
    await createCompany(db, { id: 'co-b', name: 'Beta Property', contact: null })
    await createCommunity(db, 'cm-b', { name: 'cm-b', district: null, street: null, address: null, lat: null, lon: null })
    await assignCommunity(db, 'cm-b', 'co-b', 'fixture', null)
    const api = await apiFor(db, d.features)
    app = api.app
    alerts = api.alerts
    operator = await bearer('op-zhang', 'operator')
    crewA = await bearer('crew-a', 'crew', 'co-a')
    crewB = await bearer('crew-b', 'crew', 'co-b')
    ids = await manyOpenAlerts(db, N, { communityId: 'cm-a', companyId: 'co-a' })
    await manyOpenAlerts(db, 3, { communityId: 'cm-b', companyId: 'co-b', prefix: 'b' })
  }, 120_000)
  afterAll(async () => {
    await app.close()
    await db.close()
  })

  it("sends the board's pages compressed to a client that accepts it, and plain to one that does not", async () => {
    const url = '/api/v1/alerts?state=open&limit=1000'
    const plain = await app.inject({ url, headers: operator })
    expect(plain.headers['content-encoding']).toBeUndefined()
    const br = await app.inject({ url, headers: { ...operator, 'accept-encoding': 'br, gzip' } })
    expect(br.headers['content-encoding']).toBe('br')
    const gz = await app.inject({ url, headers: { ...operator, 'accept-encoding': 'gzip' } })
    expect(gz.headers['content-encoding']).toBe('gzip')
    // The same alerts, at a small fraction of the bytes.
    expect(JSON.parse(brotliDecompressSync(br.rawPayload).toString('utf8'))).toEqual(plain.json())
    expect(JSON.parse(gunzipSync(gz.rawPayload).toString('utf8'))).toEqual(plain.json())
    expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length / 10)
  })

  const count = async (headers: Record<string, string>, q: string) => {
    const res = await app.inject({ url: `/api/v1/alerts/bulk/count?${q}`, headers })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ matched: number; through: number | null; max: number; capped: boolean }>()
  }
  const bulk = (headers: Record<string, string>, action: string, q: string, note?: string) =>
    app.inject({ method: 'POST', url: `/api/v1/alerts/bulk/${action}?${q}`, headers, payload: note ? { note } : {} })

  it('a crew member of another company counts and touches none of them, naming their company or not', async () => {
    expect((await count(crewB, 'action=ack&community=cm-a')).matched).toBe(0)
    expect((await count(crewB, 'action=ack&company=co-a')).matched).toBe(0)
    expect((await count(crewB, 'action=ack')).matched).toBe(3)
    const res = await bulk(crewB, 'ack', 'community=cm-a')
    expect(res.json()).toEqual({ matched: 0, done: 0, skipped: 0, capped: false })
    expect((await getAlert(db, ids[0] ?? 0))?.state).toBe('open')
    expect((await bulk(await bearer('li-resident', 'crew', 'co-b'), 'resolve', 'company=co-a')).json()).toMatchObject({ done: 0 })
  })

  it('counts 5,000, then acknowledges exactly those 5,000, each with its history event and bus event, and audits one row', { timeout: 300_000 }, async () => {
    const counted = await count(operator, 'action=ack&community=cm-a&state=open,acknowledged')
    expect(counted).toEqual({ matched: N, through: Math.max(...ids), max: 20_000, capped: false })
    // Raised after the person saw "5,000": not theirs to acknowledge unseen.
    const [late] = await manyOpenAlerts(db, 1, { communityId: 'cm-a', companyId: 'co-a', prefix: 'late' })
    const heard: CommittedEvent[] = []
    const listen = (e: CommittedEvent) => void heard.push(e)
    alerts.bus.on('event', listen)
    const res = await bulk(operator, 'ack', `community=cm-a&state=open,acknowledged&through=${counted.through}`, 'storm after the typhoon')
    alerts.bus.off('event', listen)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toEqual({ matched: N, done: N, skipped: 0, capped: false })
    expect((await getAlert(db, late ?? 0))?.state).toBe('open')
    expect(heard.filter((e) => e.event.type === 'acknowledged')).toHaveLength(N)
    expect(new Set(heard.map((e) => e.alert.id))).toEqual(new Set(ids))
    for (const id of [ids[0], ids[2500], ids.at(-1)]) {
      const a = await getAlert(db, id ?? 0)
      expect(a).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'op-zhang' })
      expect((await eventsOf(db, id ?? 0)).map((e) => [e.type, e.actor, e.note])).toEqual([['acknowledged', 'op-zhang', 'storm after the typhoon']])
    }
    // The board's list agrees: nothing of cm-a open but the late one.
    const open = await app.inject({ url: '/api/v1/alerts?state=open&community=cm-a&limit=10', headers: operator })
    expect(open.json<{ items: { id: number }[] }>().items.map((a) => a.id)).toEqual([late])
    const audit = await app.inject({ url: '/api/v1/audit?action=alerts.bulk', headers: { authorization: `Bearer ${(await issueToken(db, await insertUser(db, { name: 'admin-audit', role: 'admin' }))).token}` } })
    const rows = audit.json<{ items: { target: Record<string, string>; query: Record<string, unknown>; actorName: string }[] }>().items.filter((r) => r.actorName === 'op-zhang')
    expect(rows).toHaveLength(1)
    expect(rows[0]?.target).toEqual({ action: 'ack', matched: String(N), done: String(N), skipped: '0', capped: 'false' })
    expect(rows[0]?.query).toMatchObject({ community: 'cm-a', state: 'open,acknowledged' })
    // Again: nothing left to acknowledge (the late one is past `through`).
    expect((await bulk(operator, 'ack', `community=cm-a&through=${counted.through}`)).json()).toEqual({ matched: 0, done: 0, skipped: 0, capped: false })
  })

  it('resolves by filter within a crew member\'s own company, and refuses a resident and a bad filter with codes', async () => {
    expect((await count(crewA, 'action=resolve&community=cm-a')).matched).toBe(N + 1)
    const res = await bulk(crewA, 'resolve', 'community=cm-a&severity=critical')
    expect(res.json()).toEqual({ matched: 0, done: 0, skipped: 0, capped: false })
    const resident = { authorization: `Bearer ${(await issueToken(db, await insertUser(db, { name: 'sun-resident', role: 'resident', communityId: 'cm-a' }))).token}` }
    const refused = await bulk(resident, 'ack', 'community=cm-a')
    expect(refused.statusCode).toBe(403)
    expect(refused.json()).toMatchObject({ code: 'forbidden' })
    const bad = await bulk(operator, 'ack', 'state=closed')
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ code: 'validation_failed' })
    expect((await bulk(operator, 'silence', '')).json()).toMatchObject({ code: 'validation_failed' })
  })
})
