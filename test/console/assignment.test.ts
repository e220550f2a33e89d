// Who has an alert (issue 20, assignment): on a crew member's phone, a job nobody has offers
// "我来处理" / "I'll take it"; taking it acknowledges it and puts it first, marked as theirs; a job
// the office handed to a colleague says whose it is and comes last. The office sees who has it
// in the alert's detail. At 390×844 in both languages, with no sideways scrolling.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { insertUser } from '../../core/repos/tokens.ts'
import { horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, type Harness } from './harness.ts'

const haveChromium = requireChromium()

describe.skipIf(!haveChromium)('console: claiming and assignment', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
    await insertUser(h.db, { name: 'colleague-wang', role: 'crew', companyId: 'co-test' })
  })
  afterAll(async () => h.close())

  for (const [i, lang] of LANGS.entries()) {
    it(`${lang}: a crew member takes a job on the phone; a colleague's job says whose it is`, { timeout: 120_000 }, async () => {
      const raise = async (deviceId: string, ruleId: string) => {
        const { alert } = await h.alerts.report({ ruleId, deviceId, condition: 'active', value: 1 }, 'rules-engine')
        if (!alert) throw new Error('no alert')
        return alert.id
      }
      // Elevators of their own per language: a resolved alert's condition re-arms only after a delay.
      const theirs = await raise(`el-${2 + 2 * i}`, 'elevator-entrapment')
      await h.alerts.assign(theirs, 'operator', 'colleague-wang', undefined)
      const free = await raise(`el-${3 + 2 * i}`, 'elevator-entrapment')
      const crew = await h.open(PHONE, lang)
      await h.signIn(crew.page, h.tokens.crew)
      const card = (id: number) => crew.page.locator(`#jobs li[data-id="${id}"]`)
      await card(free).waitFor()
      await expect.poll(() => card(theirs).locator('.job-owner').textContent()).toBe(lang === 'zh-CN' ? '由 colleague-wang 处理' : 'With colleague-wang')
      await card(free).locator('.job-head').click()
      await card(free).locator('button[data-action=claim]').click()
      await expect.poll(() => card(free).locator('.job-owner').textContent()).toBe(lang === 'zh-CN' ? '我负责' : 'Yours')
      // Mine first, the colleague's last.
      const order: number[] = []
      for (const li of await crew.page.locator('#jobs li').all()) order.push(Number(await li.getAttribute('data-id')))
      expect(order.indexOf(free)).toBeLessThan(order.indexOf(theirs))
      expect(await card(free).locator('button[data-action=claim]').count()).toBe(0)
      const alert = await h.app.inject({ url: `/api/v1/alerts/${free}`, headers: { authorization: `Bearer ${h.tokens.operator}` } })
      const body = alert.json<{ state: string; assignedTo: string | null }>()
      expect(body.state).toBe('acknowledged')
      expect(body.assignedTo).toMatch(/^crew-/)
      expect(await horizontalOverflow(crew.page)).toBeLessThanOrEqual(0)
      await shot(crew.page, `assignment-phone-${lang}`)
      expect(crew.problems).toEqual([])
      // The office sees who has it, and the hand-over in the history.
      const op = await h.open(PHONE, lang)
      await h.signIn(op.page, h.tokens.operator)
      await op.page.goto(`${h.base}/console/#/alert/${theirs}`)
      await expect.poll(() => op.page.locator('#assigned-to').textContent()).toBe('colleague-wang')
      expect(await op.page.locator('#history li[data-type=assigned] q').textContent()).toBe(lang === 'zh-CN' ? '交给 colleague-wang' : 'to colleague-wang')
      expect(await horizontalOverflow(op.page)).toBeLessThanOrEqual(0)
      await shot(op.page, `assignment-detail-phone-${lang}`)
      expect(op.problems).toEqual([])
      await op.context.close()
      // Resolved, so the next language starts from an empty list.
      for (const id of [free, theirs]) await h.alerts.act(id, 'resolve', 'operator', undefined)
      await crew.context.close()
    })
  }
})
