// Every main view as each role sees it, on a phone (390×844) and at a desk (1440×900), in both
// languages: no sideways scrolling, no serious or critical accessibility violation (axe-core),
// no console error. Plus the audit log showing a change with its secret redacted, the device chart
// with its threshold line and a forecast rule's trend, a resident's hazard report arriving live
// on the operator's board, the board's and the audit log's CSV exports following their filters, and
// where an alert's device is (building, unit, an elevator's codes) on the board and in its detail.
import { readFile } from 'node:fs/promises'
import { parse } from 'csv-parse/sync'
import type { Download } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { insertDeadLetters } from '../../core/repos/dead-letters.ts'
import { insertSilence } from '../../core/repos/silences.ts'
import { insertReadings, upsertLatest } from '../../core/repos/readings.ts'
import { provisionDevices } from '../../core/provision.ts'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'
import { createEvaluator } from '../../rules/evaluators/index.ts'
import { COMMUNITY } from '../helpers/stack.ts'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()

/** Route → what must be on screen before it is judged, and what to press first to open a form. */
const OFFICE_VIEWS: [string, string, string?][] = [
  // The harness's company has no rota: the board names it (the coverage notice).
  ['board', 'section.board #coverage'],
  // Zoomed out to the district, a community is one marker (a cluster); zoomed in, a circle.
  ['map', '#map .community'],
  ['devices', '#devices tbody tr'],
  ['device/ft-1', '.metric-chart canvas'],
  ['ranking', '#score-history canvas'],
  ['registry/companies', '#companies tbody tr', '#company-new'],
  ['registry/communities', '#assignments li', '#communities tbody tr button'],
  ['registry/devices', '#device-admin tbody tr', '#device-new'],
  ['registry/profiles', '#profile-form #profile-decode', '#profiles tbody tr button'],
  ['rules', '#rules tbody tr', '#rules tbody tr button'],
  // The office's escalation policies, one open in its editor (the rest of on-call: oncall.test.ts).
  ['oncall/policies', '#policy-form', 'section.policy button'],
  ['silences', '#silences tbody tr', '#silence-new'],
  ['deadletters', '#dead-letters tbody tr'],
  ['audit', '#audit-log tbody tr'],
]

/** A secret the operator sends when registering a webhook: the audit screen must never show it. */
const WEBHOOK_SECRET = 'whsec-console-0123456789'

describe.skipIf(!haveChromium)('console: views on a phone and a desk', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
    // Something on the board and in the crew's list.
    await h.alerts.report({ ruleId: 'fire-tank-low-pressure', deviceId: 'ft-1', condition: 'active', value: 40 }, 'rules-engine')
    // Something in the maintenance and dead-letter lists.
    const now = Date.now()
    await insertSilence(h.db, { deviceId: 'el-1', communityId: null, ruleId: null, startsAt: new Date(now), endsAt: new Date(now + 7_200_000), reason: 'Annual elevator inspection', createdBy: 'operator' })
    await insertDeadLetters(h.db, [
      { receivedAt: new Date(now), clientId: 'mh-1', topic: 'hb/v1/devices/mh-1/telemetry', deviceId: 'mh-1', reasonCode: 'out_of_range', reason: 'cover_tilt_deg 900 is outside 0–90', payloadExcerpt: `{"ts":${now},"metrics":{"cover_tilt_deg":900},"pad":"${'x'.repeat(400)}"}` },
    ])
    // Something in the audit log: a change made through the API.
    const hook = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: { authorization: `Bearer ${h.tokens.operator}` }, payload: { url: 'https://hooks.example.com/duty', secret: WEBHOOK_SECRET } })
    if (hook.statusCode !== 201) throw new Error(`webhook fixture: ${hook.body}`)
    // Where the alerting tank is, so the crew card names the door and opens the map there.
    const placed = await h.app.inject({
      method: 'PATCH',
      url: '/api/v1/devices/ft-1',
      headers: { authorization: `Bearer ${h.tokens.operator}` },
      payload: { building: '3', unit: '2', floor: 'B1', location: '地下泵房东侧', latitude: 31.1521, longitude: 121.4042 },
    })
    if (placed.statusCode !== 200) throw new Error(`place fixture: ${placed.body}`)
  })
  afterAll(async () => h.close())

  for (const [name, viewport] of [['phone', PHONE], ['desk', DESK]] as const) {
    for (const lang of LANGS) {
      it(`${name} ${lang}: office, crew and resident views fit, pass axe and log no error`, { timeout: 300_000 }, async () => {
        const checked: string[] = []
        const check = async (page: Parameters<typeof shot>[0], view: string) => {
          expect(await horizontalOverflow(page), `${view}: sideways overflow`).toBeLessThanOrEqual(0)
          expect(await axeViolations(page), `${view}: axe`).toEqual([])
          await shot(page, `${view.replace('/', '-')}-${name}-${lang}`)
          checked.push(view)
        }
        const op = await h.open(viewport, lang)
        await h.signIn(op.page, h.tokens.operator)
        for (const [route, ready, open] of OFFICE_VIEWS) {
          await op.page.goto(`${h.base}/console/#/${route}`)
          if (open !== undefined) await op.page.locator(open).first().click()
          await op.page.waitForSelector(ready)
          await check(op.page, route)
        }
        // Users and tokens are the administrator's.
        expect(await op.page.locator('nav a[data-view=users]').count()).toBe(0)
        const admin = await h.open(viewport, lang)
        await h.signIn(admin.page, h.tokens.admin)
        await admin.page.goto(`${h.base}/console/#/users`)
        await admin.page.locator('#users tbody tr button.user-tokens').first().click()
        await admin.page.click('#user-new')
        await admin.page.waitForSelector('#token-list li')
        await check(admin.page, 'users')
        const crew = await h.open(viewport, lang)
        await h.signIn(crew.page, h.tokens.crew)
        await crew.page.waitForSelector('#jobs li')
        // The card says where, in the crew member's language, and opens the map app at the device.
        const card = crew.page.locator('#jobs li', { hasText: lang === 'zh-CN' ? '3号楼 2单元 B1层 · 地下泵房东侧' : 'Bldg 3, Unit 2, Floor B1 · 地下泵房东侧' })
        expect(await card.locator('a.job-map').getAttribute('href')).toMatch(/^geo:31\.1521,121\.4042\?q=31\.1521,121\.4042\(/)
        await check(crew.page, 'crew')
        const resident = await h.open(viewport, lang)
        await h.signIn(resident.page, h.tokens.resident)
        await resident.page.waitForSelector('#hazard-form')
        await check(resident.page, 'resident')
        expect(checked).toHaveLength(OFFICE_VIEWS.length + 3)
        expect([...op.problems, ...admin.problems, ...crew.problems, ...resident.problems]).toEqual([])
        await Promise.all([op.context.close(), admin.context.close(), crew.context.close(), resident.context.close()])
      })
    }
  }

  it('takes the language from the browser and remembers the switch across a reload', async () => {
    const { page, context, problems } = await h.open(PHONE, 'zh-CN')
    await h.signIn(page, h.tokens.operator)
    expect(await page.textContent('nav a[data-view=board]')).toBe(TEXT['zh-CN']['nav.board'])
    await page.click('#lang')
    expect(await page.textContent('nav a[data-view=board]')).toBe(TEXT.en['nav.board'])
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    await page.reload()
    await page.waitForSelector('header.top')
    expect(await page.textContent('nav a[data-view=board]')).toBe(TEXT.en['nav.board'])
    expect(problems).toEqual([])
    await context.close()
  })

  it('draws a metric chart with the rule threshold line on the device page', async () => {
    const { page, context, problems } = await h.open(DESK, 'zh-CN')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/device/ft-1`)
    const chart = page.locator('.metric-chart[data-metric=water_level_m]')
    await chart.locator('canvas').waitFor()
    // The fire reserve (1.5 m) is drawn as its own dashed series, named in the legend.
    expect(await chart.locator('.chart').getAttribute('data-thresholds')).toBe('1.5')
    expect(await chart.locator('figcaption').textContent()).toBe(`${TEXT['zh-CN']['metric.water_level_m']} (m)`)
    expect(await chart.locator('.u-legend').textContent()).toContain(TEXT['zh-CN']['device.threshold'])
    // The time column of the legend is named in the reader's language, not uPlot's English "Time".
    expect(await chart.locator('.u-legend .u-series').first().textContent()).toContain(TEXT['zh-CN']['chart.time'])
    expect(await chart.locator('.u-legend').textContent()).not.toContain('Time')
    await page.click('[data-range="7d"]')
    await chart.locator('canvas').waitFor()
    expect(problems).toEqual([])
    await context.close()
  })

  it("draws a forecast rule's trend on a falling tank, ending on the reserve where the engine predicts the crossing", async () => {
    // A tank losing 1 cm a minute, read every minute for 15 min: the default forecast rule (reserve
    // 1.5 m, fitted over 10 min, 2 h ahead) predicts the crossing 35 min after the newest reading.
    await provisionDevices(h.db, [{ id: 'ft-leak', kind: 'fire_tank', communityId: COMMUNITY }])
    const newest = Date.now()
    const ts = Array.from({ length: 16 }, (_, i) => newest - (15 - i) * 60_000)
    const cols = { deviceIds: ts.map(() => 'ft-leak'), metrics: ts.map(() => 'water_level_m'), ts, values: ts.map((_, i) => 2 - 0.01 * i) }
    await insertReadings(h.db, cols)
    await upsertLatest(h.db, cols)
    // What the engine makes of the same readings.
    const rule = DEFAULT_RULES.find((r) => r.id === 'fire-tank-reserve-forecast')
    if (rule === undefined) throw new Error('the catalogue lost its forecast rule')
    const engine = createEvaluator(rule, 'ft-leak', { expectedIntervalMs: 60_000 })
    const raised = ts.flatMap((t, i) => engine.onSample({ metric: 'water_level_m', ts: t, value: cols.values[i] ?? NaN })).find((o) => o.type === 'raise')
    expect(raised?.predictedAt).toBeCloseTo(newest + 35 * 60_000, -3)

    const { page, context, problems } = await h.open(DESK, 'en')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/device/ft-leak`)
    const chart = page.locator('.metric-chart[data-metric=water_level_m]')
    await chart.locator('canvas').waitFor()
    // The legend names the forecast with the time it reaches the reserve...
    await expect.poll(() => chart.locator('.u-legend').textContent()).toContain(TEXT.en['device.forecastAt'].replace(' {time}', ''))
    // ...and the line ends on the reserve at the engine's predicted time.
    const [endAt, endValue] = ((await chart.locator('.chart').getAttribute('data-forecast-end')) ?? '').split(',')
    expect(Number(endValue)).toBeCloseTo(1.5, 9)
    expect(Date.parse(endAt ?? '')).toBeCloseTo(raised?.predictedAt ?? NaN, -1)
    await shot(page, 'device-forecast-desk-en')
    // A device that never raised an alert says so, rather than leaving the section blank.
    expect(await page.locator('section', { hasText: TEXT.en['device.alerts'] }).textContent()).toContain(TEXT.en['device.noAlerts'])
    expect(problems).toEqual([])
    await context.close()
  })

  it('shows who changed what in the audit log, in the reader\'s language, with the secret redacted', async () => {
    const { page, context, problems } = await h.open(DESK, 'zh-CN')
    await h.signIn(page, h.tokens.operator)
    await page.click('nav a[data-view=audit]')
    const row = page.locator('#audit-log tr[data-action="webhooks.create"]')
    await row.waitFor()
    expect(await row.locator('.audit-action').textContent()).toBe(TEXT['zh-CN']['audit.action.webhooks.create'])
    expect(await row.textContent()).toContain(TEXT['zh-CN']['role.operator'])
    await row.locator('details summary').click()
    const body = (await row.locator('details').textContent()) ?? ''
    expect(body).toContain('"secret": "[redacted]"')
    expect(body).toContain('https://hooks.example.com/duty')
    expect(await page.locator('#audit-log').textContent()).not.toContain(WEBHOOK_SECRET)
    // Filtering by action asks the server for that action only.
    await page.selectOption('#audit-action', 'rules.delete')
    await page.waitForSelector('#audit-log tbody tr', { state: 'detached' })
    expect(await page.textContent('.audit .empty')).toBe(TEXT['zh-CN']['audit.none'])
    // A crew member has no audit screen.
    const crew = await h.open(DESK, 'zh-CN')
    await h.signIn(crew.page, h.tokens.crew)
    expect(await crew.page.locator('nav a[data-view=audit]').count()).toBe(0)
    expect([...problems, ...crew.problems]).toEqual([])
    await Promise.all([context.close(), crew.context.close()])
  })

  /** A downloaded CSV: whether it starts with the byte-order mark, and its rows by header. */
  const csvOf = async (download: Download) => {
    const bytes = await readFile(await download.path())
    return { bom: bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), rows: parse<Record<string, string>>(bytes, { columns: true, bom: true }), text: bytes.toString('utf8') }
  }

  it("exports the board's alerts as CSV with the board's filters and language, the audit log with its own, and the ranking", async () => {
    await h.alerts.report({ ruleId: 'manhole-cover-displaced', deviceId: 'mh-1', condition: 'active', value: 40 }, 'rules-engine')
    const { page, context, problems } = await h.open(DESK, 'zh-CN')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/board`)
    await page.locator('tr.alert-row').first().waitFor()
    await page.selectOption('#filter-kind', 'manhole')
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-alerts')])
    expect(download.suggestedFilename()).toMatch(/^alerts-.*\.csv$/)
    const file = await csvOf(download)
    expect(file.bom).toBe(true)
    // The kind filter applied: the manhole's alert, not the fire tank's; Chinese as the console is.
    expect(file.rows.map((r) => [r['设备编号'], r['告警']])).toEqual([['mh-1', '井盖移位']])
    expect(file.rows[0]?.['状态']).toBe('待确认')
    // A month without alerts: the header row alone.
    await page.fill('#export-alerts-month', '2020-01')
    const [empty] = await Promise.all([page.waitForEvent('download'), page.click('#export-alerts')])
    expect((await csvOf(empty)).rows).toEqual([])

    await page.click('nav a[data-view=audit]')
    await page.selectOption('#audit-action', 'webhooks.create')
    await page.locator('#audit-log tr[data-action="webhooks.create"]').waitFor()
    const [audit] = await Promise.all([page.waitForEvent('download'), page.click('#export-audit')])
    const log = await csvOf(audit)
    expect(log.bom).toBe(true)
    expect(log.rows.length).toBeGreaterThan(0)
    expect(new Set(log.rows.map((r) => r['操作']))).toEqual(new Set(['webhooks.create']))
    expect(log.text).toContain('https://hooks.example.com/duty')
    expect(log.text).not.toContain(WEBHOOK_SECRET)
    // The ranking's CSV comes the same way, byte-order mark included.
    await page.click('nav a[data-view=ranking]')
    const [ranking] = await Promise.all([page.waitForEvent('download'), page.click('#csv')])
    const ranked = await csvOf(ranking)
    expect(ranked.bom).toBe(true)
    expect(ranked.rows.map((r) => r.company_id)).toContain('co-test')
    expect(problems).toEqual([])
    await context.close()
  })

  it("shows a resident's hazard report live on the operator's board", async () => {
    const op = await h.open(DESK, 'en')
    await h.signIn(op.page, h.tokens.operator)
    await op.page.goto(`${h.base}/console/#/board`)
    await op.page.waitForSelector('#live.on')
    const resident = await h.open(PHONE, 'zh-CN')
    await h.signIn(resident.page, h.tokens.resident)
    await resident.page.fill('#hazard-title', '三号楼井盖松动')
    await resident.page.fill('#hazard-location', '3号楼2单元门口')
    await resident.page.click('#hazard-form button[type=submit]')
    await expect.poll(() => resident.page.textContent('#hazard-form [role=status]')).toBe(TEXT['zh-CN']['resident.sent'])
    const row = op.page.locator('tr.alert-row', { hasText: '三号楼井盖松动' })
    await row.waitFor()
    expect(await row.textContent()).toContain('3号楼2单元门口')
    expect(await resident.page.locator('#reports').textContent()).toContain('三号楼井盖松动')
    expect([...op.problems, ...resident.problems]).toEqual([])
    await Promise.all([op.context.close(), resident.context.close()])
  })

  it("names where the alert's device is on the board and in the alert detail, with an elevator's codes", async () => {
    const op = { authorization: `Bearer ${h.tokens.operator}` }
    const placed = await h.app.inject({ method: 'PATCH', url: '/api/v1/devices/el-2', headers: op, payload: { building: '5', unit: '1', registrationCode: '31103101002012060001', rescueCode: 'SH-0451' } })
    expect(placed.statusCode, placed.body).toBe(200)
    const { alert } = await h.alerts.report({ ruleId: 'elevator-entrapment', deviceId: 'el-2', condition: 'active', value: 1 }, 'rules-engine')
    if (!alert) throw new Error('no alert raised')
    const { page, context, problems } = await h.open(DESK, 'zh-CN')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/board`)
    const row = page.locator(`tr.alert-row[data-id="${alert.id}"]`)
    await row.waitFor()
    expect(await row.textContent()).toContain('Test Community · 5号楼 1单元 · el-2')
    await page.goto(`${h.base}/console/#/alert/${alert.id}`)
    await expect.poll(() => page.textContent('#alert-where')).toBe('Test Community · 5号楼 1单元 · el-2')
    const facts = (await page.textContent('#detail .facts')) ?? ''
    expect(facts).toContain(`${TEXT['zh-CN']['device.registrationCode']}31103101002012060001`)
    expect(facts).toContain(`${TEXT['zh-CN']['device.rescueCode']}SH-0451`)
    expect(problems).toEqual([])
    await context.close()
  })
})
