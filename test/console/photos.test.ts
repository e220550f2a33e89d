// Photos in the alert lifecycle, in real Chromium (issue 8 acceptance): a crew member on a phone
// acknowledges, marks "on my way" and "arrived on site", and resolves with a photo taken through
// the camera input; the operator at a desk opens the alert and sees the photo and the times in
// its history, and the ranking shows the time to arrive. A resident reports a hazard with a photo;
// it appears live on the operator's board and its photo opens for the operator. Both languages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tinyPng } from '../helpers/images.ts'
import { DESK, ELEVATORS, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()

/** Page code as strings: the server's type-check has no DOM types. */
const decoded = (selector: string) => `(() => { const img = document.querySelector(${JSON.stringify(selector)}); return img !== null && img.complete && img.naturalWidth > 0 })()`

describe.skipIf(!haveChromium)('console: photos', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => h.close())

  LANGS.forEach((lang, i) => {
    it(`${lang}: crew resolves with a photo; the operator sees it, the times and the time to arrive`, { timeout: 120_000 }, async () => {
      const T = TEXT[lang]
      const { alert } = await h.alerts.report(
        { ruleId: `photo-test-${lang}`, deviceId: ELEVATORS[i] ?? 'el-2', condition: 'active', source: 'operator', severity: 'critical', title: 'Passenger trapped' },
        'operator',
      )
      if (!alert) throw new Error('no alert raised')
      const crew = await h.open(PHONE, lang)
      await h.signIn(crew.page, h.tokens.crew)
      const job = crew.page.locator(`#jobs li[data-id="${alert.id}"]`)
      await job.locator('.job-head').click()
      for (const action of ['ack', 'en-route', 'arrive']) {
        await job.locator(`[data-action="${action}"]`).click()
        // Each step takes its button away once the API has recorded it.
        await job.locator(`[data-action="${action}"]`).waitFor({ state: 'detached' })
      }
      await job.locator(`#photos-${alert.id}`).setInputFiles({ name: 'door.png', mimeType: 'image/png', buffer: tinyPng(48, [30, 140, 60]) })
      expect(await job.locator('.photo-input').textContent()).toContain(T['photo.selected'].replace('{n}', '1'))
      await job.locator('textarea.note').fill(lang === 'en' ? 'Released the passenger, reset the door sensor' : '已解救被困人员，复位门机传感器')
      await shot(crew.page, `crew-resolve-photo-phone-${lang}`)
      await job.locator('[data-action="resolve"]').click()
      await job.waitFor({ state: 'detached' })

      const op = await h.open(DESK, lang)
      await h.signIn(op.page, h.tokens.operator)
      await op.page.goto(`${h.base}/console/#/alert/${alert.id}`)
      const photo = '#history li[data-type="attachment"] .photo-thumb img'
      await op.page.waitForSelector(photo)
      await expect.poll(() => op.page.evaluate<boolean>(decoded(photo))).toBe(true)
      expect(await op.page.locator('#en-route-at').textContent()).not.toBe('')
      expect(await op.page.locator('#arrived-at').textContent()).not.toBe('')
      const types = await op.page.evaluate<(string | null)[]>("[...document.querySelectorAll('#history li')].map((li) => li.getAttribute('data-type'))")
      expect(types).toEqual(['raised', 'acknowledged', 'en_route', 'arrived', 'attachment', 'resolved'])
      expect(await op.page.locator('#history li[data-type="en_route"]').textContent()).toContain(T['event.en_route'])
      expect(await op.page.locator('#history li[data-type="arrived"]').textContent()).toContain(T['event.arrived'])
      await op.page.locator('#history .photo-thumb').click()
      await op.page.waitForSelector('.photo-full img')
      await expect.poll(() => op.page.evaluate<boolean>(decoded('.photo-full img'))).toBe(true)
      await shot(op.page, `operator-alert-photo-desk-${lang}`)
      await op.page.locator('.photo-full button').click()

      await op.page.goto(`${h.base}/console/#/ranking`)
      const arrive = op.page.locator('#ranking tbody tr', { hasText: 'Test Property Co.' }).locator('td.arrive')
      await arrive.waitFor()
      expect(await arrive.textContent()).not.toContain(`${T['common.none']} /`)
      await shot(op.page, `ranking-arrive-desk-${lang}`)
      expect([...crew.problems, ...op.problems]).toEqual([])
      await Promise.all([crew.context.close(), op.context.close()])
    })

    it(`${lang}: a resident's hazard report with a photo appears live on the board, photo and all`, { timeout: 120_000 }, async () => {
      const T = TEXT[lang]
      const title = lang === 'en' ? `Loose manhole cover ${i}` : `井盖松动 ${i}`
      const op = await h.open(DESK, lang)
      await h.signIn(op.page, h.tokens.operator)
      await op.page.goto(`${h.base}/console/#/board`)
      await op.page.waitForSelector('#live.on')
      const resident = await h.open(PHONE, lang)
      await h.signIn(resident.page, h.tokens.resident)
      await resident.page.fill('#hazard-title', title)
      await resident.page.fill('#hazard-location', lang === 'en' ? 'Building 3, east gate' : '3号楼东门')
      await resident.page.locator('#hazard-photo').setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: tinyPng(32, [120, 120, 120]) })
      await resident.page.click('#hazard-form button[type=submit]')
      await expect.poll(() => resident.page.textContent('#hazard-form [role=status]')).toBe(T['resident.sent'])
      await shot(resident.page, `resident-hazard-photo-phone-${lang}`)
      const row = op.page.locator('tr.alert-row', { hasText: title })
      await row.waitFor()
      await row.click()
      const photo = '#history li[data-type="attachment"] .photo-thumb img'
      await op.page.waitForSelector(photo)
      await expect.poll(() => op.page.evaluate<boolean>(decoded(photo))).toBe(true)
      await shot(op.page, `operator-hazard-photo-desk-${lang}`)
      expect([...op.problems, ...resident.problems]).toEqual([])
      await Promise.all([op.context.close(), resident.context.close()])
    })
  })
})
