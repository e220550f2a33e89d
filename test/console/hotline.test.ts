// The ranking drill-down's 12345 hotline section in real Chromium: cases imported through the API
// show with their figures, in both languages, on a phone and at a desk, without sideways scrolling
// and without serious accessibility problems.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMUNITY } from '../helpers/stack.ts'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()
const H = 3_600_000

describe.skipIf(!haveChromium)('console: hotline cases in the ranking drill-down', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * H).toISOString()
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/hotline/cases',
      headers: { authorization: `Bearer ${h.tokens.admin}` },
      payload: {
        cases: [
          { caseNo: '2026110300123', receivedAt: at(50), community: COMMUNITY, category: '电梯故障', summary: '3号楼电梯停运', handledAt: at(40), satisfaction: '满意' },
          { caseNo: '2026110400456', receivedAt: at(30), community: COMMUNITY, category: '环境卫生', handledAt: at(1), satisfaction: 2 },
          { caseNo: '2026110500789', receivedAt: at(5), community: COMMUNITY, category: '噪音扰民' },
        ],
      },
    })
    expect(res.statusCode, res.body).toBe(200)
  })
  afterAll(async () => h.close())

  it('shows the cases and their figures in both languages, phone and desk', { timeout: 120_000 }, async () => {
    for (const lang of LANGS) {
      for (const [size, viewport] of [['phone', PHONE], ['desk', DESK]] as const) {
        const T = TEXT[lang]
        const { page, context, problems } = await h.open(viewport, lang)
        await h.signIn(page, h.tokens.operator)
        await page.goto(`${h.base}/console/#/ranking/co-test`)
        await page.waitForSelector('#hotline tbody tr')
        expect(await page.locator('#hotline-cases').textContent()).toBe('3')
        expect(await page.locator('#hotline-title').textContent()).toBe(T['hotline.title'])
        expect(await page.locator('#hotline tbody tr').count()).toBe(3)
        expect(await page.locator('#hotline').textContent()).toContain(T['hotline.open'])
        await page.locator('#hotline').scrollIntoViewIfNeeded()
        expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
        expect(await axeViolations(page)).toEqual([])
        await shot(page, `hotline-${size}-${lang}`)
        expect(problems).toEqual([])
        await context.close()
      }
    }
  })

  it('imports a hotline CSV from the drill-down: problems worded per row, then the cases', { timeout: 120_000 }, async () => {
    for (const lang of LANGS) {
      const T = TEXT[lang]
      const { page, context, problems } = await h.open(PHONE, lang)
      await h.signIn(page, h.tokens.operator)
      await page.goto(`${h.base}/console/#/ranking/co-test`)
      await page.locator('#hotline-import summary').click()
      const file = (rows: string[]) => ({ name: 'cases.csv', mimeType: 'text/csv', buffer: Buffer.from(['case_no,received_at,community,category', ...rows].join('\r\n')) })
      const caseNo = `HL-${lang}`
      await page.locator('#hotline-file').setInputFiles(file([`${caseNo},2026-11-20 09:00,${COMMUNITY},绿化养护`, 'HL-bad,2026-11-31 09:00,无此小区,']))
      await page.waitForSelector('#import-problems')
      const rows = await page.locator('#import-problems tbody tr').count()
      expect(rows).toBe(2)
      // Worded in the page's language from the code (Chinese for zh-CN), not the server's English.
      const said = await page.locator('#import-problems tbody').textContent()
      expect(said).toContain(lang === 'en' ? 'is not a time' : '不是有效的时间')
      expect(await page.locator('#import-summary').textContent()).toBe(T['hotline.problemCount'].replace('{n}', '2'))
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `hotline-import-problems-phone-${lang}`)
      await page.locator('#hotline-file').setInputFiles(file([`${caseNo},2026-11-20 09:00,${COMMUNITY},绿化养护`]))
      await page.waitForSelector('#hotline-ready')
      await page.locator('#hotline-run').click()
      await page.waitForSelector('#hotline-done')
      expect(await page.locator('#hotline-done').textContent()).toBe(T['hotline.done'].replace('{inserted}', '1').replace('{updated}', '0').replace('{unchanged}', '0'))
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      await shot(page, `hotline-import-done-phone-${lang}`)
      // The browser logs the refused check (422) itself; nothing else may go wrong.
      expect(problems.filter((p) => !p.includes('status of 422'))).toEqual([])
      await context.close()
    }
  })
})
