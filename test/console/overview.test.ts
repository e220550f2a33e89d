// The overview (总览) and the wall screen (大屏) in real Chromium: at a desk and on a phone in both
// languages, and the wall at 1920×1080 with nothing to scroll; their figures follow the live stream
// (an alert raised during the test changes the open count, without a reload, and reaches the
// wall's ticker); no sideways scrolling, no serious or critical axe violation, no console error.
// Plus the ranking's period picker asking the API for the month chosen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { axeViolations, DESK, ELEVATORS, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()
const WALL = { width: 1920, height: 1080 }

const value = async (page: Page, selector: string) => Number(await page.locator(selector).getAttribute('data-value'))

describe.skipIf(!haveChromium)('console: overview and wall screen', () => {
  let h: Harness
  /** Critical faults not yet raised: each check raises a new alert with one of them. */
  const free = [...ELEVATORS.map((d) => ['elevator-entrapment', d]), ...['mh-1', 'mh-2', 'mh-3'].map((d) => ['manhole-cover-displaced', d])]
  const raise = async () => {
    const [ruleId, deviceId] = free.shift() ?? []
    if (!ruleId || !deviceId) throw new Error('no fault left to raise')
    const { alert } = await h.alerts.report({ ruleId, deviceId, condition: 'active', value: 1 }, 'rules-engine')
    if (!alert) throw new Error('no alert raised')
    return alert
  }
  beforeAll(async () => {
    h = await startHarness()
    // Today: one alert handled (acknowledged, on site, resolved), one still open.
    const { alert } = await h.alerts.report({ ruleId: 'elevator-door-faults', deviceId: 'el-1', condition: 'active', value: 5 }, 'rules-engine')
    if (!alert) throw new Error('fixture alert not raised')
    await h.alerts.act(alert.id, 'acknowledge', 'crew-wang', undefined)
    await h.alerts.act(alert.id, 'arrive', 'crew-wang', undefined)
    await h.alerts.act(alert.id, 'resolve', 'crew-wang', undefined)
    await h.alerts.report({ ruleId: 'fire-tank-low-pressure', deviceId: 'ft-1', condition: 'active', value: 40 }, 'rules-engine')
  })
  afterAll(async () => {
    await h.close()
  })

  for (const lang of LANGS) {
    for (const [size, viewport] of [['desk', DESK], ['phone', PHONE]] as const) {
      it(`${lang}, ${size}: the overview's figures, standing and map, live`, { timeout: 60_000 }, async () => {
        const T = TEXT[lang]
        const { page, context, problems } = await h.open(viewport, lang)
        await h.signIn(page, h.tokens.operator)
        // The office's first view.
        await expect.poll(() => page.locator('nav a[data-view]').first().getAttribute('data-view')).toBe('overview')
        await page.locator('#kpi-open .big').waitFor()
        await page.locator('#map .community').waitFor()
        expect(await page.locator('h1').textContent()).toBe(T['overview.title'])
        expect(await page.locator('#to-wall').textContent()).toBe(T['overview.wall'])
        // The handled alert gives today's times; the company has a score.
        expect(await page.locator('#kpi-tta .big').textContent()).not.toBe(T['common.none'])
        await expect.poll(() => page.locator('#standing .top-rows li').count()).toBe(1)
        const open = await value(page, '#kpi-open .big')
        const critical = await value(page, '#kpi-critical')
        const reloads: string[] = []
        page.on('framenavigated', (f) => reloads.push(f.url()))
        await raise()
        await expect.poll(() => value(page, '#kpi-open .big')).toBe(open + 1)
        expect(await value(page, '#kpi-critical')).toBe(critical + 1)
        expect(reloads).toEqual([])
        expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
        expect(await axeViolations(page)).toEqual([])
        await shot(page, `overview-${lang}-${size}`)
        expect(problems).toEqual([])
        await context.close()
      })
    }
  }

  it('zh-CN and en, 1920×1080: the wall screen fits the display, its clock runs, a new alert reaches the ticker', { timeout: 60_000 }, async () => {
    for (const lang of ['zh-CN', 'en'] as const) {
      const T = TEXT[lang]
      const { page, context, problems } = await h.open(WALL, lang)
      await h.signIn(page, h.tokens.operator)
      await page.locator('#to-wall').click()
      await page.locator('#wall #kpi-open .big').waitFor()
      await page.locator('#wall #map .community').waitFor()
      expect(await page.locator('#wall h1').textContent()).toBe(T['wall.title'])
      // No header of the console, nothing to scroll either way.
      expect(await page.locator('header.top').count()).toBe(0)
      const scroll = await page.evaluate<{ x: number; y: number; wallY: number }>(
        '({ x: document.documentElement.scrollWidth - innerWidth, y: document.documentElement.scrollHeight - innerHeight, wallY: document.querySelector("#wall").scrollHeight - document.querySelector("#wall").clientHeight })',
      )
      expect(scroll).toEqual({ x: 0, y: 0, wallY: 0 })
      // The map fills the space beside the side column.
      const map = await page.locator('#wall #map').boundingBox()
      expect(map?.height).toBeGreaterThan(500)
      const clock = await page.locator('#clock time').textContent()
      await expect.poll(() => page.locator('#clock time').textContent(), { timeout: 3000 }).not.toBe(clock)
      const open = await value(page, '#kpi-open .big')
      const alert = await raise()
      await expect.poll(() => value(page, '#kpi-open .big')).toBe(open + 1)
      await page.locator(`#ticker li[data-alert="${alert.id}"]`).waitFor()
      expect(await page.locator('#ticker li').first().getAttribute('data-alert')).toBe(String(alert.id))
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `wall-${lang}`)
      expect(problems).toEqual([])
      await context.close()
    }
  })

  it('the ranking asks for the period chosen', { timeout: 30_000 }, async () => {
    const { page, context, problems } = await h.open(DESK, 'zh-CN')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/ranking`)
    await page.locator('#ranking tbody tr').waitFor()
    const asked = page.waitForRequest((r) => r.url().includes('/api/v1/evaluation/ranking?from='))
    await page.selectOption('#period', 'lastMonth')
    const url = new URL((await asked).url())
    const from = new Date(url.searchParams.get('from') ?? '')
    const to = new Date(url.searchParams.get('to') ?? '')
    // The calendar month before this one, in the browser's time.
    const now = new Date()
    expect(from.getTime()).toBe(new Date(now.getFullYear(), now.getMonth() - 1, 1).getTime())
    expect(to.getTime()).toBe(new Date(now.getFullYear(), now.getMonth(), 1).getTime())
    // A custom range ending before it starts is refused in words, not sent.
    await page.selectOption('#period', 'custom')
    await page.fill('#period-from', '2026-03-10')
    await page.fill('#period-to', '2026-03-01')
    await page.locator('.ranking .error').waitFor()
    expect(await page.locator('.ranking .error').textContent()).toBe(TEXT['zh-CN']['ranking.badRange'])
    expect(await axeViolations(page)).toEqual([])
    expect(problems).toEqual([])
    await context.close()
  })
})
