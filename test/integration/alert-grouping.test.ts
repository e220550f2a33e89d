// Grouping (issue 21): three covers displaced in one community within the window are one group of
// three — one page, then one digest when the window closes (kept across a restart, not cancelled by
// acknowledging one member, dropped when all it tells of were acknowledged); a fourth after the
// window opens a new group and pages. Two raises of a new key at once find one group (the key's
// advisory lock), on the embedded database and, when it runs, on PostgreSQL. The group's
// escalation follows its first alert. The ranking still counts every alert.
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { groupMembers } from '../../core/repos/alert-groups.ts'
import { companyFigures } from '../../core/repos/evaluation.ts'
import { deliveriesOfAlert } from '../../core/repos/notify-deliveries.ts'
import { insertContact, upsertRota } from '../../core/repos/notify-setup.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertSilence } from '../../core/repos/silences.ts'
import { insertUser } from '../../core/repos/tokens.ts'
import { DEFAULT_NOTIFY_DISPATCH } from '../../notify/dispatcher.ts'
import { Notifications } from '../../notify/notifications.ts'
import { createChannel } from '../../notify/setup.ts'
import { createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { SmsGateway } from '../helpers/sms-gateway.ts'
import { ALLOW_LOOPBACK, LOCAL_TARGETS } from '../helpers/egress.ts'

const PHONE = '13812341234'
const WINDOW = 10 * 60_000
const cleanup: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const step of cleanup.reverse()) await step()
})

const MANAGER_PHONE = '13912345678'

async function setUp(db: Db) {
  await migrate(db, { log: silentLogger })
  const gateway = new SmsGateway()
  await gateway.start()
  cleanup.push(() => gateway.stop())
  await provisionCommunity(db, { id: 'co-1', name: '物业一' }, { id: 'cm-1', name: '梅陇一村' })
  await provisionDevices(db, ['mh-1', 'mh-2', 'mh-3', 'mh-4'].map((id) => ({ id, kind: 'manhole' as const, communityId: 'cm-1' })))
  await upsertRule(db, { id: 'cover-displaced', type: 'threshold', severity: 'major', enabled: true, definition: { id: 'cover-displaced', name: '井盖位移', severity: 'major' } })
  for (const [name, role, phone] of [['crew', 'crew', PHONE], ['manager', 'manager', MANAGER_PHONE]] as const) {
    const user = await insertUser(db, { name, role: 'crew', companyId: 'co-1' })
    await insertContact(db, { userId: user, kind: 'phone', address: phone, locale: 'zh-CN', position: 0 })
    await upsertRota(db, { id: role, companyId: 'co-1', role, name: role, timezone: 'Asia/Shanghai', startsOn: '2020-01-06', handoverTime: '09:00', members: [user], createdBy: 't' })
  }
  const key = randomBytes(32)
  await createChannel(db, key, { companyId: null, kind: 'sms_http', name: 'sms', settings: { url: gateway.url() }, createdBy: 't' }, LOCAL_TARGETS)
  let now = new Date('2026-03-02T02:00:00Z')
  const clock = () => now
  // The alert service and the dispatcher as one API process has them; `restart` builds them anew.
  const start = async () => {
    const alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger, clock, { windowMs: WINDOW, by: ['rule', 'community'] })
    const notifications = new Notifications(db, alerts, key, { ...DEFAULT_NOTIFY_DISPATCH, destinations: ALLOW_LOOPBACK, pollMs: 50, linkBaseUrl: 'http://127.0.0.1:3000', linkTtlMs: 3_600_000 }, silentLogger, clock)
    await notifications.start()
    return { alerts, notifications }
  }
  let api = await start()
  cleanup.push(() => api.notifications.stop())
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms)
    api.notifications.dispatcher.kick()
  }
  const restart = async () => {
    await api.notifications.stop()
    api = await start()
  }
  const raise = async (deviceId: string) => (await api.alerts.report({ ruleId: 'cover-displaced', deviceId, condition: 'active' }, 'rules')).alert
  const ack = (id: number | undefined) => api.alerts.act(id ?? 0, 'acknowledge', 'crew', undefined)
  return { gateway, advance, raise, ack, restart, clock, escalate: () => api.alerts.escalate(now, 10 * 60_000) }
}

/** Waits a little, so that a message that should not be sent would have been. */
const settle = () => new Promise((r) => setTimeout(r, 300))

async function scenario(db: Db) {
  const { gateway, advance, raise, ack, restart, clock } = await setUp(db)
  const t0 = clock()
  // Two raises of a new key at once: one group (the key's lock), never two.
  const pair = await Promise.all([raise('mh-1'), raise('mh-2')])
  const first = pair.find((a) => a?.groupId === a?.id)
  const second = pair.find((a) => a !== first)
  expect(first).toMatchObject({ groupSize: 1 })
  expect(second?.groupId).toBe(first?.id)
  advance(60_000)
  const third = await raise('mh-3')
  expect(third?.groupId).toBe(first?.id)
  const members = await groupMembers(db, first?.id ?? 0, 10)
  expect(members.map((a) => a.deviceId).sort()).toEqual(['mh-1', 'mh-2', 'mh-3'])
  expect(members.every((a) => a.groupSize === 3)).toBe(true)

  // One page for the group; the later members wait for the digest.
  await eventually(() => gateway.to(PHONE)[0], 10_000, 'the page')
  await settle()
  expect(gateway.to(PHONE)).toHaveLength(1)
  expect(gateway.to(PHONE)[0]?.text).toContain('井盖位移')

  // Acknowledging the member whose raise queued the digest does not cancel it (the third is open);
  // a restart before the window closes does not lose it (it is an outbox row).
  await ack(second?.id)
  await restart()
  // The window closes: one digest naming the other two.
  advance(WINDOW)
  const digest = await eventually(() => gateway.to(PHONE)[1], 10_000, 'the digest')
  expect(digest.text).toContain('另有2条井盖位移')
  expect(digest.text).toMatch(new RegExp(`${second?.deviceId}.*mh-3`, 's'))
  await settle()
  expect(gateway.to(PHONE)).toHaveLength(2)
  // The delivery log shows it with the member whose raise queued it, as a digest.
  expect((await deliveriesOfAlert(db, second?.id ?? 0, 5)).map((d) => [d.digest, d.status])).toEqual([[true, 'delivered']])

  // After the window: a new group, paged on its own.
  expect(clock().getTime() - t0.getTime()).toBeGreaterThan(WINDOW)
  const fourth = await raise('mh-4')
  expect(fourth).toMatchObject({ groupId: fourth?.id, groupSize: 1 })
  await eventually(() => gateway.to(PHONE)[2], 10_000, 'the fourth alert\'s page')
  expect(gateway.to(PHONE)[2]?.text).toContain('井盖位移')

  // The ranking counts each alert, not each group.
  const [figures] = await companyFigures(db, new Date(t0.getTime() - 60_000), new Date(clock().getTime() + 60_000), clock(), 'co-1')
  expect(figures?.alerts).toBe(4)
}

describe('alert grouping', () => {
  it("follows the first alert's escalation: the manager is paged once for the group", async () => {
    const db = await openDb({})
    cleanup.push(() => db.close())
    const { gateway, advance, raise, escalate } = await setUp(db)
    for (const id of ['mh-1', 'mh-2', 'mh-3']) await raise(id)
    await eventually(() => gateway.to(PHONE)[0], 10_000, 'the page')
    // The acknowledge deadline (major: 15 min) passes for all three, past the window (the digest goes).
    advance(16 * 60_000)
    await eventually(() => gateway.to(PHONE)[1], 10_000, 'the digest')
    expect(await escalate()).toBe(3)
    await eventually(() => gateway.to(MANAGER_PHONE)[0], 10_000, 'the escalation')
    await settle()
    expect(gateway.to(MANAGER_PHONE)).toHaveLength(1)
    expect(gateway.to(PHONE)).toHaveLength(2)
  })

  it('drops the digest when every member it tells of was acknowledged before the window closed', async () => {
    const db = await openDb({})
    cleanup.push(() => db.close())
    const { gateway, advance, raise, ack } = await setUp(db)
    const first = await raise('mh-1')
    for (const id of ['mh-2', 'mh-3']) await ack((await raise(id))?.id)
    await eventually(() => gateway.to(PHONE)[0], 10_000, 'the page')
    advance(WINDOW + 1000)
    const log = await eventually(async () => {
      const rows = await db.query<{ status: string; detail: string }>('SELECT status, last_detail AS detail FROM notify_deliveries WHERE digest_of = $1', [first?.id])
      return rows[0]?.status === 'cancelled' ? rows : undefined
    }, 10_000, 'the cancelled digest')
    expect(log).toEqual([{ status: 'cancelled', detail: 'every alert of the digest acknowledged before sending' }])
    expect(gateway.to(PHONE)).toHaveLength(1)
  })

  it('a member pages on its own when the first was raised in a maintenance window that does not cover it', async () => {
    const db = await openDb({})
    cleanup.push(() => db.close())
    const { gateway, raise, clock } = await setUp(db)
    await insertSilence(db, { deviceId: 'mh-1', communityId: null, ruleId: null, startsAt: clock(), endsAt: new Date(clock().getTime() + 3_600_000), reason: 'repair', createdBy: 't' })
    const first = await raise('mh-1')
    expect(first?.silenced).toBe(true)
    const second = await raise('mh-2')
    expect(second?.groupId).toBe(first?.id)
    const page = await eventually(() => gateway.to(PHONE)[0], 10_000, "the member's own page")
    expect(page.text).toContain('mh-2')
  })

  it('groups, pages once and digests on the embedded database', async () => {
    const db = await openDb({})
    cleanup.push(() => db.close())
    await scenario(db)
  })

  it('the same on PostgreSQL, with raises on two connections at once', async (ctx) => {
    if (!(await hasPostgres())) return ctx.skip()
    const target = await createTestDatabase()
    const db = await openDb({ url: target.url })
    cleanup.push(async () => {
      await db.close()
      await target.drop()
    })
    await scenario(db)
  })
})
