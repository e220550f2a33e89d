// Keyboard shortcuts on the desk (issue 21): j/k move a cursor over the board's rows, Enter opens
// the alert, a acknowledges, r pressed twice resolves, / goes to the search, ? lists them in a
// dialog (Esc closes it); keys typed into a field stay text. Both languages; the help dialog on a
// phone too; no sideways scroll, no serious axe violation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()

describe.skipIf(!haveChromium)('console: keyboard shortcuts on the desk', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.close())

  /** Each language's run its own alerts: the other run's are acknowledged, resolved or open by then. */
  const raise = async (deviceId: string, ruleId: string) => {
    const { alert } = await h.alerts.report({ ruleId, deviceId, condition: 'active', value: 1 }, 'rules-engine')
    return alert?.id ?? 0
  }
  const stateOf = async (id: number) => (await h.db.query<{ state: string }>('SELECT state FROM alerts WHERE id = $1', [id]))[0]?.state

  for (const lang of LANGS) {
    it(`${lang} desk: move, open, acknowledge, resolve, search and help by keyboard`, async () => {
      const rule = lang === 'en' ? 'elevator-entrapment' : 'elevator-vibration'
      const ids = [await raise('el-2', rule), await raise('el-3', rule), await raise('el-4', rule)]
      const { page, context, problems } = await h.open(DESK, lang)
      await h.signIn(page, h.tokens.operator)
      // The office lands on the overview; the board is opened by name.
      await page.goto(`${h.base}/console/#/board`)
      await page.locator('#alerts tr[data-id]').nth(2).waitFor()
      const rows = () => page.evaluate<number[]>("[...document.querySelectorAll('#alerts tr[data-id]')].map((x) => Number(x.getAttribute('data-id')))")
      const order = (await rows()).filter((id) => ids.includes(id))
      const cursorOn = () => page.evaluate<string | null>("(() => { const s = [...document.querySelectorAll('style')].map((x) => x.textContent).find((t) => t.includes('#alerts tr[data-id=')); return s ? s.match(/data-id=\"(\\d+)\"/)[1] : null })()")
      const first = (await rows())[0] ?? 0
      await page.keyboard.press('j')
      expect(await cursorOn()).toBe(String(first))
      await page.keyboard.press('j')
      await page.keyboard.press('k')
      expect(await cursorOn()).toBe(String(first))
      // Move to the first of ours, then act on it.
      while ((await cursorOn()) !== String(order[0])) await page.keyboard.press('j')
      const target = order[0] ?? 0
      await page.keyboard.press('a')
      await expect.poll(() => stateOf(target), { message: await page.locator('#keys-status').textContent() ?? '' }).toBe('acknowledged')
      await page.keyboard.press('r')
      // The status line says so once the key is handled (the acknowledgement's own message came first).
      await expect.poll(() => page.locator('#keys-status').textContent()).toContain(TEXT[lang]['keys.resolveAgain'].split(':')[0]?.split('：')[0] ?? '')
      expect(await stateOf(target)).toBe('acknowledged')
      await page.keyboard.press('r')
      await expect.poll(() => stateOf(target)).toBe('resolved')
      // The search takes the keys typed into it.
      await page.keyboard.press('/')
      expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe('filter-text')
      await page.keyboard.type('jk')
      expect(await page.inputValue('#filter-text')).toBe('jk')
      await page.fill('#filter-text', '')
      await page.locator('#filter-text').blur()
      await page.keyboard.press('?')
      const help = page.locator('#keys-help')
      await help.waitFor()
      expect(await help.locator('kbd').count()).toBe(8)
      expect(await help.textContent()).toContain(TEXT[lang]['keys.ack'])
      await shot(page, `shortcuts-help-desk-${lang}`)
      expect(await axeViolations(page)).toEqual([])
      await page.keyboard.press('Escape')
      expect(await help.count()).toBe(0)
      // Enter opens the alert under the cursor.
      const open = order[1] ?? 0
      while ((await cursorOn()) !== String(open)) await page.keyboard.press('j')
      await page.keyboard.press('Enter')
      await expect.poll(() => page.evaluate<string>('location.hash')).toBe(`#/alert/${open}`)
      expect(await horizontalOverflow(page)).toBe(0)
      expect(problems).toEqual([])
      await context.close()
    })

    it(`${lang} phone: the help dialog fits`, async () => {
      const { page, context } = await h.open(PHONE, lang)
      await h.signIn(page, h.tokens.operator)
      // The office lands on the overview; the board is opened by name.
      await page.goto(`${h.base}/console/#/board`)
      await page.goto(`${h.base}/console/#/board`)
      await page.locator('#filter-text').waitFor()
      await page.keyboard.press('?')
      await page.locator('#keys-help').waitFor()
      await shot(page, `shortcuts-help-phone-${lang}`)
      expect(await horizontalOverflow(page)).toBe(0)
      expect(await axeViolations(page)).toEqual([])
      await context.close()
    })
  }
})
