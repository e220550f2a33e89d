// What residents see (issue 20): their own reports and what the office made public — not every
// sensor alert of the community; the crew's resolution note when it is meant for them; and the
// rating they gave, with its comment, still there after a reload. On a phone, in both languages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, type Harness } from './harness.ts'

const haveChromium = requireChromium()

describe.skipIf(!haveChromium)('console: the resident page', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => h.close())

  for (const [i, lang] of LANGS.entries()) {
    it(`${lang}: a resident's report, resolved with a note for them, rated, and the rating kept over a reload`, { timeout: 120_000 }, async () => {
      const zh = lang === 'zh-CN'
      const as = (token: string) => ({ authorization: `Bearer ${token}` })
      // A sensor alert of the community the resident must not see, and their own report.
      const sensor = await h.alerts.report({ ruleId: 'elevator-entrapment', deviceId: `el-${2 + i}`, condition: 'active', value: 1 }, 'rules-engine')
      const report = await h.app.inject({ method: 'POST', url: '/api/v1/hazards', headers: as(h.tokens.resident), payload: { title: `Stairwell light out ${lang}`, location: 'Building 2' } })
      const id = report.json<{ id: number }>().id

      // The crew resolves it on the phone; the note is for the resident (ticked for a resident's report).
      const crew = await h.open(PHONE, lang)
      await h.signIn(crew.page, h.tokens.crew)
      const card = crew.page.locator(`#jobs li[data-id="${id}"]`)
      await card.locator('.job-head').click()
      expect(await card.locator('input.tell-residents').isChecked()).toBe(true)
      const done = zh ? '楼道灯已更换，恢复照明' : 'Replaced the stairwell lamp; lit again'
      await card.locator('textarea.note').fill(done)
      await card.locator('button[data-action=resolve]').click()
      await card.waitFor({ state: 'detached' })
      await crew.context.close()

      const resident = await h.open(PHONE, lang)
      await h.signIn(resident.page, h.tokens.resident)
      const mine = resident.page.locator('#reports li').filter({ hasText: `Stairwell light out ${lang}` })
      await mine.waitFor()
      expect(await resident.page.locator('#reports li').filter({ hasText: zh ? '电梯困人' : 'Passengers trapped' }).count()).toBe(0)
      expect(await mine.locator('.public-note').textContent()).toBe(`${zh ? '处理结果：' : 'What was done:'} ${done}`)
      await mine.locator('.stars label').nth(3).click()
      await mine.locator('textarea.rate-comment').fill(zh ? '修得很快，谢谢' : 'Quick, thank you')
      await mine.locator('form.rate button[type=submit]').click()
      await expect.poll(() => mine.locator('[role=status]').textContent()).toBe(zh ? '感谢您的评价。' : 'Thank you for your rating.')
      expect(await horizontalOverflow(resident.page)).toBeLessThanOrEqual(0)
      await shot(resident.page, `resident-rated-phone-${lang}`)

      await resident.page.reload()
      const again = resident.page.locator('#reports li').filter({ hasText: `Stairwell light out ${lang}` })
      await again.waitFor()
      expect(await again.locator('.stars input[value="4"]').isChecked()).toBe(true)
      expect(await again.locator('textarea.rate-comment').inputValue()).toBe(zh ? '修得很快，谢谢' : 'Quick, thank you')
      expect(await again.locator('[role=status]').textContent()).toBe(zh ? '您已评价，可修改。' : 'Your rating — you can change it.')
      expect(resident.problems).toEqual([])
      await resident.context.close()
      if (sensor.alert) await h.alerts.act(sensor.alert.id, 'resolve', 'operator', undefined)
    })
  }
})
