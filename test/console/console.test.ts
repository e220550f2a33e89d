// The console in headless Chromium as its users work in it, at a desk (1440×900) and on a phone
// (390×844), in both languages (taken from the browser's locale): an operator sees an entrapment
// arrive live on the board and the map, opens it from the map (its reason in the reader's
// language, in the facts and the history) and acknowledges it with a note,
// while the crew's phone list follows without a reload; the crew then marks on my way and arrived
// on site (which the operator sees in the history) and works it to resolved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RULE_TEXT } from '../../shared/catalogue-text.ts'
import { DESK, ELEVATORS, horizontalOverflow, PHONE, requireChromium, shot, startHarness, TEXT, type Harness, type Lang } from './harness.ts'

const haveChromium = requireChromium()

/** The rules engine's reason for an entrapment, as data, and as each language reads it. */
const TRAPPED_REASON = { key: 'threshold.raise', metric: 'trapped', observed: 1, op: '>=', limit: 1, forMs: 0 } as const
const TRAPPED_TEXT: Record<Lang, string> = { en: 'trapped 1 >= 1', 'zh-CN': '检测到困人' }

describe.skipIf(!haveChromium)('console: live alerts for the operator and the crew', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => h.close())

  const cases: [string, { width: number; height: number }, Lang][] = [
    ['desk', DESK, 'zh-CN'],
    ['desk', DESK, 'en'],
    ['phone', PHONE, 'en'],
    ['phone', PHONE, 'zh-CN'],
  ]
  cases.forEach(([where, viewport, lang], i) => {
    const elevator = ELEVATORS[i] ?? ''
    it(`${where} ${viewport.width}×${viewport.height}, ${lang}: entrapment live on board and map, acknowledged from the map, crew list follows`, { timeout: 60_000 }, async () => {
      const text = TEXT[lang]
      const trapped = RULE_TEXT['elevator-entrapment'][lang].title
      const op = await h.open(viewport, lang)
      const crew = await h.open(PHONE, lang)
      await h.signIn(op.page, h.tokens.operator)
      await op.page.goto(`${h.base}/console/#/board`)
      await h.signIn(crew.page, h.tokens.crew)
      await op.page.waitForSelector('#live.on')
      await crew.page.waitForSelector('#live.on')
      await crew.page.waitForSelector('section.crew')

      const { alert } = await h.alerts.report({ ruleId: 'elevator-entrapment', deviceId: elevator, condition: 'active', value: 1, reason: TRAPPED_TEXT.en, reasonDetail: TRAPPED_REASON }, 'rules-engine')
      const id = alert?.id ?? 0
      const row = op.page.locator(`tr.alert-row[data-id="${id}"]`)
      await row.waitFor()
      expect(await row.locator('td.title').textContent()).toBe(trapped)
      expect(await row.textContent()).toContain('Test Community') // the name, not cm-test
      expect(await op.page.locator('#cue').textContent()).toContain(trapped)
      const job = crew.page.locator(`#jobs li[data-id="${id}"]`)
      await job.waitFor()
      expect(await job.textContent()).toContain(text['state.open'])

      await op.page.click('nav a[data-view=map]')
      const marker = op.page.locator(`path.m-${elevator}.sev-critical`)
      await marker.waitFor()
      await shot(op.page, `map-${where}-${lang}`)
      await marker.click()
      await expect.poll(() => op.page.textContent('#detail-title')).toBe(trapped)
      await expect.poll(() => op.page.textContent('#alert-reason')).toBe(TRAPPED_TEXT[lang])
      await expect.poll(() => op.page.textContent('#history li[data-type=raised] q')).toBe(TRAPPED_TEXT[lang])
      await op.page.fill('#detail textarea.note', 'crew on the way')
      await op.page.click('#detail [data-action=ack]')
      await expect.poll(() => op.page.textContent('#history li[data-type=acknowledged]')).toContain('crew on the way')
      await expect.poll(() => job.textContent()).toContain(text['state.acknowledged'])
      await shot(op.page, `board-${where}-${lang}`)

      // The crew works it from the phone: on my way, arrived on site (in progress; the operator sees
      // both in the history and the arrival time), then resolve, which needs a note.
      await job.locator('button.job-head').click()
      await job.locator('[data-action=en-route]').click()
      await expect.poll(() => op.page.textContent('#history li[data-type=en_route]')).toContain(text['event.en_route'])
      expect(await job.locator('[data-action=en-route]').count()).toBe(0)
      await job.locator('[data-action=arrive]').click()
      await expect.poll(() => job.textContent()).toContain(text['state.in_progress'])
      expect(await job.locator('[data-action=arrive]').count()).toBe(0)
      await expect.poll(() => op.page.textContent('#history li[data-type=arrived]')).toContain(text['event.arrived'])
      expect(await op.page.textContent('#detail .facts')).toContain(text['alert.arrivedAt'])
      await op.page.locator('#arrived-at').waitFor()
      await job.locator('[data-action=resolve]').click()
      expect(await job.locator('[role=alert]').textContent()).toBe(text['crew.noteNeeded'])
      await job.locator('textarea.note').fill('passengers freed, door reset')
      await shot(crew.page, `crew-${lang}`)
      await job.locator('[data-action=resolve]').click()
      await job.waitFor({ state: 'detached' })
      await expect.poll(() => op.page.textContent('#history')).toContain('passengers freed, door reset')
      // The ranking reports the time to arrive (median / p90) beside the score.
      await op.page.goto(`${h.base}/console/#/ranking`)
      const arrive = op.page.locator('#ranking td.arrive').first()
      await arrive.waitFor()
      expect(await arrive.textContent()).not.toContain(text['common.none'])

      expect(await horizontalOverflow(op.page)).toBeLessThanOrEqual(0)
      expect(await horizontalOverflow(crew.page)).toBeLessThanOrEqual(0)
      expect([...op.problems, ...crew.problems]).toEqual([])
      await op.context.close()
      await crew.context.close()
    })
  })

  it('keeps the board live across a dropped stream (it resumes with Last-Event-ID)', async () => {
    const op = await h.open(DESK, 'en')
    await h.signIn(op.page, h.tokens.operator)
    await op.page.goto(`${h.base}/console/#/board`)
    await op.page.waitForSelector('#live.on')
    const before = await h.alerts.report({ ruleId: 'elevator-door-faults', deviceId: 'el-1', condition: 'active', value: 5 }, 'rules-engine')
    await op.page.locator(`tr.alert-row[data-id="${before.alert?.id ?? 0}"]`).waitFor()
    // Drop every connection, raise an alert before the console reconnects (it waits 2 s): the
    // event it missed is replayed because it resumes with Last-Event-ID.
    h.app.server.closeAllConnections()
    const { alert } = await h.alerts.report({ ruleId: 'elevator-vibration', deviceId: 'el-1', condition: 'active', value: 2000 }, 'rules-engine')
    await op.page.waitForSelector('#live:not(.on)')
    await op.page.locator(`tr.alert-row[data-id="${alert?.id ?? 0}"]`).waitFor()
    await op.context.close()
  })

  it('renders the API documentation at /docs under the security headers', async () => {
    const { page, context } = await h.open(DESK, 'en')
    const blocked: string[] = []
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) blocked.push(m.text())
    })
    await page.goto(`${h.base}/docs`)
    // Every tag of the document is listed, and opening one shows each of its operations.
    const spec = (await (await fetch(`${h.base}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> }
    const perTag = new Map<string, number>()
    for (const ops of Object.values(spec.paths)) for (const op of Object.values(ops)) for (const tag of op.tags ?? []) perTag.set(tag, (perTag.get(tag) ?? 0) + 1)
    await page.locator('.swagger-ui .opblock-tag').first().waitFor({ timeout: 15_000 })
    expect(await page.locator('.swagger-ui .opblock-tag').count()).toBe(perTag.size)
    for (const [tag, count] of perTag) {
      const section = page.locator('.swagger-ui .opblock-tag-section', { has: page.locator(`.opblock-tag[data-tag="${tag}"]`) })
      await section.locator('.opblock-tag').click()
      await expect.poll(() => section.locator('.opblock').count(), { message: tag }).toBe(count)
      await section.locator('.opblock-tag').click()
    }
    const alerts = page.locator('.swagger-ui .opblock-tag-section', { has: page.locator('.opblock-tag[data-tag="alerts"]') })
    await alerts.locator('.opblock-tag').click()
    await alerts.locator('.opblock', { hasText: '/api/v1/alerts/stream' }).first().waitFor({ timeout: 15_000 })
    expect(blocked).toEqual([])
    await context.close()
  })
})
