// The alert lifecycle through the API on the embedded database: reports from a producer, the
// people's transitions with their history, re-raise after re-arm, silences, escalation, SSE.
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { insertDevice } from '../../core/repos/devices.ts'
import { provisionCommunity } from '../../core/provision.ts'
import { apiFor } from '../helpers/api.ts'
import { seed } from '../helpers/stack.ts'
import type { AlertService } from '../../alerts/service.ts'

let db: Db
let app: App
let alerts: AlertService
let admin: Record<string, string>
let service: Record<string, string>
let crew: Record<string, string>
/** When set, the alert service's clock stands still at this epoch ms (tests that need exact intervals). */
let frozenAt: number | undefined
let otherCrew: Record<string, string>

interface AlertBody {
  id: number
  state: string
  condition: string
  count: number
  companyId: string
  severity: string
  silenced: boolean
  escalationLevel: number
  reraiseOf: number | null
  ackDeadline: string
  raisedAt: string
  history: { type: string; actor: string; note: string | null; data?: unknown }[]
}

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  await seed(db)
  // A second company with its own community and device, to check dispatch and isolation.
  await provisionCommunity(db, { id: 'co-other', name: 'Other Co.' }, { id: 'cm-other', name: 'Other Community' })
  await insertDevice(db, { id: 'el-9', kind: 'elevator', communityId: 'cm-other', secretHash: 'x' })
  const rule = (id: string, severity: string, extra: Record<string, unknown> = {}) =>
    upsertRule(db, { id, type: 'threshold', severity: severity as 'critical', enabled: true, definition: { id, name: `Rule ${id}`, description: `why ${id}`, severity, ...extra } })
  await rule('entrapment', 'critical', { autoResolve: false, rearmAfter: 200, ackDeadline: 300_000, resolveDeadline: 1_800_000 })
  await rule('offline', 'major', { autoResolve: true })
  await rule('overspeed', 'critical')
  const api = await apiFor(db, features, {}, undefined, () => new Date(frozenAt ?? Date.now()))
  app = api.app
  alerts = api.alerts
  admin = { authorization: `Bearer ${api.token}` }
  service = { authorization: `Bearer ${await api.tokenFor('service')}` }
  const crewToken = async (name: string, companyId: string) => (await issueToken(db, await insertUser(db, { name, role: 'crew', companyId }))).token
  crew = { authorization: `Bearer ${await crewToken('crew-test', 'co-test')}` }
  otherCrew = { authorization: `Bearer ${await crewToken('crew-other', 'co-other')}` }
})

afterAll(async () => {
  await app.close()
  await db.close()
})

const report = async (body: Record<string, unknown>, headers = service) => {
  const res = await app.inject({ method: 'POST', url: '/api/v1/alerts', headers, payload: body })
  return { status: res.statusCode, body: res.json<{ outcome: string; alert: AlertBody | null; code?: string; message?: string }>() }
}
const detail = async (id: number, headers = admin) => (await app.inject({ url: `/api/v1/alerts/${id}`, headers })).json<AlertBody>()
const act = (id: number, action: string, headers: Record<string, string>, note?: string) =>
  app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/${action}`, headers, payload: note ? { note } : {} })

describe('reports from a producer', () => {
  it('raise once per rule and device, then update the count, dispatched to the community\'s company', async () => {
    const first = await report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active', value: 1, reason: 'trapped = 1' })
    expect(first.body.outcome).toBe('raised')
    expect(first.body.alert).toMatchObject({ severity: 'critical', state: 'open', condition: 'active', count: 1, companyId: 'co-test' })
    const a = first.body.alert
    if (!a) throw new Error('no alert')
    // Deadlines from the rule: acknowledge within 5 minutes.
    expect(Date.parse(a.ackDeadline) - Date.parse(a.raisedAt)).toBe(300_000)
    const again = await report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active', value: 1 })
    expect(again.body).toMatchObject({ outcome: 'updated', alert: { id: a.id, count: 2 } })
    const list = (await app.inject({ url: '/api/v1/alerts?state=open&device=el-1', headers: admin })).json<{ items: AlertBody[] }>()
    expect(list.items.map((x) => x.id)).toEqual([a.id])
  })

  it('auto-resolves an alert whose rule says so when the condition clears', async () => {
    const raised = await report({ ruleId: 'offline', deviceId: 'mh-1', condition: 'active', reason: 'no data for 90 s' })
    const cleared = await report({ ruleId: 'offline', deviceId: 'mh-1', condition: 'cleared', reason: 'data again' })
    expect(cleared.body).toMatchObject({ outcome: 'resolved', alert: { id: raised.body.alert?.id, state: 'resolved', condition: 'cleared' } })
    const h = await detail(raised.body.alert?.id ?? 0)
    expect(h.history.map((e) => e.type)).toEqual(['raised', 'cleared', 'resolved'])
  })

  it('refuses an unknown rule with a message that says what to do, and reports from a crew member', async () => {
    const r = await report({ ruleId: 'nope', deviceId: 'el-1', condition: 'active' })
    expect(r.status).toBe(400)
    expect(r.body.message).toMatch(/no rule "nope"/)
    const forbidden = await report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active' }, crew)
    expect(forbidden.status).toBe(403)
  })

  it('takes a Node-RED alert without a stored rule when it names severity and title', async () => {
    const r = await report({ ruleId: 'nodered:pump-check', deviceId: 'ft-1', condition: 'active', source: 'node-red', severity: 'minor', title: 'Pump cycling too often' })
    expect(r.body).toMatchObject({ outcome: 'raised', alert: { severity: 'minor', companyId: 'co-test' } })
  })
})

describe('people working an alert', () => {
  it('acknowledge → start → resolve, each in the history with actor and note; wrong order is 409', async () => {
    const { body } = await report({ ruleId: 'entrapment', deviceId: 'el-9', condition: 'active', value: 1 })
    const id = body.alert?.id ?? 0
    expect((await act(id, 'ack', otherCrew, 'on my way')).statusCode).toBe(200)
    const twice = await act(id, 'ack', otherCrew)
    expect(twice.statusCode).toBe(409)
    expect(twice.json()).toMatchObject({ code: 'invalid_transition' })
    expect((await act(id, 'start', otherCrew, 'car opened, passenger out')).json()).toMatchObject({ state: 'in_progress' })
    expect((await act(id, 'comment', admin, 'office informed the residents')).statusCode).toBe(200)
    expect((await act(id, 'resolve', otherCrew, 'brake adjusted')).json()).toMatchObject({ state: 'resolved' })
    const h = await detail(id)
    expect(h.history.map((e) => [e.type, e.actor, e.note])).toEqual([
      ['raised', expect.stringMatching(/^service-/), null],
      ['acknowledged', 'crew-other', 'on my way'],
      ['started', 'crew-other', 'car opened, passenger out'],
      ['commented', expect.stringMatching(/^admin-/), 'office informed the residents'],
      ['resolved', 'crew-other', 'brake adjusted'],
    ])
  })

  it("shows a crew member only their own company's alerts (another's is 404)", async () => {
    const { body } = await report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active' })
    const id = body.alert?.id ?? 0
    expect((await app.inject({ url: `/api/v1/alerts/${id}`, headers: otherCrew })).statusCode).toBe(404)
    expect((await act(id, 'ack', otherCrew)).statusCode).toBe(404)
    const mine = (await app.inject({ url: '/api/v1/alerts', headers: otherCrew })).json<{ items: AlertBody[] }>()
    expect(mine.items.every((a) => a.companyId === 'co-other')).toBe(true)
    expect((await app.inject({ url: `/api/v1/alerts/${id}`, headers: crew })).statusCode).toBe(200)
  })

  it('re-raises a manually resolved alert whose condition persists, after the re-arm delay', async () => {
    const { body } = await report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active' })
    const id = body.alert?.id ?? 0
    // The server's clock stands still, so "within the re-arm delay" does not depend on how busy the machine is.
    frozenAt = Date.now()
    try {
      await act(id, 'resolve', crew, 'looked fine')
      frozenAt += 150 // the rule's rearmAfter is 200 ms
      expect((await report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active' })).body.outcome).toBe('rearm_pending')
      frozenAt += 100
      const again = await report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active' })
      expect(again.body).toMatchObject({ outcome: 'raised', alert: { reraiseOf: id, state: 'open' } })
    } finally {
      frozenAt = undefined
    }
  })

  it('acknowledges in bulk and says which were skipped and why', async () => {
    const a = (await report({ ruleId: 'offline', deviceId: 'ft-1', condition: 'active' })).body.alert?.id ?? 0
    const b = (await report({ ruleId: 'offline', deviceId: 'el-9', condition: 'active' })).body.alert?.id ?? 0
    const res = await app.inject({ method: 'POST', url: '/api/v1/alerts/ack', headers: crew, payload: { ids: [a, b, 999_999], note: 'seen' } })
    expect(res.json()).toEqual({
      acknowledged: [a],
      skipped: [
        { id: b, code: 'not_found', message: `No alert ${b}` },
        { id: 999_999, code: 'not_found', message: 'No alert 999999' },
      ],
    })
  })
})

describe('silences and escalation', () => {
  it('marks alerts raised in a maintenance window as silenced', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/silences', headers: admin, payload: { deviceId: 'mh-2', duration: '1h', reason: 'cover replacement' } })
    expect(res.statusCode).toBe(201)
    const r = await report({ ruleId: 'offline', deviceId: 'mh-2', condition: 'active' })
    expect(r.body.alert?.silenced).toBe(true)
    const bad = await app.inject({ method: 'POST', url: '/api/v1/silences', headers: admin, payload: { reason: 'x', duration: '1h' } })
    expect(bad.statusCode).toBe(400)
    expect(bad.json<{ message: string }>().message).toMatch(/at least one of deviceId, communityId or ruleId/)
  })

  it('escalates a missed acknowledge deadline, then reminds until acknowledged', async () => {
    // Deadlines count from when the report arrived (server time), whatever `at` it carries.
    const { body } = await report({ ruleId: 'overspeed', deviceId: 'el-9', condition: 'active', at: new Date(Date.now() - 6 * 60_000).toISOString() })
    const id = body.alert?.id ?? 0
    const later = (ms: number) => new Date(Date.now() + ms)
    await alerts.escalate(later(0), 1000)
    expect(await detail(id)).toMatchObject({ escalationLevel: 0 })
    await alerts.escalate(later(6 * 60_000), 1000)
    expect(await detail(id)).toMatchObject({ escalationLevel: 1 })
    await alerts.escalate(later(6 * 60_000), 1000) // the reminder is not due yet
    await alerts.escalate(later(6 * 60_000 + 1100), 1000)
    await act(id, 'ack', otherCrew)
    await alerts.escalate(later(6 * 60_000 + 2200), 1000)
    const h = await detail(id)
    expect(h.history.map((e) => e.type)).toEqual(['raised', 'escalated', 'reminded', 'acknowledged'])
    expect(h.history[1]?.note).toBe('not acknowledged within 5m')
    // …and as data, for each reader's language (shared/system-note.ts).
    expect(h.history[1]?.data).toMatchObject({ says: { key: 'escalate.ack', withinMs: 300_000 } })
    expect(h.history[2]?.data).toMatchObject({ says: { key: 'remind.ack', withinMs: 300_000 } })
  })
})

describe('live stream', () => {
  it('sends events as they commit, and resumes after Last-Event-ID', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' })
    const addr = app.server.address()
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0
    const open = (headers: Record<string, string>) =>
      new Promise<{ frames: string[]; close: () => void }>((resolve, reject) => {
        const frames: string[] = []
        const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/alerts/stream', headers }, (res) => {
          expect(res.headers['content-type']).toMatch(/text\/event-stream/)
          let buf = ''
          res.on('data', (d: Buffer) => {
            buf += d.toString()
            const parts = buf.split('\n\n')
            buf = parts.pop() ?? ''
            frames.push(...parts.filter((p) => p.startsWith('id:')))
          })
          resolve({ frames, close: () => req.destroy() })
        })
        req.on('error', reject)
      })
    const live = await open(admin)
    await new Promise((r) => setTimeout(r, 100))
    const raised = await report({ ruleId: 'offline', deviceId: 'gw-1', condition: 'active' })
    await report({ ruleId: 'offline', deviceId: 'gw-1', condition: 'cleared' })
    await new Promise((r) => setTimeout(r, 200))
    const types = live.frames.map((f) => /event: (\w+)/.exec(f)?.[1])
    expect(types).toEqual(['raised', 'cleared', 'resolved'])
    const firstId = Number(/id: (\d+)/.exec(live.frames[0] ?? '')?.[1])
    const data = JSON.parse(/data: (.*)/.exec(live.frames[0] ?? '')?.[1] ?? '{}') as { alert: { id: number } }
    expect(data.alert.id).toBe(raised.body.alert?.id)
    live.close()

    // Resume: everything after the first event, from the database.
    const resumed = await open({ ...admin, 'last-event-id': String(firstId) })
    await new Promise((r) => setTimeout(r, 300))
    expect(resumed.frames.map((f) => /event: (\w+)/.exec(f)?.[1])).toEqual(['cleared', 'resolved'])
    resumed.close()

    // A crew member's stream carries only their company's events.
    const crewStream = await open(otherCrew)
    await new Promise((r) => setTimeout(r, 100))
    await report({ ruleId: 'offline', deviceId: 'gw-1', condition: 'active' })
    await report({ ruleId: 'entrapment', deviceId: 'el-9', condition: 'active' })
    await new Promise((r) => setTimeout(r, 300))
    const alertIds = crewStream.frames.map((f) => (JSON.parse(/data: (.*)/.exec(f)?.[1] ?? '{}') as { alert: { deviceId: string } }).alert.deviceId)
    expect(new Set(alertIds)).toEqual(new Set(['el-9']))
    crewStream.close()
  })
})
