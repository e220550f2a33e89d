// Reaching people (issue 9): alerts raised through the real alert service on a real PostgreSQL
// page the on-call people through the durable outbox, over the generic HTTP SMS adapter to a
// real local HTTP gateway, and the company's WeCom group robot (群机器人) at a local server that
// checks its request byte for byte. The server clock is controllable (deadlines, quiet hours,
// retries); the servers are real, and so are their failures (5xx, 429, connection refused).
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deliveryLog } from '../../api/alerts/delivery-log.ts'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { claimDueNotifications, deliveriesOfAlert } from '../../core/repos/notify-deliveries.ts'
import { eventsOf } from '../../core/repos/alerts.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { deletePolicy, insertContact, insertOverride, setChannelEnabled, upsertPolicy, upsertRota } from '../../core/repos/notify-setup.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertUser } from '../../core/repos/tokens.ts'
import { NotificationDispatcher } from '../../notify/dispatcher.ts'
import { Notifications, type NotifySettings } from '../../notify/notifications.ts'
import { companyCoverage } from '../../notify/coverage.ts'
import { createChannel } from '../../notify/setup.ts'
import { createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { SmsGateway } from '../helpers/sms-gateway.ts'
import { vendorServer, type VendorServer } from '../notify/vendor-server.ts'
import { ALLOW_LOOPBACK, LOCAL_TARGETS } from '../helpers/egress.ts'

const M = 60_000
const settle = () => new Promise((r) => setTimeout(r, 300))
/** Wednesday 4 March 2026, 10:00 in Shanghai: the first week of the rotas below. */
const T0 = Date.UTC(2026, 2, 4, 2, 0)
const PHONE = { a1: '13800000001', a2: '13800000002', b1: '13900000001', manager: '13700000001', duty: '13600000001' }

const pg = await hasPostgres()
let db: Db
let drop: () => Promise<void>
let now = T0
const clock = () => new Date(now)
const gateway = new SmsGateway()
let wecom: VendorServer
/** The group robots' webhook keys (the whole credential: it must never reach a log). */
const WECOM_KEY = { a: 'wecom-key-company-a', b: 'wecom-key-company-b' }
const bot: Record<'a' | 'b', string> = { a: '', b: '' }
/** What the notification core wrote to its process log, one JSON line each. */
const logLines: string[] = []
const processLog = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString('utf8')), done()) }))
let alerts: AlertService
let notifications: Notifications
const SETTINGS: NotifySettings = {
  retryBaseMs: 30_000,
  retryMaxMs: 600_000,
  maxAttempts: 8,
  pollMs: 50,
  leaseMs: 60_000,
  companyPerMinute: 0,
  timezone: 'Asia/Shanghai',
  linkBaseUrl: 'https://hb.example',
  linkTtlMs: 24 * 3_600_000,
  destinations: ALLOW_LOOPBACK,
}
const user: Record<keyof typeof PHONE, string> = { a1: '', a2: '', b1: '', manager: '', duty: '' }
let device = 0

async function raise(ruleId: string, communityDevice = 'a'): Promise<number> {
  // Each raise on a device of its own: repeats of one device would only update its alert.
  device++
  const id = `el-${communityDevice}-${device}`
  await provisionDevices(db, [{ id, kind: 'elevator', communityId: `cm-${communityDevice}` }])
  const { alert } = await alerts.report({ ruleId, deviceId: id, condition: 'active', value: 1 }, 'rules-engine')
  if (!alert) throw new Error('no alert raised')
  return alert.id
}

/** The page of one of `ids` (over channels of `kind`) that waits for a rate limit: queued, not sent, and logged so. */
async function queuedByLimit(ids: number[], detail: string, kind?: string): Promise<void> {
  const waiting = await eventually(async () => {
    const rows = (await Promise.all(ids.map((id) => deliveriesOfAlert(db, id, 5)))).flat()
    return rows.find((d) => (kind === undefined || d.channelKind === kind) && d.log.some((l) => l.status === 'rate limited'))
  }, 10_000, `a page waiting: ${detail}`)
  expect(waiting).toMatchObject({ status: 'pending', attempts: 0 })
  expect(waiting.log.at(-1)?.detail).toBe(detail)
}

describe.skipIf(!pg)('notifications end to end', () => {
  beforeAll(async () => {
    const t = await createTestDatabase()
    drop = t.drop
    db = await openDb({ url: t.url })
    await migrate(db, { log: silentLogger })
    await gateway.start()
    wecom = await vendorServer()
    wecom.answer({ status: 200, body: { errcode: 0, errmsg: 'ok' } })
    for (const co of ['a', 'b']) {
      await createCompany(db, { id: `co-${co}`, name: `Company ${co}`, contact: null })
      await createCommunity(db, `cm-${co}`, { name: co === 'a' ? '梅陇一村' : '古美小区', district: null, street: null, address: null, lat: null, lon: null })
      await assignCommunity(db, `cm-${co}`, `co-${co}`, 'fixture', null)
    }
    await upsertRule(db, { id: 'entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { id: 'entrapment', name: '电梯困人', severity: 'critical' } })
    await upsertRule(db, { id: 'battery', type: 'threshold', severity: 'minor', enabled: true, definition: { id: 'battery', name: '电池电量低', severity: 'minor' } })
    user.a1 = await insertUser(db, { name: 'a1', role: 'crew', companyId: 'co-a' })
    user.a2 = await insertUser(db, { name: 'a2', role: 'crew', companyId: 'co-a' })
    user.b1 = await insertUser(db, { name: 'b1', role: 'crew', companyId: 'co-b' })
    user.manager = await insertUser(db, { name: 'manager-a', role: 'crew', companyId: 'co-a' })
    user.duty = await insertUser(db, { name: 'duty', role: 'operator' })
    for (const k of Object.keys(PHONE) as (keyof typeof PHONE)[]) {
      await insertContact(db, { userId: user[k], kind: 'phone', address: PHONE[k], locale: k === 'duty' ? 'en' : 'zh-CN', position: 0 })
    }
    const rota = (id: string, companyId: string | null, role: 'crew' | 'manager' | 'duty', members: string[]) =>
      upsertRota(db, { id, companyId, role, name: id, timezone: 'Asia/Shanghai', startsOn: '2026-03-02', handoverTime: '09:00', members, createdBy: 'fixture' })
    await rota('a-crew', 'co-a', 'crew', [user.a1, user.a2])
    await rota('a-manager', 'co-a', 'manager', [user.manager])
    await rota('b-crew', 'co-b', 'crew', [user.b1])
    await rota('office-duty', null, 'duty', [user.duty])

    const key = randomBytes(32)
    await createChannel(db, key, {
      companyId: null,
      kind: 'sms_http',
      name: 'office SMS gateway',
      settings: { url: gateway.url(), headers: { authorization: 'Bearer {{secret.key}}' }, body: '{"to":"{{phone}}","text":"{{text}}"}' },
      secrets: { key: 'gateway-key-1' },
      createdBy: 'fixture',
    }, LOCAL_TARGETS)
    // Each company's bot in its crew's group chat (a private deployment's base URL: the local server).
    for (const co of ['a', 'b'] as const) {
      const channel = await createChannel(db, key, { companyId: `co-${co}`, kind: 'wecom', name: `${co} 维修群`, settings: { baseUrl: wecom.base }, secrets: { key: WECOM_KEY[co] }, createdBy: 'fixture' }, LOCAL_TARGETS)
      bot[co] = channel.id
    }
    await setChannelEnabled(db, bot.b, false)
    alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger, clock)
    notifications = new Notifications(db, alerts, key, SETTINGS, processLog, clock)
    await notifications.start()
  })

  afterAll(async () => {
    await notifications.stop()
    await gateway.stop()
    await wecom.close()
    await db.close()
    await drop()
  })

  it("pages the on-call crew of the dispatched company by SMS and the company's WeCom robot within 10 s, and nobody else", async () => {
    now = T0
    const raisedAt = performance.now()
    const id = await raise('entrapment')
    const [sms] = await eventually(() => (gateway.to(PHONE.a1).length ? gateway.to(PHONE.a1) : undefined), 10_000, 'the SMS to a1')
    const smsMs = performance.now() - raisedAt
    const robot = await eventually(() => wecom.received[0], 10_000, 'the WeCom robot message')
    // Printed, not asserted: the machine is shared (the SMS time is polled, so up to 50 ms late).
    console.log(`raised → delivered: SMS within ${Math.round(smsMs)} ms, WeCom robot ${Math.round(robot.at - raisedAt)} ms`)
    // WeCom's 群机器人配置说明: POST /cgi-bin/webhook/send?key=KEY, application/json, a markdown
    // message (content ≤ 4096 bytes) — here built from the documented shape, not by the adapter.
    expect(wecom.received).toHaveLength(1)
    expect(robot.method).toBe('POST')
    expect(robot.url).toBe(`/cgi-bin/webhook/send?key=${WECOM_KEY.a}`)
    expect(robot.headers['content-type']).toBe('application/json')
    const link = /\]\((https:\/\/hb\.example\/n\/[0-9a-z]+\.[\w-]{12})\)/.exec(robot.body.toString('utf8'))?.[1] ?? 'no link'
    // The place, the device, the deadline and who else was paged; the link once.
    const content = `**【紧急】梅陇一村 电梯困人**\n紧急告警：电梯困人\n地点：梅陇一村\n设备：el-a-1\n请于 10:05 前确认\n已通知：a1\n[查看并确认](${link})`
    expect(robot.body.toString('utf8')).toBe(JSON.stringify({ msgtype: 'markdown', markdown: { content } }))
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096)
    // The group's link is not the crew member's: each page has its own.
    expect(sms?.text).not.toContain(link)
    expect(sms?.text).toMatch(/^【紧急】梅陇一村el-a-1电梯困人，10:05前确认 https:\/\/hb\.example\/n\/[0-9a-z]+\.[\w-]{12}$/)
    expect(sms?.text.length).toBeLessThanOrEqual(70)
    // The gateway key was sealed at rest and opened only to sign the request.
    expect(sms?.authorization).toBe('Bearer gateway-key-1')
    expect(gateway.to(PHONE.b1)).toHaveLength(0)
    expect(gateway.to(PHONE.a2)).toHaveLength(0)
    const [log] = await eventually(async () => {
      const rows = await deliveriesOfAlert(db, id, 10)
      return rows[0]?.status === 'delivered' ? rows : undefined
    }, 10_000, 'the delivery log')
    expect(log).toMatchObject({ status: 'delivered', attempts: 1, userName: 'a1', channelKind: 'sms_http', address: PHONE.a1 })
    expect(log?.log).toMatchObject([{ sent: true, ok: true, status: 'http 200' }])
    const robotLog = await eventually(async () => {
      const rows = await deliveriesOfAlert(db, id, 10)
      return rows[1]?.status === 'delivered' ? rows[1] : undefined
    }, 10_000, "the robot's delivery log")
    expect(robotLog).toMatchObject({ channelKind: 'wecom', userName: null, step: 1, log: [{ ok: true, status: 'errcode 0' }] })
    await alerts.act(id, 'acknowledge', 'a1', undefined)
    // The tests below count SMS pages alone.
    await setChannelEnabled(db, bot.a, false)
  })

  it('climbs to the manager at the acknowledge deadline, then the housing office; an acknowledgement stops it', async () => {
    now = T0 + 60 * M
    const before = gateway.received.length
    const id = await raise('entrapment')
    await eventually(() => (gateway.to(PHONE.a1).length >= 2 ? true : undefined), 10_000, 'the crew page')
    now += 5 * M + 1000
    await alerts.escalate(clock(), 10 * M)
    const [mgr] = await eventually(() => (gateway.to(PHONE.manager).length ? gateway.to(PHONE.manager) : undefined), 10_000, 'the manager page')
    expect(mgr?.text).toContain('电梯困人')
    now += 10 * M
    await alerts.escalate(clock(), 10 * M)
    const [duty] = await eventually(() => (gateway.to(PHONE.duty).length ? gateway.to(PHONE.duty) : undefined), 10_000, 'the duty officer page')
    // The duty officer reads English, and is told how late it is, not a deadline that has passed.
    expect(duty?.text).toMatch(/^\[CRITICAL\] .*el-a-\d+: 电梯困人, ack 10 min overdue https:\/\/hb\.example\/n\//)
    // Every further reminder pages the last step again, until someone acknowledges.
    now += 10 * M
    await alerts.escalate(clock(), 10 * M)
    await eventually(() => (gateway.to(PHONE.duty).length >= 2 ? true : undefined), 10_000, 'the second reminder')
    await alerts.act(id, 'acknowledge', 'a1', undefined)
    now += 30 * M
    await alerts.escalate(clock(), 10 * M)
    notifications.dispatcher.kick()
    // Nothing was queued after the acknowledgement; a pass over the queue sends nothing more.
    await settle()
    expect(gateway.received.slice(before).map((r) => r.to)).toEqual([PHONE.a1, PHONE.manager, PHONE.duty, PHONE.duty])
    const log = await deliveriesOfAlert(db, id, 10)
    expect(log.map((d) => [d.eventType, d.step, d.userName, d.status])).toEqual([
      ['raised', 1, 'a1', 'delivered'],
      ['escalated', 2, 'manager-a', 'delivered'],
      ['reminded', 3, 'duty', 'delivered'],
      ['reminded', 3, 'duty', 'delivered'],
    ])
  })

  it("a company with no rota pages the office's duty officer at once (within 10 s of the raise), and one whose crew is on call again is covered", async () => {
    await createCompany(db, { id: 'co-c', name: 'Company c', contact: null })
    await createCommunity(db, 'cm-c', { name: '平阳小区', district: null, street: null, address: null, lat: null, lon: null })
    await assignCommunity(db, 'cm-c', 'co-c', 'fixture', null)
    now = T0 + 3 * 60 * M
    expect((await companyCoverage(db, clock(), 'co-c'))[0]).toMatchObject({ uncovered: true, roles: { crew: { gap: 'no_rota' }, manager: { gap: 'no_rota' } } })
    const before = gateway.to(PHONE.duty).length
    const raisedAt = performance.now()
    const id = await raise('entrapment', 'c')
    const pages = await eventually(() => (gateway.to(PHONE.duty).length > before ? gateway.to(PHONE.duty) : undefined), 10_000, "the duty officer's page")
    console.log(`issue 20 coverage: a company without a rota — raised → the office duty's SMS in ${Math.round(performance.now() - raisedAt)} ms`)
    expect(pages.at(-1)?.text).toMatch(/^\[CRITICAL\] /)
    const [log] = await deliveriesOfAlert(db, id, 10)
    expect(log).toMatchObject({ eventType: 'raised', step: 1, userName: 'duty' })
    await alerts.act(id, 'acknowledge', 'duty', undefined)

    // A rota whose only member has no contact point a channel reaches is still a gap.
    const c1 = await insertUser(db, { name: 'c1', role: 'crew', companyId: 'co-c' })
    await upsertRota(db, { id: 'c-crew', companyId: 'co-c', role: 'crew', name: 'c-crew', timezone: 'Asia/Shanghai', startsOn: '2026-03-02', handoverTime: '09:00', members: [c1], createdBy: 'fixture' })
    expect((await companyCoverage(db, clock(), 'co-c'))[0]?.roles.crew).toMatchObject({ userId: c1, gap: 'no_contact' })
    await insertContact(db, { userId: c1, kind: 'phone', address: '13500000001', locale: 'zh-CN', position: 0 })
    const covered = (await companyCoverage(db, clock(), 'co-c'))[0]
    expect(covered?.roles.crew.gap).toBeUndefined()
    expect(covered?.roles.crew).toMatchObject({ userId: c1, contact: { address: '13500000001' } })
    // Covered for crew now: the next alert pages c1, not the office.
    const dutyPages = gateway.to(PHONE.duty).length
    const next = await raise('entrapment', 'c')
    await eventually(() => (gateway.to('13500000001').length ? true : undefined), 10_000, "c1's page")
    expect(gateway.to(PHONE.duty).length).toBe(dutyPages)
    await alerts.act(next, 'acknowledge', 'c1', undefined)
  })

  it("an alert handed to a person pages them although it is acknowledged; a claim acknowledges and pages nobody; the history keeps who had it", async () => {
    now = T0 + 4 * 60 * M
    const id = await raise('entrapment')
    // The crew's page of the raise first, so that nothing of this alert is in flight later.
    await eventually(async () => (await deliveriesOfAlert(db, id, 10)).find((d) => d.step === 1 && d.status === 'delivered'), 10_000, 'the raise page')
    const claimed = await alerts.assign(id, 'a1', 'a1', undefined)
    expect(claimed).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'a1', assignedTo: 'a1' })
    const handed = await alerts.assign(id, 'manager-a', 'a2', '我在外地，交给你')
    expect(handed).toMatchObject({ state: 'acknowledged', assignedTo: 'a2' })
    const page = await eventually(async () => (await deliveriesOfAlert(db, id, 10)).find((d) => d.step === 0 && d.status === 'delivered'), 10_000, "a2's page")
    expect(page).toMatchObject({ userName: 'a2', eventType: 'assigned', address: PHONE.a2 })
    // Nobody was paged for the claim: the only step-0 page is a2's.
    expect((await deliveriesOfAlert(db, id, 10)).filter((d) => d.step === 0)).toHaveLength(1)
    const assigned = (await eventsOf(db, id)).filter((e) => e.type === 'assigned').map((e) => [e.actor, e.data, e.note])
    expect(assigned).toEqual([
      ['a1', { to: 'a1', from: null }, null],
      ['manager-a', { to: 'a2', from: 'a1' }, '我在外地，交给你'],
    ])
    await alerts.act(id, 'resolve', 'a2', undefined)
    await expect(alerts.assign(id, 'manager-a', 'a1', undefined)).rejects.toThrow(/resolved; it cannot be assigned/)
  })

  it('names where the device is: building, unit and floor as the registry has them, then the device', async () => {
    now = T0 + 5 * 60 * M
    device++
    const id = `el-a-${device}`
    await provisionDevices(db, [{ id, kind: 'elevator', communityId: 'cm-a' }])
    await updateDevice(db, id, { name: '2号梯', building: '3', unit: '2', floor: 'B1' })
    const { alert } = await alerts.report({ ruleId: 'entrapment', deviceId: id, condition: 'active', value: 1 }, 'rules-engine')
    const sms = await eventually(() => [...gateway.to(PHONE.a1), ...gateway.to(PHONE.a2)].find((m) => m.text.includes('2号梯')), 10_000, 'the crew page')
    expect(sms.text).toMatch(/^【紧急】梅陇一村3号楼2单元B1层2号梯电梯困人，\d\d:\d\d前确认 https:/)
    if (alert) await alerts.act(alert.id, 'acknowledge', 'a1', undefined)
  })

  it('a swap override changes who is paged', async () => {
    now = T0 + 2 * 60 * M
    await insertOverride(db, { rotaId: 'a-crew', userId: user.a2, kind: 'swap', startsAt: new Date(now - M), endsAt: new Date(now + 60 * M), note: 'a1 at the dentist', createdBy: 'a1' })
    const a1Before = gateway.to(PHONE.a1).length
    const a2Before = gateway.to(PHONE.a2).length
    await raise('entrapment')
    await eventually(() => (gateway.to(PHONE.a2).length > a2Before ? true : undefined), 10_000, 'the SMS to a2')
    expect(gateway.to(PHONE.a1).length).toBe(a1Before)
  })

  it("an alert's repeats and updates page nobody again", async () => {
    now = T0 + 100 * M
    const before = gateway.received.length
    const id = await raise('entrapment')
    await eventually(() => (gateway.received.length > before ? true : undefined), 10_000, 'the first page')
    // The same device keeps reporting the entrapment, a minute apart: each report is an update.
    for (let i = 0; i < 3; i++) {
      now += 61_000
      await alerts.report({ ruleId: 'entrapment', deviceId: `el-a-${device}`, condition: 'active', value: 2 + i }, 'rules-engine')
    }
    const events = await db.query<{ type: string }>('SELECT type FROM alert_events WHERE alert_id = $1 ORDER BY id', [id])
    expect(events.map((e) => e.type)).toEqual(['raised', 'updated', 'updated', 'updated'])
    notifications.dispatcher.kick()
    await settle()
    expect(gateway.received.length).toBe(before + 1)
    expect(await deliveriesOfAlert(db, id, 10)).toHaveLength(1)
    await alerts.act(id, 'acknowledge', 'a1', undefined)
  })

  it('quiet hours hold a minor alert until they end, but never a critical one', async () => {
    // 23:30 in Shanghai, the same first rota week.
    now = Date.UTC(2026, 2, 4, 15, 30)
    const before = gateway.received.length
    const minor = await raise('battery')
    await raise('entrapment')
    await eventually(() => (gateway.received.length > before ? true : undefined), 10_000, 'the critical page')
    await settle()
    expect(gateway.received.slice(before).map((s) => s.text.slice(0, 4))).toEqual(['【紧急】'])
    const [held] = await deliveriesOfAlert(db, minor, 10)
    expect(held).toMatchObject({ status: 'pending', attempts: 0, heldUntil: new Date(Date.UTC(2026, 2, 4, 23, 0)) })
    // 07:00 in Shanghai: the held page goes out.
    now = Date.UTC(2026, 2, 4, 23, 0, 1)
    notifications.dispatcher.kick()
    await eventually(() => (gateway.received.length > before + 1 ? true : undefined), 10_000, 'the held minor page')
    expect(gateway.received.at(-1)?.text).toMatch(/^【一般】/)
  })

  it('a gateway that answers 500, 429 or refuses connections loses nothing, and the log says so', async () => {
    now = T0 + 3 * 60 * M
    gateway.script.push({ status: 500 }, { status: 429, retryAfterS: 120 })
    const id = await raise('entrapment')
    const retried = async (n: number) =>
      eventually(async () => {
        const [d] = await deliveriesOfAlert(db, id, 1)
        return d && d.log.length >= n ? d : undefined
      }, 10_000, `${n} attempts`)
    const first = await retried(1)
    expect(first.log[0]).toMatchObject({ ok: false, status: 'http 500' })
    // Backoff: the next attempt waits 30 s of server time.
    expect(first.log[0]?.retryAt).toEqual(new Date(now + 30_000))
    now += 31_000
    notifications.dispatcher.kick()
    const second = await retried(2)
    // 429 with Retry-After: 120 s, longer than the 60 s backoff: the vendor's wait wins.
    expect(second.log[1]).toMatchObject({ ok: false, status: 'http 429' })
    expect(second.log[1]?.retryAt).toEqual(new Date(now + 120_000))
    const port = gateway.port
    await gateway.stop()
    now += 121_000
    notifications.dispatcher.kick()
    const third = await retried(3)
    expect(third.log[2]).toMatchObject({ ok: false, status: 'ECONNREFUSED' })
    await gateway.start(port)
    now += 10 * M
    notifications.dispatcher.kick()
    const done = await retried(4)
    expect(done).toMatchObject({ status: 'delivered', attempts: 4 })
    expect(gateway.received.filter((s) => s.text.includes(`/n/${done.id.toString(36)}.`))).toHaveLength(1)
  })

  it("a number the gateway refuses for good moves the page to the person's next contact point", async () => {
    now = T0 + 3 * 60 * M + 15 * M
    await insertContact(db, { userId: user.a1, kind: 'phone', address: '13800000009', locale: 'zh-CN', position: 1 })
    gateway.script.push({ status: 400 })
    const id = await raise('entrapment')
    // The gateway has the SMS a moment before the dispatcher records its answer: wait for the record.
    const log = await eventually(async () => {
      const rows = await deliveriesOfAlert(db, id, 5)
      return rows.some((d) => d.address === '13800000009' && d.status === 'delivered') ? rows : undefined
    }, 10_000, 'the page to the second number')
    expect(log.map((d) => [d.address, d.status, d.log.map((l) => l.status)])).toEqual([
      [PHONE.a1, 'failed', ['http 400']],
      ['13800000009', 'delivered', ['http 200']],
    ])
    await alerts.act(id, 'acknowledge', 'a1', undefined)
  })

  it("a channel's documented limit queues pages beyond it and drops none", async () => {
    now = T0 + 3 * 60 * M + 30 * M
    const key = notifications.context.secretKey
    // Company B's own gateway account, documented at 2 messages a minute: preferred to the office's.
    await createChannel(db, key, { companyId: 'co-b', kind: 'sms_http', name: 'B SMS', settings: { url: gateway.url(), perMinute: 2 }, createdBy: 'fixture' }, LOCAL_TARGETS)
    const before = gateway.to(PHONE.b1).length
    const ids = [await raise('entrapment', 'b'), await raise('entrapment', 'b'), await raise('entrapment', 'b')]
    await eventually(() => (gateway.to(PHONE.b1).length - before >= 2 ? true : undefined), 10_000, 'two pages')
    await queuedByLimit(ids, 'channel limit of 2 a minute reached; queued')
    await settle()
    expect(gateway.to(PHONE.b1).length - before).toBe(2)
    now += 61_000
    notifications.dispatcher.kick()
    await eventually(() => (gateway.to(PHONE.b1).length - before >= 3 ? true : undefined), 10_000, 'the third page')
    const delivered = async () => (await Promise.all(ids.map(async (id) => (await deliveriesOfAlert(db, id, 1))[0]?.status))).every((st) => st === 'delivered')
    await eventually(async () => ((await delivered()) ? true : undefined), 10_000, 'every page recorded as delivered')
    await db.query(`UPDATE notify_channels SET enabled = false WHERE company_id = 'co-b'`)
  })

  it("a WeCom robot's 20 messages a minute: pages beyond them wait in the queue and none is dropped; its 429 is retried and the log says so", async () => {
    now = T0 + 3 * 60 * M + 45 * M
    await setChannelEnabled(db, bot.b, true)
    const start = wecom.received.length
    wecom.answer({ status: 429, headers: { 'retry-after': '1' } }, { status: 200, body: { errcode: 0, errmsg: 'ok' } })
    const ids: number[] = []
    for (let i = 0; i < 21; i++) ids.push(await raise('entrapment', 'b'))
    const robotPages = async () => (await Promise.all(ids.map((id) => deliveriesOfAlert(db, id, 5)))).map((rows) => rows.find((d) => d.channelKind === 'wecom'))
    // The 429 and 19 deliveries fill the minute; the 21st page waits for the window.
    await eventually(() => (wecom.received.length - start >= 20 ? true : undefined), 10_000, 'twenty robot requests')
    await queuedByLimit(ids, 'channel limit of 20 a minute reached; queued', 'wecom')
    await settle()
    expect(wecom.received.length - start).toBe(20)
    now += 61_000
    notifications.dispatcher.kick()
    const pages = await eventually(async () => {
      const rows = await robotPages()
      return rows.every((d) => d?.status === 'delivered') ? rows : undefined
    }, 10_000, 'every robot page delivered')
    const requests = wecom.received.slice(start)
    expect(requests.every((r) => r.url === `/cgi-bin/webhook/send?key=${WECOM_KEY.b}`)).toBe(true)
    // 21 messages, each once, and the one refused with 429 sent again.
    expect(requests).toHaveLength(22)
    expect(new Set(requests.map((r) => r.body.toString('utf8'))).size).toBe(21)
    const refused = pages.findIndex((d) => d?.log[0]?.status === 'http 429')
    expect(pages[refused]?.log.map((l) => [l.status, l.ok])).toEqual([['http 429', false], ['errcode 0', true]])
    const entry = (await deliveryLog(db, ids[refused] ?? 0, 10, 'Asia/Shanghai', true)).find((d) => d.channel.kind === 'wecom')
    expect(entry?.summary).toMatch(/^WeCom bot "b 维修群": http 429 → retried, delivered \d\d:\d\d:\d\d$/)
    // The company's people see the same attempts without what the vendor answered.
    const plain = (await deliveryLog(db, ids[refused] ?? 0, 10, 'Asia/Shanghai', false)).find((d) => d.channel.kind === 'wecom')
    expect(plain?.summary).toMatch(/^WeCom bot "b 维修群": retrying, delivered \d\d:\d\d:\d\d$/)
    expect(plain?.log.map((l) => [l.status, l.detail])).toEqual([['retrying', 'not delivered; will retry'], ['delivered', 'delivered']])
    await setChannelEnabled(db, bot.b, false)
    for (const id of ids) await alerts.act(id, 'acknowledge', 'b1', undefined)
  })

  it("a Feishu robot's 5 messages a second: the sixth waits for the next second, and is not dropped", async () => {
    now = T0 + 3 * 60 * M + 47 * M
    const feishu = await vendorServer()
    feishu.answer({ status: 200, body: { code: 0, msg: 'success', data: {} } })
    const secrets = { hookId: 'feishu-hook-b', secret: 'feishu-secret-b' }
    const channel = await createChannel(db, notifications.context.secretKey, { companyId: 'co-b', kind: 'feishu', name: 'b 飞书群', settings: { baseUrl: feishu.base }, secrets, createdBy: 'fixture' }, LOCAL_TARGETS)
    try {
      const ids: number[] = []
      for (let i = 0; i < 6; i++) ids.push(await raise('entrapment', 'b'))
      await eventually(() => (feishu.received.length >= 5 ? true : undefined), 10_000, 'five robot messages')
      await queuedByLimit(ids, 'channel limit of 5 a second reached; queued', 'feishu')
      await settle()
      expect(feishu.received).toHaveLength(5)
      now += 1100
      notifications.dispatcher.kick()
      await eventually(async () => {
        const rows = (await Promise.all(ids.map((id) => deliveriesOfAlert(db, id, 5)))).flat().filter((d) => d.channelKind === 'feishu')
        return rows.length === 6 && rows.every((d) => d.status === 'delivered') ? true : undefined
      }, 10_000, 'six robot pages delivered')
      expect(feishu.received).toHaveLength(6)
      for (const id of ids) await alerts.act(id, 'acknowledge', 'b1', undefined)
    } finally {
      await setChannelEnabled(db, channel.id, false)
      await feishu.close()
    }
  })

  it("a company's limit of pages a minute queues those beyond it and drops none", async () => {
    // Later than every page sent so far (the quiet-hours test's clock ran into the next morning):
    // the limit counts the pages of the minute before.
    now = T0 + 24 * 60 * M
    await notifications.stop()
    const { secretKey, links } = notifications.context
    const limited = new NotificationDispatcher(db, alerts.bus, secretKey, links, { ...SETTINGS, companyPerMinute: 1 }, silentLogger, clock)
    await limited.start()
    try {
      const before = gateway.to(PHONE.a1).length
      const ids = [await raise('entrapment'), await raise('entrapment')]
      await eventually(() => (gateway.to(PHONE.a1).length > before ? true : undefined), 10_000, 'the first page')
      await queuedByLimit(ids, 'company limit of 1 a minute reached; queued')
      await settle()
      expect(gateway.to(PHONE.a1).length).toBe(before + 1)
      now += 61_000
      limited.kick()
      await eventually(() => (gateway.to(PHONE.a1).length >= before + 2 ? true : undefined), 10_000, 'the second page')
      for (const id of ids) await alerts.act(id, 'acknowledge', 'a1', undefined)
    } finally {
      await limited.stop()
      await notifications.start()
    }
  })

  it('a restart in the middle, and two dispatchers at once, lose and duplicate nothing', async () => {
    now = T0 + 4 * 60 * M
    await notifications.stop()
    gateway.hold()
    const before = gateway.received.length
    // A first dispatcher takes some pages and is stopped while the gateway sits on them.
    const first = new NotificationDispatcher(db, alerts.bus, notifications.context.secretKey, notifications.context.links, SETTINGS, silentLogger, clock)
    await first.start()
    const ids: number[] = []
    for (let i = 0; i < 12; i++) ids.push(await raise('entrapment', i % 2 ? 'a' : 'b'))
    await eventually(() => (gateway.pending > 0 ? true : undefined), 10_000, 'a send in flight')
    const stopping = first.stop()
    gateway.release()
    await stopping
    // Two processes now share the rest.
    const second = new NotificationDispatcher(db, alerts.bus, notifications.context.secretKey, notifications.context.links, SETTINGS, silentLogger, clock)
    const third = new NotificationDispatcher(db, alerts.bus, notifications.context.secretKey, notifications.context.links, SETTINGS, silentLogger, clock)
    await second.start()
    await third.start()
    try {
      await eventually(() => (gateway.received.length - before >= 12 ? true : undefined), 10_000, 'all twelve pages')
      await settle()
      const texts = gateway.received.slice(before).map((s) => s.text)
      expect(new Set(texts).size).toBe(12)
      expect(texts).toHaveLength(12)
      const recorded = async () => (await Promise.all(ids.map(async (id) => (await deliveriesOfAlert(db, id, 5)).map((d) => d.status).join()))).every((st) => st === 'delivered')
      await eventually(async () => ((await recorded()) ? true : undefined), 10_000, 'one delivered page per alert')
    } finally {
      await second.stop()
      await third.stop()
      await notifications.start()
    }
  })

  it("the pages are written in the transaction of the alert's event: a raise that fails pages nobody", async () => {
    now = T0 + 5 * 60 * M - 10 * M
    const [{ n: queuedBefore } = { n: -1 }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notify_deliveries')
    const sentBefore = gateway.received.length
    // Something later in the same transaction fails (here a further outbox; in life the database).
    const failing = () => Promise.reject(new Error('the transaction fails after the pages were queued'))
    alerts.outboxes.push(failing)
    try {
      await expect(raise('entrapment')).rejects.toThrow(/the transaction fails/)
    } finally {
      alerts.outboxes.splice(alerts.outboxes.indexOf(failing), 1)
    }
    expect(await db.query('SELECT 1 FROM alerts WHERE device_id = $1', [`el-a-${device}`])).toHaveLength(0)
    const [{ n: queuedAfter } = { n: -2 }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notify_deliveries')
    expect(queuedAfter).toBe(queuedBefore)
    notifications.dispatcher.kick()
    await settle()
    expect(gateway.received.length).toBe(sentBefore)
  })

  it('pages claimed by a process that died are sent once when its lease ends', async () => {
    now = T0 + 5 * 60 * M
    await notifications.stop()
    const before = gateway.received.length
    const id = await raise('entrapment')
    // A process claims the page and dies before sending it (kill -9: no stop, no record).
    expect(await claimDueNotifications(db, clock(), SETTINGS.leaseMs, 10)).toHaveLength(1)
    await notifications.start()
    notifications.dispatcher.kick()
    await settle()
    expect(gateway.received.length).toBe(before)
    now += SETTINGS.leaseMs
    notifications.dispatcher.kick()
    await eventually(() => (gateway.received.length > before ? true : undefined), 10_000, 'the page after the lease')
    await settle()
    expect(gateway.received.length).toBe(before + 1)
    await eventually(async () => ((await deliveriesOfAlert(db, id, 5)).map((d) => d.status).join() === 'delivered' ? true : undefined), 10_000, 'the page recorded as delivered')
  })

  it("a company's own policy changes who is paged and when; other companies keep the office's", async () => {
    // Company A skips its manager for critical alerts and has no quiet hours for minor ones.
    await upsertPolicy(db, 'co-a', 'critical', { steps: [{ rota: 'crew', bots: true }, { rota: 'duty', bots: false }], quietHours: null }, 'manager-a')
    await upsertPolicy(db, 'co-a', 'minor', { steps: [{ rota: 'crew', bots: true }, { rota: 'manager', bots: false }, { rota: 'duty', bots: false }], quietHours: null }, 'manager-a')
    try {
      now = T0 + 6 * 60 * M
      const id = await raise('entrapment')
      await eventually(async () => ((await deliveriesOfAlert(db, id, 5))[0]?.status === 'delivered' ? true : undefined), 10_000, 'the crew page')
      now += 5 * M + 1000
      await alerts.escalate(clock(), 10 * M)
      const climbed = await eventually(async () => {
        const rows = await deliveriesOfAlert(db, id, 5)
        return rows[1]?.status === 'delivered' ? rows : undefined
      }, 10_000, 'the page at the acknowledge deadline')
      // At the deadline the housing office is paged, not A's manager.
      expect(climbed.map((d) => [d.eventType, d.step, d.userName])).toEqual([
        ['raised', 1, 'a1'],
        ['escalated', 2, 'duty'],
      ])
      await alerts.act(id, 'acknowledge', 'a1', undefined)

      // 23:30 in Shanghai: A's minor alert pages at once, B's is held by the office's quiet hours.
      now = Date.UTC(2026, 2, 5, 15, 30)
      const minorA = await raise('battery', 'a')
      const minorB = await raise('battery', 'b')
      const [paged] = await eventually(async () => {
        const rows = await deliveriesOfAlert(db, minorA, 5)
        return rows[0]?.status === 'delivered' ? rows : undefined
      }, 10_000, "A's minor page")
      expect(paged).toMatchObject({ userName: 'a1', heldUntil: null })
      expect(gateway.to(PHONE.a1).at(-1)?.text).toMatch(/^【一般】/)
      const [held] = await deliveriesOfAlert(db, minorB, 5)
      expect(held).toMatchObject({ userName: 'b1', status: 'pending', heldUntil: new Date(Date.UTC(2026, 2, 5, 23, 0)) })
      for (const [alertId, by] of [[minorA, 'a1'], [minorB, 'b1']] as const) await alerts.act(alertId, 'acknowledge', by, undefined)
    } finally {
      await deletePolicy(db, 'co-a', 'critical')
      await deletePolicy(db, 'co-a', 'minor')
    }
  })

  it('the process log shows phone numbers masked and never a credential', async () => {
    const text = logLines.join('')
    // Deliveries and failures were both logged, by the recipient's masked number.
    expect(text).toContain('"to":"138****0001"')
    expect(text).toContain('notification failed; will retry')
    for (const phone of [...Object.values(PHONE), '13800000009']) expect(text).not.toContain(phone)
    for (const secret of ['gateway-key-1', WECOM_KEY.a, WECOM_KEY.b]) expect(text).not.toContain(secret)
  })
})
