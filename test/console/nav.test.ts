// The top bar at desk width (issue 21): the English views wrapped at 1440 px. With the overview and
// the on-call screen added, an admin's twelve views are still one row in both languages, every
// view visible without scrolling; on a phone the bar keeps its two rows and does not scroll the
// page sideways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, type Harness } from './harness.ts'

const haveChromium = requireChromium()

/** Page code as text (the server's type-check has no DOM types): the bar's geometry. */
const measure = `(() => {
  const nav = document.querySelector('.top nav')
  const tops = [...nav.querySelectorAll('a')].map((a) => Math.round(a.getBoundingClientRect().top))
  const tools = document.querySelector('.top .tools').getBoundingClientRect()
  return { rows: new Set(tops).size, hidden: nav.scrollWidth - nav.clientWidth, toolsTop: Math.round(tools.top), navTop: Math.round(nav.getBoundingClientRect().top), height: Math.round(document.querySelector('header.top').getBoundingClientRect().height) }
})()`

describe.skipIf(!haveChromium)('console: the top bar fits', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.close())

  for (const lang of LANGS) {
    it(`${lang}: an admin's twelve views in one row at 1440 px, two rows on a phone`, async () => {
      const desk = await h.open(DESK, lang)
      await h.signIn(desk.page, h.tokens.admin)
      expect(await desk.page.locator('.top nav a').count()).toBe(12)
      const bar = await desk.page.evaluate<{ rows: number; hidden: number; toolsTop: number; navTop: number; height: number }>(measure)
      await shot(desk.page, `nav-desk-${lang}`)
      expect(bar.rows).toBe(1)
      expect(bar.hidden).toBeLessThanOrEqual(1)
      expect(Math.abs(bar.toolsTop - bar.navTop)).toBeLessThan(12)
      expect(bar.height).toBeLessThan(60)
      expect(await horizontalOverflow(desk.page)).toBe(0)
      expect(await axeViolations(desk.page)).toEqual([])
      await desk.context.close()
      const phone = await h.open(PHONE, lang)
      await h.signIn(phone.page, h.tokens.admin)
      await shot(phone.page, `nav-phone-${lang}`)
      expect(await horizontalOverflow(phone.page)).toBe(0)
      await phone.context.close()
    })
  }
})
