// The on-call set-up in the console (issue 21, "set-up screens"): an operator, only through the
// console, sets up a company's SMS channel (the egress guard's refusal of a loopback gateway shown
// under the field first), a crew member's phone, the crew rota and the company's escalation policy
// (the API's refusal of a policy without the office's duty step under the steps); sends a test
// message the local gateway receives; and the next entrapment in that company pages the rota's
// person at that phone (the elevator publishes "trapped" over MQTT to the real broker; the rules
// engine raises the alert). Once per language, each on its own company and viewport; then every tab in
// both languages at both viewports: no sideways scrolling, no serious axe finding, screenshots
// (hb-console-oncall-*.png in the temp directory).
import mqtt, { type MqttClient } from 'mqtt'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BrokerWithIngest, rulesUnit } from '../../cli/stack.ts'
import { loadConfig } from '../../core/config.ts'
import { topics } from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { provisionCommunity, provisionDevices, type DeviceCredential } from '../../core/provision.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import type { RulesEngine } from '../../rules/engine.ts'
import { DEFAULT_NOTIFY_DISPATCH } from '../../notify/dispatcher.ts'
import { Notifications } from '../../notify/notifications.ts'
import { ALLOW_GATEWAY } from '../helpers/egress.ts'
import { eventually, freePort } from '../helpers/services.ts'
import { SmsGateway } from '../helpers/sms-gateway.ts'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()
/** The refusals the flow provokes on purpose (the guard, a bad phone, a policy without duty, a refusing gateway): the browser logs each. */
const besides400 = (problems: string[]) => problems.filter((p) => !p.includes('status of 400 (Bad Request)') && !p.includes('status of 422 (Unprocessable'))

/** One company per language, each with an elevator, a crew member and a phone. */
const SETUPS = {
  en: { company: 'co-en', companyName: 'Riverside Property', community: 'cm-en', lift: 'el-en', crew: 'Li Na', cover: 'Zhou Qiang', phone: '13911110001', viewport: DESK },
  'zh-CN': { company: 'co-zh', companyName: '申江物业', community: 'cm-zh', lift: 'el-zh', crew: '王芳', cover: '周强', phone: '13911110002', viewport: PHONE },
} as const

describe.skipIf(!haveChromium)('on-call set-up in the console', () => {
  let h: Harness
  let gateway: SmsGateway
  let notifications: Notifications
  let broker: BrokerWithIngest
  let engine: RulesEngine
  const creds = new Map<string, DeviceCredential>()
  const devices: MqttClient[] = []

  beforeAll(async () => {
    h = await startHarness({ egress: ALLOW_GATEWAY })
    for (const s of Object.values(SETUPS)) {
      await provisionCommunity(h.db, { id: s.company, name: s.companyName }, { id: s.community, name: `${s.companyName} 小区` })
      for (const c of await provisionDevices(h.db, [{ id: s.lift, kind: 'elevator', communityId: s.community }])) creds.set(c.id, c)
      await insertUser(h.db, { name: s.crew, role: 'crew', companyId: s.company })
      await insertUser(h.db, { name: s.cover, role: 'crew', companyId: s.company })
    }
    gateway = new SmsGateway('127.0.0.2')
    await gateway.start()
    const key = h.app.deps.notify?.secretKey
    if (!key) throw new Error('the API has no notification context')
    notifications = new Notifications(h.db, h.alerts, key, { ...DEFAULT_NOTIFY_DISPATCH, destinations: ALLOW_GATEWAY, pollMs: 50, linkBaseUrl: h.base, linkTtlMs: 86_400_000 }, silentLogger)
    await notifications.start()
    // The real way in: the broker with its ingest, and the rules engine raising alerts through the API.
    const cfg = loadConfig({ HOST: '127.0.0.1', MQTT_PORT: String(await freePort()), RULES_TICK: '200ms' })
    broker = new BrokerWithIngest(h.db, cfg, silentLogger, createMetrics({ defaults: false }))
    await broker.start()
    const service = (await issueToken(h.db, await insertUser(h.db, { name: 'rules-engine', role: 'service' }))).token
    engine = rulesUnit(h.db, cfg, silentLogger, { apiUrl: h.base, token: service })
    await engine.start()
    await engine.whenRunning()
  }, 60_000)
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.endAsync(true)))
    await engine.stop()
    await broker.stop()
    await notifications.stop()
    await gateway.stop()
    await h.close()
  })

  const tab = async (page: Page, name: string) => {
    await page.click(`.tabs a[data-tab=${name}]`)
    await page.waitForSelector(`.tabs a[data-tab=${name}][aria-current=page]`)
  }

  LANGS.forEach((lang) => {
    const s = SETUPS[lang]
    const T = TEXT[lang]
    it(`${lang}: an operator sets up a company's paging in the console, tests it, and the next entrapment pages the rota's person`, { timeout: 120_000 }, async () => {
      const { page, context, problems } = await h.open(s.viewport, lang)
      await h.signIn(page, h.tokens.operator)
      await page.click('header a[data-view=oncall]')
      await page.waitForSelector('section.oncall')
      await page.selectOption('#oncall-owner', s.company)

      // The channel: a gateway on loopback is refused by the egress guard, under the URL field.
      await page.click('#channel-new')
      await page.selectOption('#channel-kind', 'sms_http')
      await page.fill('#channel-name', `SMS ${s.company}`)
      await page.fill('#channel-settings-url', `http://127.0.0.1:${gateway.port}/sms`)
      await page.click('#channel-form button[type=submit]')
      const refusal = page.locator('[data-field-error="channel-settings-url"]')
      await refusal.waitFor()
      expect(await refusal.textContent()).toContain('loopback')
      expect(await page.getAttribute('#channel-settings-url', 'aria-invalid')).toBe('true')
      expect(await axeViolations(page), 'channel form').toEqual([])
      await shot(page, `oncall-refused-${lang}`)
      await page.fill('#channel-settings-url', gateway.url())
      await page.click('#channel-form button[type=submit]')
      await page.locator('#channel-form').waitFor({ state: 'detached' })
      const row = page.locator(`#channels tr[data-channel="SMS ${s.company}"]`)
      await row.waitFor()

      // The test message, through the channel's own sender to the local gateway.
      const before = gateway.received.length
      await row.locator('button.test').click()
      await page.click('#test-send')
      await page.locator('[data-field-error="test-address"]').waitFor()
      await page.fill('#test-address', s.phone)
      // A gateway that refuses: what it answered, said in the reader's language.
      gateway.script.push({ status: 400 })
      await page.click('#test-send')
      await expect.poll(() => page.locator('#channel-test .form-error').textContent()).toContain(T['channel.testFailed'].split('{')[0] ?? '')
      await page.click('#test-send')
      await expect.poll(() => page.locator('#test-result').textContent()).toContain(T['channel.testSent'].split('{')[0] ?? '')
      expect(gateway.received.slice(before).map((m) => m.to)).toEqual([s.phone])
      expect(await axeViolations(page), 'test message').toEqual([])
      await shot(page, `oncall-test-sent-${lang}`)
      expect(gateway.received.at(-1)?.text).toContain(lang === 'en' ? 'Test message' : '测试消息')

      // The crew member's phone.
      await tab(page, 'contacts')
      await page.selectOption('#contact-person', { label: s.crew })
      await page.fill('#contact-address', 'not a phone')
      await page.click('#contact-form button[type=submit]')
      await page.locator('[data-field-error="contact-address"]').waitFor()
      await page.fill('#contact-address', s.phone)
      await page.selectOption('#contact-locale', lang)
      await page.click('#contact-form button[type=submit]')
      await page.locator(`#contacts tr[data-contact*="${s.phone.slice(-4)}"]`).waitFor()

      // The crew rota, from a week ago: the crew member is on call now.
      await tab(page, 'rotas')
      await page.click('#rota-new')
      await page.fill('#rota-name', lang === 'en' ? 'Lift crew' : '电梯维保值班')
      await page.fill('#rota-startsOn', new Date(Date.now() - 7 * 86_400_000).toLocaleDateString('sv'))
      await page.selectOption('#rota-add-member', { label: s.crew })
      await page.click('#rota-add')
      expect(await axeViolations(page), 'rota form').toEqual([])
      await page.click('#rota-form button[type=submit]')
      await page.locator('#rota-form').waitFor({ state: 'detached' })
      await page.locator(`section.rota[data-rota=crew] .shifts li[data-shift="${s.crew}"]`).first().waitFor()
      // A cover from tomorrow for a day: the timeline shows it between the crew member's shifts.
      await page.click('section.rota[data-rota=crew] details:nth-of-type(1) summary')
      await page.selectOption('#override-crew-userId', { label: s.cover })
      const local = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
      await page.fill('#override-crew-startsAt', local(Date.now() + 86_400_000))
      await page.fill('#override-crew-endsAt', local(Date.now()))
      await page.click('#override-crew-form button[type=submit]')
      await page.locator('[data-field-error="override-crew-endsAt"]').waitFor()
      await page.fill('#override-crew-endsAt', local(Date.now() + 2 * 86_400_000))
      await page.click('#override-crew-form button[type=submit]')
      await page.locator(`section.rota[data-rota=crew] .shifts li[data-shift="${s.cover}"]`).waitFor()
      expect(await page.locator('section.rota[data-rota=crew] .timeline-bar .shift').count()).toBe(3)
      await page.click('section.rota[data-rota=crew] details:nth-of-type(2) summary')
      await page.fill('#handover-crew-note', lang === 'en' ? 'Lift 2 door sensor sticks; reported.' : '2号梯门感应偶发失灵，已报修。')
      await page.click('#handover-crew-form button[type=submit]')
      await page.locator('section.rota[data-rota=crew] .plain li').first().waitFor()
      await shot(page, `oncall-rota-${lang}`)

      // The company's critical policy: without the office's duty step it is refused, under the steps.
      await tab(page, 'policies')
      await page.click('section.policy[data-policy=critical] button')
      // The default ladder: crew (with bots), manager, duty. Drop duty, then manager.
      await page.click('#policy-form ol.steps li[data-step="3"] button')
      await page.click('#policy-form ol.steps li[data-step="2"] button')
      await page.click('#policy-form button[type=submit]')
      const stepsError = page.locator('[data-field-error="policy-critical-steps"]')
      await stepsError.waitFor()
      expect(await stepsError.textContent()).toBe(T['policy.needsDuty'])
      await shot(page, `oncall-policy-refused-${lang}`)
      await page.click('#policy-critical-add')
      await page.click('#policy-form button[type=submit]')
      await page.locator('#policy-form').waitFor({ state: 'detached' })
      await expect.poll(() => page.locator('section.policy[data-policy=critical] ol.steps li').count()).toBe(2)
      expect(await page.locator('section.policy[data-policy=critical]').textContent()).toContain(T['policy.source.company'])

      // The next entrapment in the company, reported by the elevator over MQTT, pages the rota's person at that phone.
      const paged = gateway.received.length
      const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.address?.port ?? 0}`, { clientId: s.lift, username: s.lift, password: creds.get(s.lift)?.secret ?? '', reconnectPeriod: 0 })
      devices.push(device)
      await device.publishAsync(topics.deviceTelemetry(s.lift), JSON.stringify({ values: { trapped: 1, running: false } }), { qos: 1 })
      const sms = await eventually(() => gateway.received.slice(paged).find((m) => m.to === s.phone), 15_000, 'the page to the on-call crew member')
      expect(sms.text).toContain(lang === 'en' ? 'CRITICAL' : '紧急')
      expect(await horizontalOverflow(page)).toBe(0)
      expect(besides400(problems)).toEqual([])
      await context.close()
    })
  })

  for (const lang of LANGS) {
    for (const [size, viewport] of [['desk', DESK], ['phone', PHONE]] as const) {
      it(`${lang} ${size}: every tab fits, has no serious axe finding, and is shot`, { timeout: 90_000 }, async () => {
        const { page, context, problems } = await h.open(viewport, lang)
        await h.signIn(page, h.tokens.operator)
        await page.goto(`${h.base}/console/#/oncall/channels`)
        await page.waitForSelector('section.oncall')
        await page.selectOption('#oncall-owner', SETUPS[lang].company)
        for (const name of ['channels', 'contacts', 'rotas', 'policies'] as const) {
          await tab(page, name)
          if (name === 'contacts') await page.selectOption('#contact-person', { label: SETUPS[lang].crew })
          // Each tab's content has loaded: its list, or the rota's timeline.
          await page.waitForSelector({ channels: '#channels tbody tr', contacts: '#contacts tbody tr', rotas: '.timeline .shifts li', policies: 'section.policy' }[name])
          if (name === 'rotas') await page.click('section.rota[data-rota=crew] details summary')
          expect(await horizontalOverflow(page), `${name} overflows`).toBe(0)
          expect(await axeViolations(page), name).toEqual([])
          await shot(page, `oncall-${name}-${size}-${lang}`)
        }
        expect(problems).toEqual([])
        await context.close()
      })
    }
  }
})

