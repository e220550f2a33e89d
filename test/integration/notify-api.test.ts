// The notification setup through the API (issue 9): channel credentials are write-only and sealed
// at rest, a company manages only its own setup, rotas answer who is on call now or at a time,
// policies refuse quiet hours for critical alerts, the delivery log masks phone numbers, and the
// link in an SMS acknowledges once, as the person it was sent to.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { buildApp, type App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { provisionDevices } from '../../core/provision.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { Notifications } from '../../notify/notifications.ts'
import { DEFAULT_NOTIFY_DISPATCH } from '../../notify/dispatcher.ts'
import { createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { SmsGateway } from '../helpers/sms-gateway.ts'
import { ALLOW_GATEWAY, GATEWAY_HOST } from '../helpers/egress.ts'
import { vendorServer } from '../notify/vendor-server.ts'

const T0 = Date.UTC(2026, 2, 4, 2, 0)
const pg = await hasPostgres()
let db: Db
let drop: () => Promise<void>
let app: App
let now = T0
let notifications: Notifications
let alerts: AlertService
const gateway = new SmsGateway(GATEWAY_HOST)
const auth: Record<'admin' | 'manager' | 'crew' | 'crewB' | 'resident', { authorization: string }> = {} as never
const ids: Record<'manager' | 'a1' | 'a2' | 'b1', string> = {} as never

describe.skipIf(!pg)('notification setup through the API', () => {
  beforeAll(async () => {
    const t = await createTestDatabase()
    drop = t.drop
    db = await openDb({ url: t.url })
    const features = await migrate(db, { log: silentLogger })
    await gateway.start()
    for (const co of ['a', 'b']) {
      await createCompany(db, { id: `co-${co}`, name: `Company ${co}`, contact: null })
      await createCommunity(db, `cm-${co}`, { name: `Community ${co}`, district: null, street: null, address: null, lat: null, lon: null })
      await assignCommunity(db, `cm-${co}`, `co-${co}`, 'fixture', null)
    }
    await provisionDevices(db, [{ id: 'el-1', kind: 'elevator', communityId: 'cm-a' }])
    await upsertRule(db, { id: 'entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { id: 'entrapment', name: 'Entrapment', severity: 'critical' } })
    const token = async (userId: string) => ({ authorization: `Bearer ${(await issueToken(db, userId)).token}` })
    auth.admin = await token(await insertUser(db, { name: 'office', role: 'admin' }))
    ids.manager = await insertUser(db, { name: 'manager-a', role: 'crew', companyId: 'co-a' })
    ids.a1 = await insertUser(db, { name: 'a1', role: 'crew', companyId: 'co-a' })
    ids.a2 = await insertUser(db, { name: 'a2', role: 'crew', companyId: 'co-a' })
    ids.b1 = await insertUser(db, { name: 'b1', role: 'crew', companyId: 'co-b' })
    auth.manager = await token(ids.manager)
    auth.crew = await token(ids.a1)
    auth.crewB = await token(ids.b1)
    auth.resident = await token(await insertUser(db, { name: 'resident-a', role: 'resident', communityId: 'cm-a' }))
    const clock = () => new Date(now)
    alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger, clock)
    notifications = new Notifications(db, alerts, randomBytes(32), { ...DEFAULT_NOTIFY_DISPATCH, destinations: ALLOW_GATEWAY, pollMs: 50, linkBaseUrl: 'https://hb.example', linkTtlMs: 3_600_000 }, silentLogger, clock)
    app = await buildApp({ db, features, metrics: createMetrics({ defaults: false }), alerts, notify: notifications.context }, silentLogger, { egress: ALLOW_GATEWAY })
    await app.ready()
    await notifications.start()
  })

  afterAll(async () => {
    await notifications.stop()
    await app.close()
    await gateway.stop()
    await db.close()
    await drop()
  })

  it('a company manager is whoever its manager rota lists; the office manages everything', async () => {
    const rota = (id: string, body: object, headers = auth.admin) => app.inject({ method: 'PUT', url: `/api/v1/rotas/${id}`, headers, payload: body })
    expect((await rota('a-manager', { companyId: 'co-a', role: 'manager', name: 'Managers', startsOn: '2026-03-02', members: [ids.manager] })).statusCode).toBe(200)
    // A crew member not on the manager rota may not change the crew rota; the manager may.
    const crewRota = { companyId: 'co-a', role: 'crew', name: 'Crew', startsOn: '2026-03-02', handoverTime: '09:00', members: [ids.a1, ids.a2] }
    expect((await rota('a-crew', crewRota, auth.crew)).json()).toMatchObject({ code: 'forbidden' })
    expect((await rota('a-crew', crewRota, auth.manager)).statusCode).toBe(200)
    // Nor another company's, which it does not even see.
    expect((await rota('b-crew', { ...crewRota, companyId: 'co-b', members: [ids.b1] }, auth.manager)).json()).toMatchObject({ code: 'not_found' })
    // The office's duty rota has no company; a company has none.
    expect((await rota('x', { companyId: 'co-a', role: 'duty', name: 'x', startsOn: '2026-03-02', members: [ids.a1] })).json()).toMatchObject({ code: 'validation_failed' })
  })

  it('who is on call now and at a time, with a swap, and the hand-over register', async () => {
    const onCall = async (at?: string) => (await app.inject({ url: `/api/v1/rotas/a-crew/on-call${at ? `?at=${at}` : ''}`, headers: auth.crew })).json<{ shift: { userName: string; override: boolean } | null }>().shift
    expect(await onCall()).toMatchObject({ userName: 'a1', override: false })
    // The second week, from Monday 9 March 09:00 in Shanghai (01:00 UTC).
    expect(await onCall('2026-03-09T00:59:00Z')).toMatchObject({ userName: 'a1' })
    expect(await onCall('2026-03-09T01:00:00Z')).toMatchObject({ userName: 'a2' })
    expect(await onCall('2026-03-01T00:00:00Z')).toBeNull()
    const swap = await app.inject({ method: 'POST', url: '/api/v1/rotas/a-crew/overrides', headers: auth.manager, payload: { userId: ids.a2, kind: 'swap', startsAt: '2026-03-04T00:00:00Z', endsAt: '2026-03-04T12:00:00Z', note: 'a1 on leave' } })
    expect(swap.statusCode).toBe(201)
    expect(await onCall('2026-03-04T03:00:00Z')).toMatchObject({ userName: 'a2', override: true })
    expect(await onCall('2026-03-04T12:00:00Z')).toMatchObject({ userName: 'a1', override: false })
    // Another company's crew sees none of it.
    expect((await app.inject({ url: '/api/v1/rotas/a-crew/on-call', headers: auth.crewB })).json()).toMatchObject({ code: 'not_found' })
    await app.inject({ method: 'DELETE', url: `/api/v1/rotas/a-crew/overrides/${swap.json<{ id: number }>().id}`, headers: auth.manager })
    const note = await app.inject({ method: 'POST', url: '/api/v1/rotas/a-crew/handovers', headers: auth.crew, payload: { note: '3号楼电梯门机异响，已报修' } })
    expect(note.statusCode).toBe(201)
    expect((await app.inject({ url: '/api/v1/rotas/a-crew/handovers', headers: auth.manager })).json()).toMatchObject({ items: [{ author: 'a1', note: '3号楼电梯门机异响，已报修' }] })
  })

  it("shows the office which companies' rotas reach nobody now, and why; a company's crew sees its own", async () => {
    type Coverage = { uncovered: number; companies: { companyId: string; uncovered: boolean; crew: { userName: string | null; gap: string | null }; manager: { gap: string | null } }[] }
    const coverage = async (headers: { authorization: string }) => (await app.inject({ url: '/api/v1/rotas/coverage?at=2026-03-04T03:00:00Z', headers })).json<Coverage>()
    const office = await coverage(auth.admin)
    // Company b has no rota; company a's on-call crew member has no contact point a channel reaches yet.
    expect(office.uncovered).toBe(2)
    expect(office.companies.find((c) => c.companyId === 'co-b')).toMatchObject({ uncovered: true, crew: { userName: null, gap: 'no_rota' }, manager: { gap: 'no_rota' } })
    expect(office.companies.find((c) => c.companyId === 'co-a')).toMatchObject({ uncovered: true, crew: { userName: 'a1', gap: 'no_contact' } })
    expect((await coverage(auth.crew)).companies.map((c) => c.companyId)).toEqual(['co-a'])
    expect((await app.inject({ url: '/api/v1/rotas/coverage', headers: auth.resident })).statusCode).toBe(403)
  })

  it('channel credentials are sealed at rest and never returned', async () => {
    const body = {
      kind: 'sms_http',
      name: 'Company A SMS',
      companyId: 'co-a',
      settings: { url: gateway.url(), headers: { 'x-api-key': '{{secret.key}}' } },
      secrets: { key: 'super-secret-key-42' },
    }
    expect((await app.inject({ method: 'POST', url: '/api/v1/notify/channels', headers: auth.crew, payload: body })).json()).toMatchObject({ code: 'forbidden' })
    const res = await app.inject({ method: 'POST', url: '/api/v1/notify/channels', headers: auth.manager, payload: body })
    expect(res.statusCode).toBe(201)
    expect(res.body).not.toContain('super-secret-key-42')
    expect(res.json()).toMatchObject({ hasSecrets: true, companyId: 'co-a', kind: 'sms_http' })
    const [row] = await db.query<{ secrets: string }>('SELECT secrets FROM notify_channels')
    expect(row?.secrets).toMatch(/^v1\./)
    expect(row?.secrets).not.toContain('super-secret')
    const list = await app.inject({ url: '/api/v1/notify/channels?companyId=co-a', headers: auth.crew })
    expect(list.body).not.toContain('super-secret-key-42')
    // A bad setting fails here, not at 3 a.m.
    expect((await app.inject({ method: 'POST', url: '/api/v1/notify/channels', headers: auth.admin, payload: { ...body, settings: { url: 'ftp://x' } } })).json()).toMatchObject({ code: 'validation_failed' })
  })

  it('a channel changed keeps its sealed credentials; a test message goes through its own sender, a failure says what the gateway answered', async () => {
    const settings = { url: gateway.url(), headers: { authorization: 'Bearer {{secret.key}}' } }
    const created = await app.inject({ method: 'POST', url: '/api/v1/notify/channels', headers: auth.admin, payload: { kind: 'sms_http', name: 'Test SMS', companyId: 'co-b', settings, secrets: { key: 'kept-secret' } } })
    const id = created.json<{ id: string }>().id
    const put = await app.inject({ method: 'PUT', url: `/api/v1/notify/channels/${id}`, headers: auth.admin, payload: { name: 'Renamed SMS', settings: { ...settings, signature: '【房管】' } } })
    expect(put.json()).toMatchObject({ name: 'Renamed SMS', kind: 'sms_http', hasSecrets: true, settings: { signature: '【房管】' } })
    // The egress guard refuses a change to a loopback gateway (127.0.0.2 alone is allowed), naming the field.
    const denied = await app.inject({ method: 'PUT', url: `/api/v1/notify/channels/${id}`, headers: auth.admin, payload: { name: 'x', settings: { url: 'http://127.0.0.1:9/sms' } } })
    expect(denied.json<{ code: string }>().code).toBe('destination_denied')
    expect(denied.json<{ message: string }>().message).toContain('body.settings.url: the address of "127.0.0.1" is loopback')

    const test = (payload: object, headers = auth.admin) => app.inject({ method: 'POST', url: `/api/v1/notify/channels/${id}/test`, headers, payload })
    const before = gateway.received.length
    const sent = await test({ address: '13900000009', locale: 'en' })
    expect(sent.statusCode).toBe(200)
    expect(sent.json()).toMatchObject({ ok: true })
    // Through the channel's own sender: its sealed credential, kept by the change, is in the header.
    expect(gateway.received.slice(before)).toMatchObject([{ to: '13900000009', authorization: 'Bearer kept-secret' }])
    expect(gateway.received.at(-1)?.text).toContain('Test message')
    gateway.script.push({ status: 400 })
    const failed = await test({ address: '13900000009' })
    expect(failed.statusCode).toBe(422)
    expect(failed.json<{ code: string; message: string }>()).toMatchObject({ code: 'channel_test_failed' })
    expect(failed.json<{ message: string }>().message).toContain('400')
    const noAddress = (await test({})).json<{ code: string; message: string }>()
    expect(noAddress.code).toBe('validation_failed')
    expect(noAddress.message).toContain('body.address')
    // Company B's crew member is no manager of it.
    expect((await test({ address: '13900000009' }, auth.crewB)).json()).toMatchObject({ code: 'forbidden' })
  })

  it("a rota's schedule over the next days, an override cut in; the people a rota may name", async () => {
    const from = '2026-03-04T02:00:00.000Z'
    const cover = await app.inject({ method: 'POST', url: '/api/v1/rotas/a-crew/overrides', headers: auth.admin, payload: { userId: ids.a2, kind: 'cover', startsAt: '2026-03-05T00:00:00Z', endsAt: '2026-03-05T12:00:00Z' } })
    const schedule = await app.inject({ url: `/api/v1/rotas/a-crew/schedule?from=${from}&days=7`, headers: auth.crew })
    expect(schedule.json<{ shifts: unknown[] }>().shifts).toEqual([
      { userId: ids.a1, userName: 'a1', from, to: '2026-03-05T00:00:00.000Z', override: false },
      { userId: ids.a2, userName: 'a2', from: '2026-03-05T00:00:00.000Z', to: '2026-03-05T12:00:00.000Z', override: true },
      // The weekly hand-over, Monday 9 March 09:00 in Shanghai.
      { userId: ids.a1, userName: 'a1', from: '2026-03-05T12:00:00.000Z', to: '2026-03-09T01:00:00.000Z', override: false },
      { userId: ids.a2, userName: 'a2', from: '2026-03-09T01:00:00.000Z', to: '2026-03-11T02:00:00.000Z', override: false },
    ])
    await app.inject({ method: 'DELETE', url: `/api/v1/rotas/a-crew/overrides/${cover.json<{ id: number }>().id}`, headers: auth.admin })
    const people = await app.inject({ url: '/api/v1/rotas/people?companyId=co-a', headers: auth.manager })
    expect(people.json<{ items: { name: string }[] }>().items.map((p) => p.name)).toEqual(['a1', 'a2', 'manager-a'])
    expect((await app.inject({ url: '/api/v1/rotas/people', headers: auth.admin })).json<{ items: { name: string }[] }>().items.map((p) => p.name)).toEqual(['office'])
    expect((await app.inject({ url: '/api/v1/rotas/people?companyId=co-a', headers: auth.crewB })).json()).toMatchObject({ code: 'not_found' })
  })

  it('policies: quiet hours never hold a critical alert', async () => {
    const put = (severity: string, payload: object) => app.inject({ method: 'PUT', url: `/api/v1/notify/policies/${severity}`, headers: auth.admin, payload })
    const quiet = { from: '22:00', to: '07:00' }
    expect((await put('critical', { steps: [{ rota: 'crew' }], quietHours: quiet })).json()).toMatchObject({ code: 'validation_failed' })
    expect((await put('minor', { steps: [{ rota: 'crew' }, { rota: 'duty' }], quietHours: quiet })).statusCode).toBe(200)
    expect((await put('minor', { steps: [] })).json()).toMatchObject({ code: 'validation_failed' })
    const list = (await app.inject({ url: '/api/v1/notify/policies', headers: auth.crew })).json<{ items: { severity: string; stored: boolean; policy: { steps: unknown[] } }[] }>()
    expect(list.items.find((p) => p.severity === 'minor')).toMatchObject({ stored: true, policy: { steps: [{ rota: 'crew' }, { rota: 'duty' }], quietHours: { timezone: 'Asia/Shanghai' } } })
    expect(list.items.find((p) => p.severity === 'critical')).toMatchObject({ stored: false, policy: { quietHours: null } })
    expect((await put('minor', {})).statusCode).toBe(400)
    expect((await app.inject({ method: 'PUT', url: '/api/v1/notify/policies/minor', headers: auth.manager, payload: { steps: [{ rota: 'crew' }] } })).json()).toMatchObject({ code: 'forbidden' })
  })

  it("a company's own policy: its managers or the office set it, and it must keep the duty step", async () => {
    type View = { items: { severity: string; companyId: string | null; source: string; policy: { steps: { rota: string }[] } }[] }
    const put = (severity: string, companyId: string, payload: object, headers = auth.manager) =>
      app.inject({ method: 'PUT', url: `/api/v1/notify/policies/${severity}?companyId=${companyId}`, headers, payload })
    const get = async (query: string, headers = auth.crew) => (await app.inject({ url: `/api/v1/notify/policies${query}`, headers })).json<View>()
    const skipManager = { steps: [{ rota: 'crew', bots: true }, { rota: 'duty' }] }
    const mine = await put('critical', 'co-a', skipManager)
    expect(mine.statusCode).toBe(200)
    expect(mine.json()).toMatchObject({ severity: 'critical', companyId: 'co-a', source: 'company', policy: { steps: [{ rota: 'crew' }, { rota: 'duty' }] } })
    // A company may not keep an unacknowledged alert from the housing office.
    const closed = (await put('critical', 'co-a', { steps: [{ rota: 'crew' }, { rota: 'manager' }] })).json<{ code: string; message: string }>()
    expect(closed).toMatchObject({ code: 'validation_failed' })
    expect(closed.message).toContain('"duty"')
    // Quiet hours are refused for critical alerts, whoever's policy it is.
    expect((await put('critical', 'co-a', { ...skipManager, quietHours: { from: '22:00', to: '07:00' } })).json()).toMatchObject({ code: 'validation_failed' })
    // Not another company's; not a crew member who is not a manager; the office any company's.
    expect((await put('critical', 'co-b', skipManager)).json()).toMatchObject({ code: 'not_found' })
    expect((await put('critical', 'co-a', skipManager, auth.crew)).json()).toMatchObject({ code: 'forbidden' })
    expect((await put('major', 'co-b', skipManager, auth.admin)).statusCode).toBe(200)
    expect((await put('major', 'co-nowhere', skipManager, auth.admin)).json()).toMatchObject({ code: 'not_found' })

    // In force for company A: its own critical, the office's minor (stored above), the default major.
    const a = await get('?companyId=co-a')
    expect(a.items.map((i) => [i.severity, i.source])).toEqual([['critical', 'company'], ['major', 'default'], ['minor', 'office'], ['warning', 'default']])
    expect(a.items[0]?.policy.steps.map((st) => st.rota)).toEqual(['crew', 'duty'])
    expect((await get('')).items.find((i) => i.severity === 'critical')).toMatchObject({ companyId: null, source: 'default' })
    expect((await app.inject({ url: '/api/v1/notify/policies?companyId=co-a', headers: auth.crewB })).json()).toMatchObject({ code: 'not_found' })

    expect((await app.inject({ method: 'DELETE', url: '/api/v1/notify/policies/major?companyId=co-b', headers: auth.manager })).json()).toMatchObject({ code: 'not_found' })
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/notify/policies/major?companyId=co-b', headers: auth.admin })).statusCode).toBe(204)
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/notify/policies/critical?companyId=co-a', headers: auth.manager })).statusCode).toBe(204)
    expect((await get('?companyId=co-a')).items[0]).toMatchObject({ severity: 'critical', source: 'default' })
  })

  it('the SMS link acknowledges once, as its recipient; the delivery log masks the number', async () => {
    const phone = await app.inject({ method: 'POST', url: `/api/v1/users/${ids.a1}/contact-points`, headers: auth.crew, payload: { kind: 'phone', address: '13812341234' } })
    expect(phone.json()).toMatchObject({ address: '138****1234', kind: 'phone' })
    const { alert } = await alerts.report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active' }, 'rules-engine')
    const sms = await eventually(() => gateway.to('13812341234')[0], 10_000, 'the SMS')
    const link = /https:\/\/hb\.example(\/n\/\S+)$/.exec(sms.text)?.[1] ?? ''
    expect(link).not.toBe('')
    // Opening it changes nothing (link previews); a forged token opens nothing.
    const open = await app.inject({ url: link })
    expect(open.statusCode).toBe(200)
    expect(open.body).toContain('<form method="post">')
    expect((await app.inject({ url: `${link.slice(0, -1)}${link.endsWith('A') ? 'B' : 'A'}` })).json()).toMatchObject({ code: 'not_found' })
    const ack = await app.inject({ method: 'POST', url: link })
    expect(ack.statusCode).toBe(200)
    const seen = (await app.inject({ url: `/api/v1/alerts/${alert?.id}`, headers: auth.crew })).json<{ state: string; acknowledgedBy: string }>()
    expect(seen).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'a1' })
    expect((await app.inject({ method: 'POST', url: link })).json()).toMatchObject({ code: 'link_expired' })
    const log = await eventually(async () => {
      const items = (await app.inject({ url: `/api/v1/alerts/${alert?.id}/deliveries`, headers: auth.manager })).json<{ items: { to: string; summary: string; status: string }[] }>().items
      return items[0]?.status === 'delivered' ? items : undefined
    }, 10_000, 'the delivery log')
    expect(log[0]).toMatchObject({ to: '138****1234', summary: 'SMS to 138****1234: delivered 10:00:00' })
    expect(JSON.stringify(log)).not.toContain('13812341234')
    expect((await app.inject({ url: `/api/v1/alerts/${alert?.id}/deliveries`, headers: auth.crewB })).json()).toMatchObject({ code: 'not_found' })
  })

  it("a group robot's link opens the alert and leads to the console: acknowledging there needs a sign-in", async () => {
    const robot = await vendorServer(GATEWAY_HOST)
    try {
      robot.answer({ status: 200, body: { errcode: 0, errmsg: 'ok' } })
      const payload = { companyId: 'co-a', kind: 'wecom', name: '维修群', settings: { baseUrl: robot.base }, secrets: { key: 'group-key-1' } }
      // Another host than WeCom's is the office's to set (a private deployment; here a stand-in).
      expect((await app.inject({ method: 'POST', url: '/api/v1/notify/channels', headers: auth.manager, payload })).json()).toMatchObject({ code: 'forbidden' })
      const channel = await app.inject({ method: 'POST', url: '/api/v1/notify/channels', headers: auth.admin, payload })
      expect(channel.statusCode).toBe(201)
      await provisionDevices(db, [{ id: 'el-2', kind: 'elevator', communityId: 'cm-a' }])
      const { alert } = await alerts.report({ ruleId: 'entrapment', deviceId: 'el-2', condition: 'active' }, 'rules-engine')
      const consoleUrl = `/console/#/alert/${alert?.id}`
      const message = await eventually(() => robot.received[0], 10_000, 'the robot message')
      const link = /\]\(https:\/\/hb\.example(\/n\/[^)]+)\)/.exec(message.body.toString('utf8'))?.[1] ?? 'no link'
      const open = await app.inject({ url: link })
      expect(open.statusCode).toBe(200)
      expect(open.body).not.toContain('<form')
      expect(open.body).toContain(`href="${consoleUrl}"`)
      // The link names nobody: posting it does not acknowledge, it sends the reader to sign in.
      const post = await app.inject({ method: 'POST', url: link })
      expect(post.statusCode).toBe(303)
      expect(post.headers.location).toBe(consoleUrl)
      expect((await app.inject({ url: `/api/v1/alerts/${alert?.id}`, headers: auth.crew })).json()).toMatchObject({ state: 'open' })
      const log = await eventually(async () => {
        const items = (await app.inject({ url: `/api/v1/alerts/${alert?.id}/deliveries`, headers: auth.crew })).json<{ items: { channel: { kind: string }; status: string; summary: string }[] }>().items
        const entry = items.find((d) => d.channel.kind === 'wecom')
        return entry?.status === 'delivered' ? entry : undefined
      }, 10_000, "the robot's delivery log")
      expect(log.summary).toBe('WeCom bot "维修群": delivered 10:00:00')
      expect((await app.inject({ method: 'PATCH', url: `/api/v1/notify/channels/${channel.json<{ id: string }>().id}`, headers: auth.manager, payload: { enabled: false } })).statusCode).toBe(200)
    } finally {
      await robot.close()
    }
  })

  it("the alert's history shows the delivery log to the office and its company's crew, not to residents", async () => {
    const [row] = await db.query<{ id: number }>("SELECT id::int AS id FROM alerts WHERE rule_id = 'entrapment' ORDER BY id LIMIT 1")
    const view = async (headers: { authorization: string }) => (await app.inject({ url: `/api/v1/alerts/${row?.id}`, headers })).json<{ history: unknown[]; notifications?: unknown[] }>()
    const fromLog = (await app.inject({ url: `/api/v1/alerts/${row?.id}/deliveries`, headers: auth.admin })).json<{ items: unknown[] }>().items
    expect(fromLog).toHaveLength(1)
    for (const who of [auth.admin, auth.manager, auth.crew]) {
      const seen = await view(who)
      expect(seen.notifications).toEqual((await app.inject({ url: `/api/v1/alerts/${row?.id}/deliveries`, headers: who })).json<{ items: unknown[] }>().items)
      expect(seen.notifications?.[0]).toMatchObject({ channel: { kind: 'sms_http' }, to: '138****1234', status: 'delivered', summary: 'SMS to 138****1234: delivered 10:00:00' })
    }
    // What the gateway answered is the office's to see; the company sees that it was delivered.
    expect(fromLog[0]).toMatchObject({ log: [{ status: 'http 200', detail: 'accepted by the gateway' }] })
    expect((await view(auth.manager)).notifications?.[0]).toMatchObject({ log: [{ status: 'delivered', detail: 'delivered' }] })
    // A resident sees the alert once the office made it public for the community, and still no deliveries.
    await app.inject({ method: 'POST', url: `/api/v1/alerts/${row?.id}/publish`, headers: auth.admin, payload: { public: true } })
    const resident = await app.inject({ url: `/api/v1/alerts/${row?.id}`, headers: auth.resident })
    expect(resident.statusCode).toBe(200)
    expect(resident.json()).not.toHaveProperty('notifications')
    expect(resident.body).not.toContain('138****1234')
  })

  it('a Web Push subscription must name a public https endpoint', async () => {
    const add = (endpoint: string) =>
      app.inject({ method: 'POST', url: `/api/v1/users/${ids.a2}/contact-points`, headers: auth.admin, payload: { kind: 'webpush', address: JSON.stringify({ endpoint, keys: { p256dh: 'BPk', auth: 'x1' } }) } })
    for (const endpoint of ['https://127.0.0.1/push', 'https://[::1]/push', 'https://localhost/push', 'https://10.1.2.3/push', 'https://169.254.169.254/latest', 'https://224.0.0.1/push']) {
      const res = await add(endpoint)
      expect(res.statusCode, endpoint).toBe(400)
      expect(res.json<{ code: string; message: string }>(), endpoint).toMatchObject({ code: 'destination_denied' })
      expect(res.json<{ message: string }>().message).toContain('body.address')
    }
    const plain = (await add('http://push.example.com/x')).json<{ code: string; message: string }>()
    expect(plain.code).toBe('validation_failed')
    expect(plain.message).toContain('https:')
    const notJson = await app.inject({ method: 'POST', url: `/api/v1/users/${ids.a2}/contact-points`, headers: auth.admin, payload: { kind: 'webpush', address: 'https://push.example.com/x' } })
    expect(notJson.json<{ code: string }>().code).toBe('validation_failed')
    expect(notJson.json<{ message: string }>().message).toContain('PushSubscription')
    expect((await add('https://fcm.googleapis.com/fcm/send/abc')).statusCode).toBe(201)
  })

  it('a link expires', async () => {
    now = T0 + 2 * 3_600_000
    const res = await app.inject({ method: 'POST', url: '/n/1.AAAAAAAAAAAA' })
    expect(res.json()).toMatchObject({ code: 'not_found' })
    const [d] = await db.query<{ id: string }>('SELECT id FROM notify_deliveries ORDER BY id LIMIT 1')
    const token = notifications.context.links.token(Number(d?.id))
    expect((await app.inject({ url: `/n/${token}` })).json()).toMatchObject({ code: 'link_expired' })
  })
})
