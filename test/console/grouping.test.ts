// Grouping on the board (issue 21): three covers displaced in one community within the window are
// one row with the count 3, which opens to its three alerts; each member keeps its own row and
// check box. Both languages at 1440×900 and 390×844.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { COMMUNITY } from '../helpers/stack.ts'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()

describe.skipIf(!haveChromium)('console: a group of alerts', () => {
  let h: Harness
  let groupId = 0
  let grouped: AlertService
  beforeAll(async () => {
    h = await startHarness()
    // Raised as a grouping API process would (ALERT_GROUP_WINDOW 10m, ALERT_GROUP_BY rule,community),
    // its committed events handed to this API's live stream as its feed would (alerts/feed.ts).
    grouped = new AlertService(h.db, DEFAULT_DEADLINES, silentLogger, undefined, { windowMs: 600_000, by: ['rule', 'community'] })
    grouped.bus.on('event', (e) => h.alerts.bus.emit('event', e))
    for (const deviceId of ['mh-1', 'mh-2', 'mh-3']) {
      const { alert } = await grouped.report({ ruleId: 'manhole-cover-displaced', deviceId, condition: 'active' }, 'rules')
      groupId ||= alert?.groupId ?? 0
    }
    expect(groupId).toBeGreaterThan(0)
  })
  afterAll(async () => h.close())

  for (const viewport of [DESK, PHONE]) {
    for (const lang of LANGS) {
      it(`one row with the count 3 that opens to its alerts at ${viewport.width}×${viewport.height} in ${lang}`, async () => {
        const tx = TEXT[lang]
        const { page, context, problems } = await h.open(viewport, lang)
        try {
          await h.signIn(page, h.tokens.operator)
          // The office lands on the overview; the board is opened by name.
          await page.goto(`${h.base}/console/#/board`)
          const row = page.locator(`#alerts tr.group-row[data-group="${groupId}"]`)
          await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1)
          expect(await row.locator('.group-count').textContent()).toBe(tx['group.count'].replace('{n}', '3'))
          expect(await page.locator('#alerts tr.member').count()).toBe(0)
          // The three alerts are one row, not three.
          expect(await page.locator('#alerts tr.alert-row:not(.group-row)').count()).toBe(0)
          await shot(page, `group-closed-${viewport.width}-${lang}`)
          await row.locator('.group-toggle').click()
          await expect.poll(() => page.locator('#alerts tr.member').count()).toBe(3)
          expect(await row.locator('.group-toggle').getAttribute('aria-expanded')).toBe('true')
          // Each member is an alert of its own: its own link and check box.
          expect(await page.locator('#alerts tr.member input[type=checkbox]').count()).toBe(3)
          expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
          expect(await axeViolations(page)).toEqual([])
          await shot(page, `group-open-${viewport.width}-${lang}`)
          // Checking the group's box checks its three open alerts: bulk acknowledge acts on each.
          await row.locator('input[type=checkbox]').check()
          await expect.poll(() => page.locator('#bulk-ack').textContent()).toBe(tx['board.bulkAck'].replace('{n}', '3'))
          // A member's detail lists its group, each member a link (GET /api/v1/alerts/:id/group).
          await page.locator('#alerts tr.member td.title a').nth(1).click()
          await expect.poll(() => page.locator('#group-members li').count()).toBe(3)
          expect(await page.locator('#group-members h3').textContent()).toBe(tx['group.members'].replace('{n}', '3'))
          expect(await page.locator('#group-members li a').count()).toBe(2)
          expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
          expect(await axeViolations(page)).toEqual([])
          await shot(page, `group-detail-${viewport.width}-${lang}`)
          expect(problems).toEqual([])
        } finally {
          await context.close()
        }
      }, 120_000)
    }
  }

  it('a fourth cover displaced within the window joins the open group live', async () => {
    await provisionDevices(h.db, [{ id: 'mh-4', kind: 'manhole', communityId: COMMUNITY }])
    const { page, context, problems } = await h.open(DESK, 'zh-CN')
    try {
      await h.signIn(page, h.tokens.operator)
      // The office lands on the overview; the board is opened by name.
      await page.goto(`${h.base}/console/#/board`)
      const row = page.locator(`#alerts tr.group-row[data-group="${groupId}"]`)
      await expect.poll(() => row.locator('.group-count').textContent(), { timeout: 30_000 }).toBe(TEXT['zh-CN']['group.count'].replace('{n}', '3'))
      await row.locator('.group-toggle').click()
      await grouped.report({ ruleId: 'manhole-cover-displaced', deviceId: 'mh-4', condition: 'active' }, 'rules')
      await expect.poll(() => row.locator('.group-count').textContent()).toBe(TEXT['zh-CN']['group.count'].replace('{n}', '4'))
      await expect.poll(() => page.locator('#alerts tr.member').count()).toBe(4)
      // A later member sounds no cue: the group's first did.
      expect(await page.locator('#cue').count()).toBe(0)
      // A group whose first alert arrived live (the board holds it as a group of one) folds when the second comes.
      await grouped.report({ ruleId: 'manhole-low-battery', deviceId: 'mh-1', condition: 'active' }, 'rules')
      await expect.poll(() => page.locator('#alerts tr.alert-row:not(.group-row):not(.member)').count()).toBe(1)
      const second = await grouped.report({ ruleId: 'manhole-low-battery', deviceId: 'mh-2', condition: 'active' }, 'rules')
      const battery = page.locator(`#alerts tr.group-row[data-group="${second.alert?.groupId}"]`)
      await expect.poll(() => battery.locator('.group-count').textContent()).toBe(TEXT['zh-CN']['group.count'].replace('{n}', '2'))
      expect(await page.locator('#alerts tr.alert-row:not(.group-row):not(.member)').count()).toBe(0)
      await shot(page, 'group-live-1440-zh-CN')
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  }, 120_000)

  it('the API lists the members and the alert carries its group', async () => {
    const res = await h.app.inject({ url: `/api/v1/alerts/${groupId}/group`, headers: { authorization: `Bearer ${h.tokens.operator}` } })
    expect(res.statusCode).toBe(200)
    const body = res.json<{ groupId: number; size: number; items: { deviceId: string; groupSize: number }[] }>()
    expect(body).toMatchObject({ groupId, size: 4 })
    expect(body.items.map((a) => a.deviceId)).toEqual(['mh-1', 'mh-2', 'mh-3', 'mh-4'])
    expect(body.items.every((a) => a.groupSize === 4)).toBe(true)
    // A resident is not shown groups.
    const resident = await h.app.inject({ url: `/api/v1/alerts/${groupId}/group`, headers: { authorization: `Bearer ${h.tokens.resident}` } })
    expect(resident.statusCode).toBe(403)
  })
})
