// The whole way from a sensor to the right person at the right door (issue 20's acceptance), with
// nothing stood in for: an elevator publishes "trapped" over MQTT to the real broker and ingest, the
// rules engine raises the alert through the API, the notification dispatcher pages the on-call
// crew member by SMS through a local gateway — the SMS names the building, unit and elevator and
// fits one segment — and then, in Chromium: the crew member opens the SMS link on the phone and
// acknowledges, signs in with name and password, claims the job, marks on my way and arrived and
// resolves it with a photo and a note for the residents; the operator at a desk sees who has it,
// the elapsed times to the second and the SMS in the history, and makes it public; a resident sees
// the note, after a reload too (their own reports' ratings: residents.test.ts). Once per language.
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BrokerWithIngest, rulesUnit } from '../../cli/stack.ts'
import { loadConfig } from '../../core/config.ts'
import { topics } from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { provisionDevices, type DeviceCredential } from '../../core/provision.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { segmentMax } from '../../notify/render.ts'
import type { RulesEngine } from '../../rules/engine.ts'
import { ALLOW_GATEWAY } from '../helpers/egress.ts'
import { tinyPng } from '../helpers/images.ts'
import { startPaging, type Paging } from '../helpers/paging.ts'
import { freePort } from '../helpers/services.ts'
import { COMMUNITY } from '../helpers/stack.ts'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()
const CREW = '张伟'
const MOBILE = '13912345678'
/** The crew member's own password, chosen at the first sign-in. */
const CHOSEN = '电梯-救援-2026'
/** One elevator per language, each in its own building (a resolved entrapment re-arms only later). */
const LIFTS = {
  'zh-CN': { id: 'el-8', name: '3号梯', building: '5', unit: '2' },
  en: { id: 'el-9', name: '4号梯', building: '7', unit: '1' },
} as const

describe.skipIf(!haveChromium)('the journey: a trapped passenger, from the sensor to the resident', () => {
  let h: Harness
  let paging: Paging
  let broker: BrokerWithIngest
  let engine: RulesEngine
  let creds: Map<string, DeviceCredential>
  let oneTime = ''
  let sent = 0
  const devices: MqttClient[] = []
  const admin = () => ({ authorization: `Bearer ${h.tokens.admin}` })

  beforeAll(async () => {
    h = await startHarness({ egress: ALLOW_GATEWAY })
    creds = new Map((await provisionDevices(h.db, Object.values(LIFTS).map((l) => ({ id: l.id, kind: 'elevator' as const, communityId: COMMUNITY })))).map((c) => [c.id, c]))
    for (const l of Object.values(LIFTS)) {
      const res = await h.app.inject({ method: 'PATCH', url: `/api/v1/devices/${l.id}`, headers: admin(), payload: { name: l.name, building: l.building, unit: l.unit, registrationCode: '31103101012015040001' } })
      expect(res.statusCode).toBe(200)
    }
    const crewId = await insertUser(h.db, { name: CREW, role: 'crew', companyId: 'co-test' })
    oneTime = (await h.app.inject({ method: 'POST', url: `/api/v1/users/${crewId}/password`, headers: admin() })).json<{ password: string }>().password
    paging = await startPaging(h.db, h.app, h.alerts, admin(), { companyId: 'co-test', member: crewId, phone: MOBILE, linkBaseUrl: h.base })

    const cfg = loadConfig({ HOST: '127.0.0.1', MQTT_PORT: String(await freePort()), RULES_TICK: '200ms' })
    broker = new BrokerWithIngest(h.db, cfg, silentLogger, createMetrics({ defaults: false }))
    await broker.start()
    const service = (await issueToken(h.db, await insertUser(h.db, { name: 'rules-engine', role: 'service' }))).token
    engine = rulesUnit(h.db, cfg, silentLogger, { apiUrl: h.base, token: service })
    await engine.start()
    await engine.whenRunning()
  })
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.endAsync(true)))
    await engine.stop()
    await broker.stop()
    await paging.stop()
    await h.close()
  })

  for (const [i, lang] of LANGS.entries()) {
    it(`${lang}: MQTT → SMS naming the place → link acknowledges → claim, steps and photo → the office's record → the resident's page`, { timeout: 180_000 }, async () => {
      const T = TEXT[lang]
      const zh = lang === 'zh-CN'
      const lift = LIFTS[lang]

      // The elevator reports a trapped passenger over MQTT.
      const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.address?.port ?? 0}`, { clientId: lift.id, username: lift.id, password: creds.get(lift.id)?.secret ?? '', reconnectPeriod: 0 })
      devices.push(device)
      await device.publishAsync(topics.deviceTelemetry(lift.id), JSON.stringify({ values: { trapped: 1, running: false } }), { qos: 1 })

      // The SMS (in the crew member's language, zh-CN) says where and which elevator, in one segment.
      const link = await paging.linkTo(MOBILE, sent)
      const sms = paging.gateway.to(MOBILE)[sent++]?.text ?? ''
      expect(sms).toContain(`${lift.building}号楼`)
      expect(sms).toContain(`${lift.unit}单元`)
      expect(sms).toContain(lift.name)
      expect(sms).toContain('困人')
      expect(sms.length).toBeLessThanOrEqual(segmentMax(sms))
      const [alert] = (await h.app.inject({ url: `/api/v1/alerts?device=${lift.id}&state=open`, headers: admin() })).json<{ items: { id: number; source: string }[] }>().items
      if (!alert) throw new Error('no open alert for the elevator')
      expect(alert.source).toBe('rules')

      // On the phone: the link acknowledges without signing in.
      const crew = await h.open(PHONE, lang)
      await crew.page.goto(`${h.base}${link}`)
      // The page behind the link says where too, in the phone's language, with the elevator's codes.
      const rooms = zh ? `${lift.building}号楼 ${lift.unit}单元` : `Bldg ${lift.building}, Unit ${lift.unit}`
      expect(await crew.page.locator('#place').textContent()).toBe(`Test Community · ${rooms}`)
      expect(await crew.page.locator('#device').textContent()).toContain(lift.name)
      expect(await crew.page.locator('#registration-code').textContent()).toBe('31103101012015040001')
      expect(await horizontalOverflow(crew.page)).toBe(0)
      expect(await axeViolations(crew.page)).toEqual([])
      await crew.page.locator('#ack').click()
      await crew.page.locator('#notice').waitFor()
      await shot(crew.page, `journey-link-phone-${lang}`)

      // Then signs in with name and password (the first time: the one-time password, then their own).
      await crew.page.goto(`${h.base}/`)
      await crew.page.fill('#name', CREW)
      await crew.page.fill('#password', i === 0 ? oneTime : CHOSEN)
      await crew.page.click('#password-form button[type=submit]')
      if (i === 0) {
        await crew.page.waitForSelector('#password-change')
        await crew.page.fill('#current-password', oneTime)
        await crew.page.fill('#new-password', CHOSEN)
        await crew.page.fill('#repeat-password', CHOSEN)
        await crew.page.click('#password-change button[type=submit]')
      }
      const job = crew.page.locator(`#jobs li[data-id="${alert.id}"]`)
      await job.waitFor()
      // The card says where: building and unit in the page's language, and the elevator.
      expect(await job.textContent()).toContain(rooms)
      await job.locator('.job-head').click()
      await job.locator('button[data-action=claim]').click()
      await expect.poll(() => job.locator('.job-owner').textContent()).toBe(zh ? '我负责' : 'Yours')
      for (const action of ['en-route', 'arrive']) {
        await job.locator(`[data-action="${action}"]`).click()
        await job.locator(`[data-action="${action}"]`).waitFor({ state: 'detached' })
        // A second and more between steps, so the record shows them apart.
        await crew.page.waitForTimeout(1100)
      }
      await job.locator(`#photos-${alert.id}`).setInputFiles({ name: 'car.png', mimeType: 'image/png', buffer: tinyPng(48, [200, 180, 40]) })
      const done = zh ? '已解救被困乘客，门锁已复位，电梯恢复运行' : 'Passenger released, door lock reset, elevator running again'
      await job.locator('textarea.note').fill(done)
      await job.locator('input.tell-residents').check()
      expect(await horizontalOverflow(crew.page)).toBeLessThanOrEqual(0)
      await shot(crew.page, `journey-resolve-phone-${lang}`)
      await job.locator('[data-action="resolve"]').click()
      await job.waitFor({ state: 'detached' })
      expect(crew.problems).toEqual([])
      await crew.context.close()

      // The operator at a desk: who has it, the times to the second, the SMS, and makes it public.
      const op = await h.open(DESK, lang)
      await h.signIn(op.page, h.tokens.operator)
      await op.page.goto(`${h.base}/console/#/alert/${alert.id}`)
      await op.page.locator('#history li[data-type="resolved"]').waitFor()
      expect(await op.page.locator('#assigned-to').textContent()).toBe(CREW)
      for (const step of ['acknowledged', 'en_route', 'arrived', 'resolved']) {
        expect(await op.page.locator(`#history-summary li[data-step="${step}"]`).textContent()).toMatch(zh ? /\d+秒$/ : /\d+ s$/)
      }
      for (const time of await op.page.locator('#history li time').allTextContents()) expect(time).toMatch(/\d:\d\d:\d\d/)
      const delivery = op.page.locator('#history li[data-type="delivery"]')
      expect(await delivery.first().textContent()).toContain(T['history.delivery'].replace('{channel}', T['channel.sms_http']).replace('{who}', CREW))
      expect(await delivery.first().getAttribute('data-status')).toBe('delivered')
      expect(await op.page.locator('#history li[data-type="attachment"] .photo-thumb img').count()).toBe(1)
      await op.page.locator('#publish').click()
      await expect.poll(() => op.page.locator('#publish').getAttribute('aria-pressed')).toBe('true')
      expect(await horizontalOverflow(op.page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(op.page)).toEqual([])
      await shot(op.page, `journey-operator-desk-${lang}`)
      expect(op.problems).toEqual([])
      await op.context.close()

      // A resident of the community: the elevator's alert, now public, with the crew's note — and no
      // rating form, which is for the resident's own reports (test/console/residents.test.ts).
      const resident = await h.open(PHONE, lang)
      await h.signIn(resident.page, h.tokens.resident)
      const card = resident.page.locator(`#reports li[data-id="${alert.id}"]`)
      await card.waitFor()
      expect(await card.locator('.public-note').textContent()).toBe(`${zh ? '处理结果：' : 'What was done:'} ${done}`)
      expect(await card.locator('form.rate').count()).toBe(0)
      await resident.page.reload()
      await resident.page.locator(`#reports li[data-id="${alert.id}"] .public-note`).waitFor()
      expect(await horizontalOverflow(resident.page)).toBeLessThanOrEqual(0)
      await shot(resident.page, `journey-resident-phone-${lang}`)
      expect(resident.problems).toEqual([])
      await resident.context.close()
    })
  }
})
