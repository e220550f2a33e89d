// The alert reason as data, end to end: a reading over MQTT → the real rules engine → the API
// (POST /api/v1/alerts) → PostgreSQL → the alert API, and the company's WeCom group robot, whose
// messages are in Chinese. The reason comes back as data (`reasonDetail`) beside the English text,
// the raise and clear events carry it too, and the robot's message states it in Chinese. A
// reason that is not one of the closed set is refused at the edge, naming the field.
import { randomBytes } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rulesUnit } from '../../cli/stack.ts'
import { loadConfig } from '../../core/config.ts'
import { topics } from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { ruleRow, seedRules } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { DEFAULT_NOTIFY_DISPATCH } from '../../notify/dispatcher.ts'
import { Notifications } from '../../notify/notifications.ts'
import { createChannel } from '../../notify/setup.ts'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'
import type { RulesEngine } from '../../rules/engine.ts'
import { vendorServer, type VendorServer } from '../notify/vendor-server.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { eventually, hasPostgres } from '../helpers/services.ts'
import { ALLOW_LOOPBACK, LOCAL_TARGETS } from '../helpers/egress.ts'

const pgUp = await hasPostgres()

interface AlertBody {
  id: number
  reason: string | null
  reasonDetail: Record<string, unknown> | null
  condition: string
  history: { type: string; note: string | null; data: Record<string, unknown> | null }[]
}

describe.skipIf(!pgUp)('alert reason as data', () => {
  let receivers: ReceiverStack
  let engine: RulesEngine
  let notifications: Notifications
  let wecom: VendorServer
  let device: MqttClient
  let admin: string

  beforeAll(async () => {
    receivers = await startReceivers()
    const { stack, base } = receivers
    const db = stack.db
    await seedRules(db, DEFAULT_RULES.map(ruleRow))
    admin = (await issueToken(db, await insertUser(db, { name: 'reason-admin', role: 'admin' }))).token
    const service = (await issueToken(db, await insertUser(db, { name: 'reason-rules', role: 'service' }))).token
    // The company's robot in its crew's group chat: robots are written to in Chinese.
    wecom = await vendorServer()
    wecom.answer({ status: 200, body: { errcode: 0, errmsg: 'ok' } })
    const key = randomBytes(32)
    await createChannel(db, key, { companyId: 'co-test', kind: 'wecom', name: '维修群', settings: { baseUrl: wecom.base, msgtype: 'text' }, secrets: { key: 'wecom-key' }, createdBy: 'fixture' }, LOCAL_TARGETS)
    // The dispatcher on the API's own alert service: its outbox is written with each event.
    const alerts = receivers.app.deps.alerts
    notifications = new Notifications(db, alerts, key, { ...DEFAULT_NOTIFY_DISPATCH, destinations: ALLOW_LOOPBACK, pollMs: 50, linkBaseUrl: 'https://hb.example', linkTtlMs: 3_600_000 }, silentLogger)
    await notifications.start()
    const cfg = loadConfig({ RULES_TICK: '200ms', RULES_REPEAT_EVERY: '1s' })
    engine = rulesUnit(db, cfg, silentLogger, { apiUrl: base, token: service })
    await engine.start()
    await engine.whenRunning()
    device = await stack.connect('el-1')
  })

  afterAll(async () => {
    await device.endAsync(true)
    await engine.stop()
    await notifications.stop()
    await wecom.close()
    await receivers.stop()
  })

  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${receivers.base}${path}`, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` } })
    return { status: res.status, body: await res.json() }
  }
  const publish = (values: Record<string, number | boolean>) => device.publishAsync(topics.deviceTelemetry('el-1'), JSON.stringify({ values }), { qos: 1 })

  it('an alert the rules engine raises carries its reason as data through the API, and the Chinese message states it in Chinese', async () => {
    // The catalogue's overspeed rule: speed_mps > 3.5 for 5 s, clear below 3.
    await publish({ speed_mps: 5 })
    const [raised] = await eventually(async () => {
      const { items } = (await api('/api/v1/alerts?rule=elevator-overspeed&device=el-1')).body as { items: AlertBody[] }
      return items.length > 0 ? items : undefined
    }, 20_000, 'the overspeed alert')
    expect(raised).toMatchObject({
      reason: 'speed_mps 5 > 3.5 for 5s',
      reasonDetail: { key: 'threshold.raise', metric: 'speed_mps', observed: 5, op: '>', limit: 3.5, forMs: 5000 },
    })

    const robot = await eventually(() => wecom.received.find((r) => r.body.toString('utf8').includes('电梯超速')), 10_000, "the robot's message")
    const content = (JSON.parse(robot.body.toString('utf8')) as { text: { content: string } }).text.content
    expect(content).toContain('\n原因：运行速度 5 > 3.5，持续 5 秒\n')
    expect(content).not.toContain('speed_mps')

    await publish({ speed_mps: 0 })
    const detail = await eventually(async () => {
      const body = (await api(`/api/v1/alerts/${raised?.id ?? 0}`)).body as AlertBody
      return body.condition === 'cleared' ? body : undefined
    }, 10_000, 'the clear')
    const events = Object.fromEntries(detail.history.map((e) => [e.type, e]))
    expect(events.raised).toMatchObject({ note: 'speed_mps 5 > 3.5 for 5s', data: { reasonDetail: raised?.reasonDetail } })
    expect(events.cleared).toMatchObject({
      note: 'back to speed_mps < 3',
      data: { reasonDetail: { key: 'threshold.clear', conditions: [{ metric: 'speed_mps', op: '<', limit: 3 }], forMs: 0 } },
    })
  })

  it("refuses a known reason key whose fields do not fit, naming the field; a newer engine's key or none keeps the alert on its text", async () => {
    const report = { ruleId: 'elevator-vibration', deviceId: 'el-1', condition: 'active' }
    const misfit = await api('/api/v1/alerts', { method: 'POST', body: JSON.stringify({ ...report, reasonDetail: { key: 'nodata.silent', afterMs: 'ten minutes' } }) })
    expect(misfit.status).toBe(400)
    expect(misfit.body).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('body.reasonDetail.afterMs') as unknown })
    const shapeless = await api('/api/v1/alerts', { method: 'POST', body: JSON.stringify({ ...report, reasonDetail: 'too hot' }) })
    expect(shapeless.status).toBe(400)

    // A rules engine upgraded before this API sends a key it does not know: the alert is raised on
    // its text, without the detail, rather than lost.
    const newer = await api('/api/v1/alerts', { method: 'POST', body: JSON.stringify({ ...report, reason: 'vibration_mg 1600 above its seasonal band', reasonDetail: { key: 'seasonal.raise', band: 2 } }) })
    expect(newer).toMatchObject({ status: 200, body: { outcome: 'raised', alert: { reason: 'vibration_mg 1600 above its seasonal band', reasonDetail: null } } })

    // Without one (an older rules process, a flow): the alert keeps its text and has no detail.
    const older = await api('/api/v1/alerts', { method: 'POST', body: JSON.stringify({ ...report, ruleId: 'elevator-machine-room-hot', reason: 'machine_room_temp_c 45 > 40 for 5m' }) })
    expect(older).toMatchObject({ status: 200, body: { outcome: 'raised', alert: { reason: 'machine_room_temp_c 45 > 40 for 5m', reasonDetail: null } } })
  })
})
