// The ranking screen's score formula in real Chromium: the weights version in force for the chosen
// period, each weighed component with its share, in both languages, on a phone and at a desk,
// without sideways scrolling and without serious accessibility problems.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()
const DAY = 86_400_000

describe.skipIf(!haveChromium)('console: the score formula on the ranking screen', () => {
  let h: Harness
  const from = new Date(Date.now() - 90 * DAY)
  beforeAll(async () => {
    h = await startHarness()
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/evaluation/weights',
      headers: { authorization: `Bearer ${h.tokens.admin}` },
      payload: { effectiveFrom: from.toISOString(), weights: { ack: 0.2, resolve: 0.2, satisfaction: 0.4, hotlineOnTime: 0.2 }, note: '2026 assessment notice' },
    })
    expect(res.statusCode, res.body).toBe(201)
  })
  afterAll(async () => h.close())

  it('shows the version in force and its weights, both languages, phone and desk', { timeout: 120_000 }, async () => {
    for (const lang of LANGS) {
      for (const [size, viewport] of [['phone', PHONE], ['desk', DESK]] as const) {
        const T = TEXT[lang]
        const { page, context, problems } = await h.open(viewport, lang)
        await h.signIn(page, h.tokens.operator)
        await page.goto(`${h.base}/console/#/ranking`)
        await page.locator('#score-formula summary').click()
        const text = (await page.locator('#score-formula').textContent()) ?? ''
        expect(text).toContain(T['formula.rule'])
        expect(text).toContain(`${T['component.hotlineOnTime']} 20%`)
        expect(text).toContain(`${T['component.satisfaction']} 40%`)
        expect(text).not.toContain(T['component.speed'])
        expect(await page.locator('#score-formula summary').textContent()).toContain(lang === 'en' ? 'weights version 1' : '第 1 版权重')
        expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
        expect(await axeViolations(page)).toEqual([])
        await shot(page, `score-formula-${size}-${lang}`)
        expect(problems).toEqual([])
        await context.close()
      }
    }
  })
})
