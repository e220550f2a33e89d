// Reaching people (issue 9): alerts raised through the real alert service on a real PostgreSQL
// page the on-call people through the durable outbox, over the generic HTTP SMS adapter, to a
// real local HTTP gateway. The server clock is controllable (deadlines, quiet hours, retries);
// the gateway is real, and so are its failures (5xx, 429, connection refused).
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertService, DEFAULT_DEADLINES } from '../../api/alerts/service.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { claimDueNotifications, deliveriesOfAlert } from '../../core/repos/notify-deliveries.ts'
import { insertContact, insertOverride, upsertRota } from '../../core/repos/notify-setup.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertUser } from '../../core/repos/tokens.ts'
import { NotificationDispatcher } from '../../notify/dispatcher.ts'
import { Notifications, type NotifySettings } from '../../notify/notifications.ts'
import { createChannel } from '../../notify/setup.ts'
import { createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { SmsGateway } from '../helpers/sms-gateway.ts'

const M = 60_000
/** Wednesday 4 March 2026, 10:00 in Shanghai: the first week of the rotas below. */
const T0 = Date.UTC(2026, 2, 4, 2, 0)
const PHONE = { a1: '13800000001', a2: '13800000002', b1: '13900000001', manager: '13700000001', duty: '13600000001' }

const pg = await hasPostgres()
let db: Db
let drop: () => Promise<void>
let now = T0
const clock = () => new Date(now)
const gateway = new SmsGateway()
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

describe.skipIf(!pg)('notifications end to end', () => {
  beforeAll(async () => {
    const t = await createTestDatabase()
    drop = t.drop
    db = await openDb({ url: t.url })
    await migrate(db, { log: silentLogger, retentionDays: 30, compressAfterDays: 7 })
    await gateway.start()
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
    })
    alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger, clock)
    notifications = new Notifications(db, alerts, key, SETTINGS, silentLogger, clock)
    await notifications.start()
  })

  afterAll(async () => {
    await notifications.stop()
    await gateway.stop()
    await db.close()
    await drop()
  })

  it('pages the on-call crew of the dispatched company by SMS, and nobody else', async () => {
    now = T0
    const id = await raise('entrapment')
    const [sms] = await eventually(() => (gateway.to(PHONE.a1).length ? gateway.to(PHONE.a1) : undefined), 10_000, 'the SMS to a1')
    expect(sms?.text).toMatch(/^【紧急】梅陇一村电梯困人，10:05前确认 https:\/\/hb\.example\/n\/[0-9a-z]+\.[\w-]{12}$/)
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
    await alerts.act(id, 'acknowledge', 'a1', undefined)
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
    // The duty officer reads English.
    expect(duty?.text).toMatch(/^\[CRITICAL\] .*ack by 11:05 https:\/\/hb\.example\/n\//)
    await alerts.act(id, 'acknowledge', 'a1', undefined)
    now += 30 * M
    await alerts.escalate(clock(), 10 * M)
    notifications.dispatcher.kick()
    // Nothing was queued after the acknowledgement; a pass over the queue sends nothing more.
    await new Promise((r) => setTimeout(r, 300))
    expect(gateway.received.slice(before).map((r) => r.to)).toEqual([PHONE.a1, PHONE.manager, PHONE.duty])
    const log = await deliveriesOfAlert(db, id, 10)
    expect(log.map((d) => [d.eventType, d.step, d.userName, d.status])).toEqual([
      ['raised', 1, 'a1', 'delivered'],
      ['escalated', 2, 'manager-a', 'delivered'],
      ['reminded', 3, 'duty', 'delivered'],
    ])
  })

  it('a swap override changes who is paged', async () => {
    now = T0 + 2 * 60 * M
    await insertOverride(db, { rotaId: 'a-crew', userId: user.a2, kind: 'swap', startsAt: new Date(now - M), endsAt: new Date(now + 60 * M), note: 'a1 at the dentist', createdBy: 'a1' })
    const a1Before = gateway.to(PHONE.a1).length
    await raise('entrapment')
    await eventually(() => (gateway.to(PHONE.a2).length ? true : undefined), 10_000, 'the SMS to a2')
    expect(gateway.to(PHONE.a1).length).toBe(a1Before)
  })

  it('quiet hours hold a minor alert until they end, but never a critical one', async () => {
    // 23:30 in Shanghai, the same first rota week.
    now = Date.UTC(2026, 2, 4, 15, 30)
    const before = gateway.received.length
    const minor = await raise('battery')
    await raise('entrapment')
    await eventually(() => (gateway.received.length > before ? true : undefined), 10_000, 'the critical page')
    await new Promise((r) => setTimeout(r, 300))
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
    await createChannel(db, key, { companyId: 'co-b', kind: 'sms_http', name: 'B SMS', settings: { url: gateway.url(), perMinute: 2 }, createdBy: 'fixture' })
    const before = gateway.to(PHONE.b1).length
    const ids = [await raise('entrapment', 'b'), await raise('entrapment', 'b'), await raise('entrapment', 'b')]
    await eventually(() => (gateway.to(PHONE.b1).length - before >= 2 ? true : undefined), 10_000, 'two pages')
    const waiting = await eventually(async () => {
      const rows = (await Promise.all(ids.map((id) => deliveriesOfAlert(db, id, 1)))).flat()
      return rows.find((d) => d.log.some((l) => l.status === 'rate limited'))
    }, 10_000, 'a page waiting for the limit')
    expect(waiting).toMatchObject({ status: 'pending', attempts: 0 })
    expect(waiting.log.at(-1)?.detail).toBe('channel limit of 2 a minute reached; queued')
    await new Promise((r) => setTimeout(r, 300))
    expect(gateway.to(PHONE.b1).length - before).toBe(2)
    now += 61_000
    notifications.dispatcher.kick()
    await eventually(() => (gateway.to(PHONE.b1).length - before >= 3 ? true : undefined), 10_000, 'the third page')
    const delivered = async () => (await Promise.all(ids.map(async (id) => (await deliveriesOfAlert(db, id, 1))[0]?.status))).every((st) => st === 'delivered')
    await eventually(async () => ((await delivered()) ? true : undefined), 10_000, 'every page recorded as delivered')
    await db.query(`UPDATE notify_channels SET enabled = false WHERE company_id = 'co-b'`)
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
      await new Promise((r) => setTimeout(r, 300))
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

  it('pages claimed by a process that died are sent once when its lease ends', async () => {
    now = T0 + 5 * 60 * M
    await notifications.stop()
    const before = gateway.received.length
    const id = await raise('entrapment')
    // A process claims the page and dies before sending it (kill -9: no stop, no record).
    expect(await claimDueNotifications(db, clock(), SETTINGS.leaseMs, 10)).toHaveLength(1)
    await notifications.start()
    notifications.dispatcher.kick()
    await new Promise((r) => setTimeout(r, 300))
    expect(gateway.received.length).toBe(before)
    now += SETTINGS.leaseMs
    notifications.dispatcher.kick()
    await eventually(() => (gateway.received.length > before ? true : undefined), 10_000, 'the page after the lease')
    await new Promise((r) => setTimeout(r, 300))
    expect(gateway.received.length).toBe(before + 1)
    await eventually(async () => ((await deliveriesOfAlert(db, id, 5)).map((d) => d.status).join() === 'delivered' ? true : undefined), 10_000, 'the page recorded as delivered')
  })
})
