// The all-in-one mode can run on PGlite (EMBEDDED_DB=pglite, where no PostgreSQL binaries exist):
// the outbox, its claim (FOR UPDATE SKIP LOCKED) and the delivery log work there too.
import { randomBytes } from 'node:crypto'
import { afterAll, expect, it } from 'vitest'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { openDb } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { deliveriesOfAlert } from '../../core/repos/notify-deliveries.ts'
import { insertContact, upsertRota } from '../../core/repos/notify-setup.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertUser } from '../../core/repos/tokens.ts'
import { DEFAULT_NOTIFY_DISPATCH } from '../../notify/dispatcher.ts'
import { Notifications } from '../../notify/notifications.ts'
import { createChannel } from '../../notify/setup.ts'
import { eventually } from '../helpers/services.ts'
import { SmsGateway } from '../helpers/sms-gateway.ts'
import { ALLOW_LOOPBACK, LOCAL_TARGETS } from '../helpers/egress.ts'

const gateway = new SmsGateway()
const db = await openDb({})
let notifications: Notifications | undefined

afterAll(async () => {
  await notifications?.stop()
  await gateway.stop()
  await db.close()
})

it('pages the on-call crew on the embedded database', async () => {
  await migrate(db, { log: silentLogger })
  await gateway.start()
  await provisionCommunity(db, { id: 'co-1', name: 'Co' }, { id: 'cm-1', name: '梅陇一村' })
  await provisionDevices(db, [{ id: 'el-1', kind: 'elevator', communityId: 'cm-1' }])
  await upsertRule(db, { id: 'entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { id: 'entrapment', name: '电梯困人', severity: 'critical' } })
  const crew = await insertUser(db, { name: 'crew', role: 'crew', companyId: 'co-1' })
  await insertContact(db, { userId: crew, kind: 'phone', address: '13812341234', locale: 'zh-CN', position: 0 })
  await upsertRota(db, { id: 'r', companyId: 'co-1', role: 'crew', name: 'r', timezone: 'Asia/Shanghai', startsOn: '2020-01-06', handoverTime: '09:00', members: [crew], createdBy: 't' })
  const key = randomBytes(32)
  await createChannel(db, key, { companyId: null, kind: 'sms_http', name: 'sms', settings: { url: gateway.url() }, createdBy: 't' }, LOCAL_TARGETS)
  const alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger)
  notifications = new Notifications(db, alerts, key, { ...DEFAULT_NOTIFY_DISPATCH, destinations: ALLOW_LOOPBACK, pollMs: 50, linkBaseUrl: 'http://127.0.0.1:3000', linkTtlMs: 3_600_000 }, silentLogger)
  await notifications.start()
  const { alert } = await alerts.report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active' }, 'rules')
  await eventually(() => gateway.to('13812341234')[0], 10_000, 'the SMS')
  const log = await eventually(async () => {
    const rows = await deliveriesOfAlert(db, alert?.id ?? 0, 5)
    return rows[0]?.status === 'delivered' ? rows : undefined
  }, 10_000, 'the delivery log')
  expect(log[0]?.log).toMatchObject([{ ok: true, status: 'http 200' }])
})
