// Dark mode (issue 21): the console follows the system's prefers-color-scheme, and the top bar's
// switch overrides it, remembered in the browser (a choice equal to the system's returns to
// following it). The alert desk, a device page with its chart and the crew's list pass axe's
// contrast checks in dark, both languages, desk and phone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, type Harness } from './harness.ts'

const haveChromium = requireChromium()
const DARK_BG = 'rgb(13, 17, 23)'
const LIGHT_BG = 'rgb(246, 248, 250)'

describe.skipIf(!haveChromium)('console: dark mode', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
    await h.alerts.report({ ruleId: 'fire-tank-low-pressure', deviceId: 'ft-1', condition: 'active', value: 40 }, 'rules-engine')
    await h.alerts.report({ ruleId: 'elevator-entrapment', deviceId: 'el-1', condition: 'active', value: 1 }, 'rules-engine')
  })
  afterAll(() => h.close())

  const bg = (page: import('playwright-core').Page) => page.evaluate<string>(`getComputedStyle(document.documentElement).backgroundColor`)

  for (const lang of LANGS) {
    for (const [name, viewport] of [['desk', DESK], ['phone', PHONE]] as const) {
      it(`${lang} ${name}: follows a dark system, readable (axe) on the desk, a device page and the crew list`, async () => {
        const { page, context, problems } = await h.open(viewport, lang)
        await page.emulateMedia({ colorScheme: 'dark' })
        await h.signIn(page, h.tokens.admin)
        // The office lands on the overview; the board is opened by name.
        await page.goto(`${h.base}/console/#/board`)
        await page.locator('tr.alert-row, .alert-card, [data-id]').first().waitFor()
        expect(await bg(page)).toBe(DARK_BG)
        await shot(page, `dark-board-${name}-${lang}`)
        expect(await horizontalOverflow(page)).toBe(0)
        expect(await axeViolations(page)).toEqual([])
        await page.goto(`${h.base}/console/#/device/ft-1`)
        await page.locator('.metric-chart canvas').first().waitFor()
        await shot(page, `dark-device-${name}-${lang}`)
        expect(await axeViolations(page)).toEqual([])
        const crew = await h.open(viewport, lang)
        await crew.page.emulateMedia({ colorScheme: 'dark' })
        await h.signIn(crew.page, h.tokens.crew)
        await crew.page.locator('#jobs li').first().waitFor()
        await shot(crew.page, `dark-crew-${name}-${lang}`)
        expect(await axeViolations(crew.page)).toEqual([])
        expect([...problems, ...crew.problems]).toEqual([])
        await crew.context.close()
        await context.close()
      })
    }
  }

  it('the switch overrides the system, is remembered, and returns to following it', async () => {
    const { page, context } = await h.open(DESK, 'en')
    await page.emulateMedia({ colorScheme: 'dark' })
    await h.signIn(page, h.tokens.admin)
    // The office lands on the overview; the board is opened by name.
    await page.goto(`${h.base}/console/#/board`)
    expect(await bg(page)).toBe(DARK_BG)
    await page.click('#theme')
    expect(await bg(page)).toBe(LIGHT_BG)
    expect(await page.evaluate<string | null>("localStorage.getItem('hb-theme')")).toBe('light')
    await page.reload()
    await page.locator('header.top').waitFor()
    expect(await bg(page)).toBe(LIGHT_BG)
    await page.click('#theme')
    expect(await bg(page)).toBe(DARK_BG)
    expect(await page.evaluate<string | null>("localStorage.getItem('hb-theme')")).toBeNull()
    // On a light system the switch turns dark, and the sign-in page keeps it.
    await page.emulateMedia({ colorScheme: 'light' })
    expect(await bg(page)).toBe(LIGHT_BG)
    await page.click('#theme')
    expect(await bg(page)).toBe(DARK_BG)
    await page.evaluate("localStorage.removeItem('hb-token'); localStorage.setItem('hb-theme', 'dark')")
    await context.close()
  })
})
