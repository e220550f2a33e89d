// The device page (issue 21): a device's open alert at the top; yes/no metrics (困人, 运行中) as state
// timelines, not averaged lines; an alert shaded on its own metric's chart only; a range that fits
// a fresh device's readings; and, for admins, "simulate a fault" on a demo device. Both languages,
// desk and phone, no sideways scroll, no serious axe violation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { provisionDevices } from '../../core/provision.ts'
import { insertReadings, upsertLatest } from '../../core/repos/readings.ts'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'
import { COMMUNITY } from '../helpers/stack.ts'

const haveChromium = requireChromium()
/** An id of the demo district (core/provision.ts), so an admin is offered "simulate a fault". */
const LIFT = 'el-gumei-001'

describe.skipIf(!haveChromium)('console: the device page', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
    await provisionDevices(h.db, [{ id: LIFT, kind: 'elevator', communityId: COMMUNITY, name: 'Elevator 1' }])
    // Forty minutes of a fresh lift, a reading a minute: running on and off, trapped for five minutes.
    const now = Date.now()
    const ts = Array.from({ length: 40 }, (_, i) => now - (40 - i) * 60_000)
    const rows = ts.flatMap((t, i) => [
      { m: 'running', t, v: i % 6 < 3 ? 1 : 0 },
      { m: 'trapped', t, v: i >= 30 && i < 35 ? 1 : 0 },
      { m: 'speed_mps', t, v: i % 6 < 3 ? 1.5 : 0 },
    ])
    const cols = { deviceIds: rows.map(() => LIFT), metrics: rows.map((r) => r.m), ts: rows.map((r) => r.t), values: rows.map((r) => r.v) }
    await insertReadings(h.db, cols)
    await upsertLatest(h.db, cols)
    await h.alerts.report({ ruleId: 'elevator-entrapment', deviceId: LIFT, condition: 'active', value: 1, at: new Date(now - 10 * 60_000) }, 'rules-engine')
  })
  afterAll(() => h.close())

  for (const lang of LANGS) {
    for (const [name, viewport] of [['desk', DESK], ['phone', PHONE]] as const) {
      it(`${lang} ${name}: open alert first, state timelines, a range that fits, simulate for admins`, async () => {
        const { page, context, problems } = await h.open(viewport, lang)
        await h.signIn(page, h.tokens.admin)
        await page.goto(`${h.base}/console/#/device/${LIFT}`)
        const open = page.locator('#device-open-alerts')
        await open.waitFor()
        expect(await open.textContent()).toContain(TEXT[lang]['device.openAlerts'])
        // The open alert comes before the newest values and the charts.
        expect(await page.evaluate<boolean>("!!(document.querySelector('#device-open-alerts').compareDocumentPosition(document.querySelector('#latest')) & Node.DOCUMENT_POSITION_FOLLOWING)")).toBe(true)
        // Forty minutes of readings: the hour, not the day.
        await expect.poll(() => page.locator('[data-range="1h"]').getAttribute('aria-pressed')).toBe('true')
        const trapped = page.locator('.metric-chart[data-metric="trapped"] .timeline')
        await trapped.waitFor()
        expect(await trapped.getAttribute('data-runs')).toMatch(/no,yes,no/)
        // The entrapment is marked on the trapped timeline, not on the running one nor the speed chart.
        expect(await trapped.locator('rect.tl-alert').count()).toBe(1)
        expect(await page.locator('.metric-chart[data-metric="running"] .timeline rect.tl-alert').count()).toBe(0)
        expect(await page.locator('.metric-chart[data-metric="running"] .timeline').getAttribute('data-runs')).toMatch(/yes,no,yes/)
        await page.locator('.metric-chart[data-metric="speed_mps"] canvas').waitFor()
        // Yes/no metrics have no line chart, so no "no no no yes" axis.
        expect(await page.locator('.metric-chart[data-metric="trapped"] canvas').count()).toBe(0)
        const sim = page.locator('#simulate-fault')
        await sim.locator('summary').click()
        expect(await sim.textContent()).toContain(TEXT[lang]['simulate.fault.entrapment'])
        await shot(page, `device-page-${name}-${lang}`)
        expect(await horizontalOverflow(page)).toBe(0)
        expect(await axeViolations(page)).toEqual([])
        // The harness's API runs no ingest: the answer (503, saying so) is shown, not swallowed.
        await sim.locator('[data-fault="entrapment"]').click()
        expect(await page.locator('#simulate-outcome').textContent()).toMatch(/housing-brain fault/)
        expect(problems.filter((p) => !p.includes('503'))).toEqual([])
        await context.close()
      })
    }
  }

  it('offers no simulation to an operator', async () => {
    const { page, context } = await h.open(DESK, 'en')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/device/${LIFT}`)
    await page.locator('#device-open-alerts').waitFor()
    await page.locator('.metric-chart[data-metric="trapped"] .timeline').waitFor()
    expect(await page.locator('#simulate-fault').count()).toBe(0)
    await context.close()
  })
})
