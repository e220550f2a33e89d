// A street officer (街道监管员) signs in on a phone and the board shows their street's alerts only
// (issue 22): another street's alert is not on it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { updateCommunity } from '../../core/repos/registry.ts'
import { createStreet } from '../../core/repos/streets.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { COMMUNITY } from '../helpers/stack.ts'
import { axeViolations, DESK, horizontalOverflow, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()

describe.skipIf(!haveChromium)('console: a street officer', () => {
  let h: Harness
  let officer = ''
  beforeAll(async () => {
    h = await startHarness()
    await createStreet(h.db, { id: 'st-xinzhuang', name: '莘庄镇', district: '闵行区' })
    await createStreet(h.db, { id: 'st-gumei', name: '古美路街道', district: '闵行区' })
    await updateCommunity(h.db, COMMUNITY, { streetId: 'st-xinzhuang' })
    await provisionCommunity(h.db, { id: 'co-other', name: 'Other Co.' }, { id: 'cm-other', name: '古美三村', streetOf: { id: 'st-gumei', name: '古美路街道' } })
    await provisionDevices(h.db, [{ id: 'el-other', kind: 'elevator', communityId: 'cm-other' }])
    for (const [deviceId, title] of [['el-2', 'Mine: lift 2 stuck'], ['el-other', 'Theirs: lift stuck']] as const) {
      await h.alerts.report({ ruleId: `street-${deviceId}`, deviceId, condition: 'active', source: 'operator', severity: 'major', title }, 'fixture')
    }
    officer = (await issueToken(h.db, await insertUser(h.db, { name: 'officer-xinzhuang', role: 'street_officer', streetId: 'st-xinzhuang' }))).token
  })
  afterAll(async () => h.close())

  it("sees only their street's alerts on the board at 390 px", { timeout: 120_000 }, async () => {
    const { page, context, problems } = await h.open(PHONE, 'zh-CN')
    const refused: string[] = []
    page.on('response', (r) => {
      if (r.status() >= 400) refused.push(`${r.status()} ${new URL(r.url()).pathname}`)
    })
    await h.signIn(page, officer)
    await page.goto(`${h.base}/console/#/board`)
    await expect.poll(() => page.locator('main').textContent()).toContain('Mine: lift 2 stuck')
    expect(await page.locator('main').textContent()).not.toContain('Theirs')
    expect(await page.locator('body').textContent()).toContain(TEXT['zh-CN']['role.street_officer'])
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'street-officer-board-phone-zh-CN')
    expect(refused).toEqual([])
    expect(problems).toEqual([])
    await context.close()
  })

  it('the office lists the streets in the registry, desk and phone, both languages', { timeout: 120_000 }, async () => {
    for (const [lang, viewport, size] of [['en', DESK, 'desk'], ['zh-CN', PHONE, 'phone']] as const) {
      const { page, context, problems } = await h.open(viewport, lang)
      await h.signIn(page, h.tokens.operator)
      await page.goto(`${h.base}/console/#/registry/streets`)
      await page.waitForSelector('#streets tbody tr')
      expect(await page.locator('#streets').textContent()).toContain('莘庄镇')
      expect(await page.locator('[data-tab=streets]').textContent()).toBe(TEXT[lang]['registry.streets'])
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `streets-${size}-${lang}`)
      expect(problems).toEqual([])
      await context.close()
    }
  })
})
