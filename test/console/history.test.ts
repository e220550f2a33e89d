// An alert's history as a record (issue 20): the rules engine raises a fire-tank alert and reports
// it three more times a minute apart; the office's SMS pages the duty officer (delivered) and the
// crew member (failed twice) — queued through the notification repository, since the harness runs
// no dispatcher; the crew member takes it through acknowledge, on my way, arrived and resolve from
// the phone. The operator, on a phone and a desk in both languages, and the crew member on the phone
// read every time to the second, the time since the raise beside each timed step and in a line above,
// both pages by name and channel, the three updates as one row, and the rules engine by its name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deliveriesOfAlert, insertDelivery, recordNotifyAttempt } from '../../core/repos/notify-deliveries.ts'
import { insertChannel } from '../../core/repos/notify-setup.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness, type Lang } from './harness.ts'

const haveChromium = requireChromium()

const OFFICER = '张伟'
const CREW = '李师傅'
const RULE = 'fire-tank-below-reserve'
/** The tank's level at the raise and the three reports after it, a minute apart (metres). */
const LEVELS = [1.42, 1.38, 1.35, 1.31]

interface Seen {
  raisedAt: string
  history: { id: number; at: string; type: string; actor: string }[]
}

/** What `elapsed` in the console writes, from the strings of `lang`. */
function elapsedText(lang: Lang, ms: number): string {
  const total = Math.floor(ms / 1000)
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60]
  const key = h > 0 ? 'elapsed.hms' : m > 0 ? 'elapsed.ms' : 'elapsed.s'
  return TEXT[lang][key].replace('{h}', String(h)).replace('{m}', String(m)).replace('{s}', String(s))
}

describe.skipIf(!haveChromium)('console: the history as a record', () => {
  let h: Harness
  let crewToken: string
  let alertId = 0
  let seen: Seen
  beforeAll(async () => {
    h = await startHarness()
    const officer = await insertUser(h.db, { name: OFFICER, role: 'operator' })
    const crew = await insertUser(h.db, { name: CREW, role: 'crew', companyId: 'co-test' })
    crewToken = (await issueToken(h.db, crew)).token

    const raised = new Date(Date.now() - 6 * 60_000)
    const at = (s: number) => new Date(raised.getTime() + s * 1000)
    const reports = LEVELS.map((value, i) => ({ ruleId: RULE, deviceId: 'ft-1', condition: 'active' as const, value, at: at(i * 60) }))
    const outcomes = []
    for (const r of reports) outcomes.push(await h.alerts.report(r, 'rules-engine'))
    expect(outcomes.map((o) => o.outcome)).toEqual(['raised', 'updated', 'updated', 'updated'])
    alertId = outcomes[0]?.alert?.id ?? 0

    // The raise's pages, queued as the notification planner queues them; then what came of each.
    const [raise] = (await h.app.inject({ url: `/api/v1/alerts/${alertId}`, headers: { authorization: `Bearer ${h.tokens.admin}` } })).json<Seen>().history
    await insertChannel(h.db, { id: 'office-sms', companyId: null, kind: 'sms_http', name: 'Office SMS', settings: {}, secrets: null, createdBy: 'admin' })
    const pages = [[officer, null, '+8613812345678'], [crew, 'co-test', '13900001111']] as const
    for (const [userId, companyId, address] of pages) {
      const queued = { alertId, eventId: raise?.id ?? 0, step: 0, companyId, channelId: 'office-sms', userId, address, locale: 'zh-CN' as const }
      await insertDelivery(h.db, { ...queued, dueAt: at(2), heldUntil: null, createdAt: at(2), linkExpiresAt: at(3600) })
    }
    const [toOfficer, toCrew] = await deliveriesOfAlert(h.db, alertId, 10)
    if (!toOfficer || !toCrew) throw new Error('the deliveries were not queued')
    const attempt = { channelId: 'office-sms', companyId: null, sent: true, retryAt: null }
    await recordNotifyAttempt(h.db, { ...attempt, deliveryId: toOfficer.id, at: at(5), ok: true, status: 'http 200', detail: 'ok', outcome: 'delivered' })
    await recordNotifyAttempt(h.db, { ...attempt, deliveryId: toCrew.id, at: at(5), ok: false, status: 'http 500', detail: 'gateway error', outcome: 'retry', retryAt: at(35) })
    await recordNotifyAttempt(h.db, { ...attempt, deliveryId: toCrew.id, at: at(35), ok: false, status: 'http 500', detail: 'gateway error', outcome: 'failed' })
  })
  afterAll(async () => h.close())

  it('the crew member takes the alert from acknowledged to resolved on the phone', { timeout: 60_000 }, async () => {
    const crew = await h.open(PHONE, 'zh-CN')
    await h.signIn(crew.page, crewToken)
    const job = crew.page.locator(`#jobs li[data-id="${alertId}"]`)
    await job.locator('.job-head').click()
    // A second and more between steps: to the minute they read alike, to the second they do not.
    for (const action of ['ack', 'en-route', 'arrive']) {
      await job.locator(`[data-action="${action}"]`).click()
      await job.locator(`[data-action="${action}"]`).waitFor({ state: 'detached' })
      await crew.page.waitForTimeout(1100)
    }
    await job.locator('textarea.note').fill('补水至 2.1 米，浮球阀已更换')
    await job.locator('[data-action="resolve"]').click()
    await job.waitFor({ state: 'detached' })
    expect(crew.problems).toEqual([])
    await crew.context.close()
    seen = (await h.app.inject({ url: `/api/v1/alerts/${alertId}`, headers: { authorization: `Bearer ${h.tokens.admin}` } })).json<Seen>()
    expect(seen.history.map((e) => e.type)).toEqual(['raised', 'updated', 'updated', 'updated', 'acknowledged', 'en_route', 'arrived', 'resolved'])
  })

  const views = [
    ...[PHONE, DESK].flatMap((viewport) => LANGS.map((lang) => ({ who: 'operator' as const, viewport, lang }))),
    ...LANGS.map((lang) => ({ who: 'crew' as const, viewport: PHONE, lang })),
  ]
  for (const { who, viewport, lang } of views) {
    it(`${who} ${viewport.width}×${viewport.height}, ${lang}: seconds, times from the raise, pages, one row of updates, the rules engine by name`, { timeout: 60_000 }, async () => {
      const T = TEXT[lang]
      const { page, context, problems } = await h.open(viewport, lang)
      await h.signIn(page, who === 'operator' ? h.tokens.operator : crewToken)
      await page.goto(`${h.base}/console/#/alert/${alertId}`)
      await page.locator('#history li[data-type="resolved"]').waitFor()

      // Every row's time has seconds ("20:15:42", "8:15:42 PM").
      const times = await page.locator('#history li time').allTextContents()
      expect(times.length).toBe(8)
      for (const time of times) expect(time).toMatch(/\d:\d\d:\d\d/)
      expect(new Set(times.slice(-4)).size).toBe(4)

      // Each timed step shows the time since the raise, and the line above lists all four.
      const since = (type: string) => {
        const e = seen.history.find((x) => x.type === type)
        return elapsedText(lang, new Date(e?.at ?? 0).getTime() - new Date(seen.raisedAt).getTime())
      }
      const steps = [
        ['acknowledged', 'history.respond'],
        ['en_route', 'history.depart'],
        ['arrived', 'history.onSite'],
        ['resolved', 'history.handle'],
      ] as const
      for (const [type, label] of steps) {
        expect(await page.locator(`#history li[data-type="${type}"] .elapsed`).textContent()).toBe(`+${since(type)}`)
        expect(await page.locator(`#history-summary li[data-step="${type}"]`).textContent()).toBe(`${T[label]} ${since(type)}`)
      }
      expect(since('acknowledged')).toMatch(lang === 'en' ? /^6 min \d+ s$/ : /^6分\d+秒$/)

      // The three updates are one row with the latest level; the raise is the rules engine's, by name.
      const updates = page.locator('#history li[data-type="updated"]')
      expect(await updates.count()).toBe(1)
      expect(await updates.getAttribute('data-count')).toBe('3')
      expect(await updates.textContent()).toContain(T['history.updates'].replace('{n}', '3').replace('{value}', ''))
      expect(await updates.textContent()).toContain('1.31')
      const raised = await page.locator('#history li[data-type="raised"]').textContent()
      expect(raised).toContain(T['event.by'].replace('{actor}', T['actor.rules-engine']))
      expect(raised).not.toContain('rules-engine')
      expect(await page.locator('#history li[data-type="acknowledged"]').textContent()).toContain(CREW)

      // Both pages, after the raise and before the first update: who, over what, and what came of it.
      const rows = await page.evaluate<(string | null)[]>("[...document.querySelectorAll('#history li')].map((li) => li.getAttribute('data-type'))")
      expect(rows).toEqual(['raised', 'delivery', 'delivery', 'updated', 'acknowledged', 'en_route', 'arrived', 'resolved'])
      const sms = T['channel.sms_http']
      const toOfficer = page.locator('#history li[data-type="delivery"][data-status="delivered"]')
      expect(await toOfficer.textContent()).toContain(T['history.delivery'].replace('{channel}', sms).replace('{who}', OFFICER))
      expect(await toOfficer.textContent()).toContain(T['delivery.delivered'])
      expect(await toOfficer.textContent()).toContain('138****5678')
      const toCrew = page.locator('#history li[data-type="delivery"][data-status="failed"]')
      expect(await toCrew.textContent()).toContain(T['history.delivery'].replace('{channel}', sms).replace('{who}', CREW))
      expect(await toCrew.textContent()).toContain(T['history.attempts'].replace('{n}', '2'))
      expect(await page.textContent('#history')).not.toMatch(/13812345678|13900001111/)

      await page.locator('#history').scrollIntoViewIfNeeded()
      await shot(page, `history-${who}-${viewport.width}-${lang}`)
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      expect(problems).toEqual([])
      await context.close()
    })
  }
})
