// The acknowledge link in real Chromium on a 390 px phone (issue 18, items 3 and 4): the crew
// member paged by SMS opens the link, presses the button and the alert is acknowledged by them;
// a disabled user's link is refused with a readable page; the group link's console route shows
// the alert. Both languages, with screenshots (hb-console-link-*.png in the temp directory).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { insertUser } from '../../core/repos/tokens.ts'
import { ALLOW_GATEWAY } from '../helpers/egress.ts'
import { startPaging, type Paging } from '../helpers/paging.ts'
import { axeViolations, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, type Harness } from './harness.ts'

const haveChromium = requireChromium()
const MOBILE = '13912345678'

describe.skipIf(!haveChromium)('the acknowledge link on a phone', () => {
  let h: Harness
  let paging: Paging
  let crewId: string
  let sent = 0
  const admin = () => ({ authorization: `Bearer ${h.tokens.admin}` })
  const raise = async (deviceId: string) => {
    const { alert } = await h.alerts.report({ ruleId: 'elevator-entrapment', deviceId, condition: 'active', source: 'operator', severity: 'critical', title: 'Passenger trapped' }, 'operator')
    if (!alert) throw new Error('no alert raised')
    return { id: alert.id, link: await paging.linkTo(MOBILE, sent++) }
  }
  const alertOf = async (id: number) =>
    (await h.app.inject({ url: `/api/v1/alerts/${id}`, headers: admin() })).json<{ state: string; acknowledgedBy: string | null; history: { type: string; actor: string }[] }>()

  beforeAll(async () => {
    h = await startHarness({ egress: ALLOW_GATEWAY })
    crewId = await insertUser(h.db, { name: '张伟', role: 'crew', companyId: 'co-test' })
    paging = await startPaging(h.db, h.app, h.alerts, admin(), { companyId: 'co-test', member: crewId, phone: MOBILE, linkBaseUrl: h.base })
  })
  afterAll(async () => {
    await paging.stop()
    await h.close()
  })

  LANGS.forEach((lang, i) => {
    it(`${lang}: the paged crew member opens the SMS link, presses the button and has acknowledged it`, { timeout: 60_000 }, async () => {
      const { id, link } = await raise(['el-2', 'el-3'][i] ?? 'el-2')
      const { page, context, problems } = await h.open(PHONE, lang)
      await page.goto(`${h.base}${link}`)
      expect(await page.locator('html').getAttribute('lang')).toBe(lang)
      expect(await page.locator('#place').textContent()).toContain('Test Community')
      expect(await page.locator('#deadline').textContent()).toMatch(/\d\d:\d\d/)
      expect(await horizontalOverflow(page)).toBe(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `link-phone-${lang}`)
      await page.locator('#ack').click()
      await page.locator('#notice').waitFor()
      expect(await page.locator('#notice').textContent()).toContain(lang === 'en' ? 'You acknowledged this alert' : '你已于')
      await shot(page, `link-done-phone-${lang}`)
      const seen = await alertOf(id)
      expect(seen).toMatchObject({ state: 'acknowledged', acknowledgedBy: '张伟' })
      expect(seen.history.map((e) => [e.type, e.actor])).toContainEqual(['acknowledged', '张伟'])
      expect(problems).toEqual([])
      await context.close()
    })
  })

  it("the group link's console route shows the alert to a signed-in crew member", { timeout: 60_000 }, async () => {
    const { id } = await raise('el-4')
    const { page, context, problems } = await h.open(PHONE, 'zh-CN')
    await h.signIn(page, h.tokens.crew)
    await page.goto(`${h.base}/console/#/alert/${id}`)
    // The catalogue rule's title in the reader's language, once the alert has loaded.
    await page.locator('#detail-title').waitFor()
    expect(await page.locator('#detail-title').textContent()).toBe('电梯困人')
    expect(problems).toEqual([])
    await context.close()
  })

  it("a disabled user's link is refused with a readable page, in both languages", { timeout: 60_000 }, async () => {
    const { id, link } = await raise('el-5')
    expect((await h.app.inject({ method: 'PATCH', url: `/api/v1/users/${crewId}`, headers: admin(), payload: { disabled: true } })).statusCode).toBe(200)
    for (const lang of LANGS) {
      const { page, context, problems } = await h.open(PHONE, lang)
      const res = await page.goto(`${h.base}${link}`)
      expect(res?.status()).toBe(403)
      expect(await page.locator('#notice').textContent()).toContain(lang === 'en' ? 'This link no longer works' : '此链接已失效')
      expect(await page.locator('#ack').count()).toBe(0)
      expect(await horizontalOverflow(page)).toBe(0)
      await shot(page, `link-refused-phone-${lang}`)
      // The 403 of the page itself is the one console error expected.
      expect(problems.filter((p) => !p.includes('403'))).toEqual([])
      await context.close()
    }
    expect(await alertOf(id)).toMatchObject({ state: 'open', acknowledgedBy: null })
  })
})
