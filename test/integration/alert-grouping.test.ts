// Grouping (issue 21): three covers displaced in one community within the window are one group of
// three — one page, then one digest when the window closes; a fourth after the window opens a new
// group and pages. Two raises at once for one key find one group (the key's advisory lock), on
// the embedded database and, when it runs, on PostgreSQL. The ranking still counts every alert.
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { groupMembers } from '../../core/repos/alert-groups.ts'
import { companyFigures } from '../../core/repos/evaluation.ts'
import { insertContact, upsertRota } from '../../core/repos/notify-setup.ts'
import { upsertRule } from '../../core/repos/rules.ts'
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

async function setUp(db: Db) {
  await migrate(db, { log: silentLogger })
  const gateway = new SmsGateway()
  await gateway.start()
  cleanup.push(() => gateway.stop())
  await provisionCommunity(db, { id: 'co-1', name: '物业一' }, { id: 'cm-1', name: '梅陇一村' })
  await provisionDevices(db, ['mh-1', 'mh-2', 'mh-3', 'mh-4'].map((id) => ({ id, kind: 'manhole' as const, communityId: 'cm-1' })))
  await upsertRule(db, { id: 'cover-displaced', type: 'threshold', severity: 'major', enabled: true, definition: { id: 'cover-displaced', name: '井盖位移', severity: 'major' } })
  const crew = await insertUser(db, { name: 'crew', role: 'crew', companyId: 'co-1' })
  await insertContact(db, { userId: crew, kind: 'phone', address: PHONE, locale: 'zh-CN', position: 0 })
  await upsertRota(db, { id: 'r', companyId: 'co-1', role: 'crew', name: 'r', timezone: 'Asia/Shanghai', startsOn: '2020-01-06', handoverTime: '09:00', members: [crew], createdBy: 't' })
  const key = randomBytes(32)
  await createChannel(db, key, { companyId: null, kind: 'sms_http', name: 'sms', settings: { url: gateway.url() }, createdBy: 't' }, LOCAL_TARGETS)
  let now = new Date('2026-03-02T02:00:00Z')
  const clock = () => now
  const alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger, clock, { windowMs: WINDOW, by: ['rule', 'community'] })
  const notifications = new Notifications(db, alerts, key, { ...DEFAULT_NOTIFY_DISPATCH, destinations: ALLOW_LOOPBACK, pollMs: 50, linkBaseUrl: 'http://127.0.0.1:3000', linkTtlMs: 3_600_000 }, silentLogger, clock)
  await notifications.start()
  cleanup.push(() => notifications.stop())
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms)
    notifications.dispatcher.kick()
  }
  const raise = async (deviceId: string) => (await alerts.report({ ruleId: 'cover-displaced', deviceId, condition: 'active' }, 'rules')).alert
  return { gateway, alerts, advance, raise, clock }
}

async function scenario(db: Db) {
  const { gateway, advance, raise, clock } = await setUp(db)
  const t0 = clock()
  const first = await raise('mh-1')
  expect(first).toMatchObject({ groupId: first?.id, groupSize: 1 })
  advance(60_000)
  // Two raises of the same key at once: one group (the key's lock), never two.
  const [second, third] = await Promise.all([raise('mh-2'), raise('mh-3')])
  expect([second?.groupId, third?.groupId]).toEqual([first?.id, first?.id])
  const members = await groupMembers(db, first?.id ?? 0, 10)
  expect(members.map((a) => a.deviceId).sort()).toEqual(['mh-1', 'mh-2', 'mh-3'])
  expect(members.every((a) => a.groupSize === 3)).toBe(true)

  // One page for the group; the later members wait for the digest.
  await eventually(() => gateway.to(PHONE)[0], 10_000, 'the page')
  await new Promise((r) => setTimeout(r, 300))
  expect(gateway.to(PHONE)).toHaveLength(1)
  expect(gateway.to(PHONE)[0]?.text).toContain('井盖位移')

  // The window closes: one digest naming the other two.
  advance(WINDOW)
  const digest = await eventually(() => gateway.to(PHONE)[1], 10_000, 'the digest')
  expect(digest.text).toContain('另有2条井盖位移')
  expect(digest.text).toMatch(/mh-[23].*mh-[23]/)
  await new Promise((r) => setTimeout(r, 300))
  expect(gateway.to(PHONE)).toHaveLength(2)

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
