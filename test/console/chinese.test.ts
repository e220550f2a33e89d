// Chinese throughout (issue 21): every view of every role, in zh-CN, on the demo district, read as a
// person sees it — and any Latin word outside a short reviewed list fails the test, naming the view
// and the text around it. The views come from the rendered navigation (NAV in
// console/src/lib/session.ts), so a view added later is walked without touching this file; the
// views behind a link (an alert, a device, a site plan, a company's drill-down, the registry's tabs,
// the account panel) are opened on top.
//
// What counts: visible text nodes, placeholders and the options of visible pick-lists. What does
// not: text inside <code> or <kbd> (ids, rule ids, payloads shown as what they are), and tokens with
// a digit or one of - _ . / : @ # inside (device ids, times, addresses, versions).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { hashPassword } from '../../core/passwords.ts'
import { ensureDemo } from '../../core/provision.ts'
import { insertDeadLetters } from '../../core/repos/dead-letters.ts'
import { updateCommunity, updateCompany } from '../../core/repos/registry.ts'
import { insertSilence } from '../../core/repos/silences.ts'
import { insertUser, issueToken, setPasswordHash } from '../../core/repos/tokens.ts'
import type { Role } from '../../shared/domain.ts'
import { COMMUNITY } from '../helpers/stack.ts'
import { DESK, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()

/**
 * Latin words a Chinese reader meets as they are: brands and protocols named by their makers, and
 * units. Reviewed: add a word only when no Chinese reader would expect it translated.
 */
const ALLOWED = new Set([
  // The language switch names the other language in that language.
  'English',
  // Brands, platforms and protocols.
  'MQTT', 'RabbitMQ', 'WeCom', 'DingTalk', 'OneNET', 'CTWing', 'ChirpStack', 'LoRa', 'LoRaWAN', 'NB', 'IoT', 'Webhook', 'OSHA', 'Milesight', 'Dragino', 'DTU',
  // Authenticator apps the one-time-code set-up names.
  'Microsoft', 'Authenticator', 'Google',
  // Units and standard abbreviations.
  'kPa', 'MPa', 'mg', 'mm', 'cm', 'km', 'dB', 'LEL', 'ppm', 'mA', 'mV', 'KB', 'MB', 'GB', 'SMS', 'CSV', 'PNG', 'JPEG', 'API', 'URL', 'HTTPS', 'HTTP', 'JSON', 'TOTP', 'ID', 'IMEI', 'QR', 'PWA',
])

/** The Latin words of a page's visible text outside ALLOWED, each with the text it stands in. */
async function latinWords(page: Page): Promise<string[]> {
  // Page code as a string: the server's type-check has no DOM types.
  const texts = await page.evaluate<string[]>(`(() => {
    const out = []
    const shown = (el) => el.checkVisibility({ visibilityProperty: true })
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement
      if (!el || el.closest('code, kbd, script, style, select') || !shown(el)) continue
      const text = n.textContent.trim()
      if (text) out.push(text)
    }
    for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) if (shown(el)) out.push(el.placeholder)
    for (const el of document.querySelectorAll('select')) if (shown(el)) for (const o of el.options) out.push(o.text)
    return out
  })()`)
  const found: string[] = []
  for (const text of texts) {
    for (const raw of text.split(/[\s，。、：；（）【】「」《》·…]+/)) {
      const token = raw.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')
      // Ids, codes, times and addresses: a digit or a joining mark inside.
      if (/[\d\-_./:@#]/.test(token)) continue
      for (const word of token.match(/[A-Za-z]{2,}/g) ?? []) if (!ALLOWED.has(word)) found.push(`${word} in "${text.slice(0, 80)}"`)
    }
  }
  return [...new Set(found)]
}

const PASSWORD = 'walk-the-console-1'
/** The demo's people, named as an office names them; the crew and resident belong to Xinzhuang Garden. */
const PEOPLE: [Role, string, { companyId?: string; communityId?: string }][] = [
  ['admin', '王主任', {}],
  ['operator', '李明', {}],
  ['crew', '张师傅', { companyId: 'co-hongqiao' }],
  ['resident', '陈阿姨', { communityId: 'cm-xinzhuang' }],
]

describe.skipIf(!haveChromium)('console: Chinese throughout', () => {
  let h: Harness
  let dataDir: string
  let alertId = 0
  beforeAll(async () => {
    h = await startHarness()
    dataDir = await mkdtemp(path.join(tmpdir(), 'hb-zh-'))
    // The demo district, as `up` provisions it; the harness's own community named as a real one.
    await ensureDemo(h.db, dataDir, silentLogger)
    await updateCompany(h.db, 'co-test', { name: '徐汇物业服务有限公司' })
    await updateCommunity(h.db, COMMUNITY, { name: '田林十二村' })
    const tokens = new Map<Role, string>()
    for (const [role, name, binding] of PEOPLE) {
      const id = await insertUser(h.db, { name, role, ...binding })
      await setPasswordHash(h.db, id, await hashPassword(PASSWORD), false)
      tokens.set(role, (await issueToken(h.db, id)).token)
    }
    // An entrapment and a low pressure on the board, one acknowledged and assigned (history, audit).
    const trapped = await h.alerts.report({ ruleId: 'elevator-entrapment', deviceId: 'el-xinzhuang-001', condition: 'active', value: 1 }, 'rules-engine')
    alertId = trapped.alert?.id ?? 0
    await h.alerts.report({ ruleId: 'fire-tank-low-pressure', deviceId: 'ft-xinzhuang-002', condition: 'active', value: 40 }, 'rules-engine')
    const op = { authorization: `Bearer ${tokens.get('operator') ?? ''}` }
    const ack = await h.app.inject({ method: 'POST', url: `/api/v1/alerts/${alertId}/ack`, headers: op, payload: { note: '已通知维保单位' } })
    if (ack.statusCode !== 200) throw new Error(`ack fixture: ${ack.body}`)
    // A resident's report, stored with its title as the resident wrote it.
    const hazard = await h.app.inject({ method: 'POST', url: '/api/v1/hazards', headers: { authorization: `Bearer ${tokens.get('resident') ?? ''}` }, payload: { title: '楼道灯不亮', location: '2号楼1单元' } })
    if (hazard.statusCode !== 201) throw new Error(`hazard fixture: ${hazard.body}`)
    const now = Date.now()
    await insertSilence(h.db, { deviceId: 'el-xinzhuang-003', communityId: null, ruleId: null, startsAt: new Date(now), endsAt: new Date(now + 7_200_000), reason: '电梯年检', createdBy: '李明' })
    await insertDeadLetters(h.db, [
      { receivedAt: new Date(now), clientId: 'mh-xinzhuang-001', topic: 'hb/v1/devices/mh-xinzhuang-001/telemetry', deviceId: 'mh-xinzhuang-001', reasonCode: 'out_of_range', reason: 'cover_tilt_deg 900 is outside 0–90', payloadExcerpt: `{"ts":${now},"metrics":{"cover_tilt_deg":900}}` },
    ])
    // A change made through the API, for the audit screen.
    const placed = await h.app.inject({ method: 'PATCH', url: '/api/v1/devices/el-xinzhuang-002', headers: op, payload: { building: '2', unit: '1' } })
    if (placed.statusCode !== 200) throw new Error(`place fixture: ${placed.body}`)
    // The demo's devices each get a hashed secret: slow on a busy machine.
  }, 240_000)
  afterAll(async () => {
    await h.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('shows no Latin word outside the allow-list on any view of any role', { timeout: 600_000 }, async () => {
    const zh = TEXT['zh-CN']
    // Each leak once, with where it was seen: the same name leaks on many views.
    const leaks = new Map<string, Set<string>>()
    const walked: string[] = []
    const judge = async (page: Page, role: Role, view: string) => {
      // Lazy views and their data: until nothing says "loading", then a moment for the last paint.
      await expect.poll(async () => (await page.locator('main').textContent()) ?? '').not.toContain(zh['common.loading'])
      await page.waitForTimeout(300)
      for (const w of await latinWords(page)) leaks.set(w, (leaks.get(w) ?? new Set()).add(`${role} ${view}`))
      await shot(page, `zh-walk-${role}-${view.replaceAll('/', '-')}`)
      walked.push(`${role} ${view}`)
    }
    for (const [role, name] of PEOPLE) {
      const { page, context, problems } = await h.open(DESK, 'zh-CN')
      await page.goto(`${h.base}/`)
      await page.fill('#name', name)
      await page.fill('#password', PASSWORD)
      await page.click('#password-form button[type=submit]')
      await page.waitForSelector('header.top')
      await page.click('#account')
      await page.waitForSelector('#account-close')
      await judge(page, role, 'account')
      await page.click('#account-close')
      const views = await page.evaluate<string[]>(`[...document.querySelectorAll('header.top nav a[data-view]')].map((a) => a.getAttribute('href'))`)
      const office = role === 'admin' || role === 'operator'
      const extra = office
        ? [`#/alert/${alertId}`, '#/device/el-xinzhuang-001', '#/map/cm-xinzhuang', '#/ranking/co-hongqiao', '#/registry/communities', '#/registry/devices', '#/registry/profiles', '#/oncall/contacts', '#/oncall/rotas', '#/oncall/policies', '#/wall']
        : role === 'crew'
          ? [`#/alert/${alertId}`]
          : []
      for (const hash of [...views, ...extra]) {
        await page.goto(`${h.base}/console/${hash}`)
        await judge(page, role, hash.slice(2))
      }
      expect(problems, `${role}: console errors`).toEqual([])
      await context.close()
    }
    // Every role walked its navigation (the office's desk at least).
    expect(walked.length).toBeGreaterThan(20)
    expect([...leaks].map(([w, where]) => `${w} — ${[...where].slice(0, 3).join(', ')}${where.size > 3 ? ` (+${where.size - 3})` : ''}`)).toEqual([])
  })

  it('reads the demo district, the rules and a resident report in English in the English console', { timeout: 120_000 }, async () => {
    const { page, context, problems } = await h.open(DESK, 'en')
    await page.goto(`${h.base}/`)
    await page.fill('#name', '李明')
    await page.fill('#password', PASSWORD)
    await page.click('#password-form button[type=submit]')
    await page.waitForSelector('header.top')
    // The office lands on the overview; the resident's report is on the board.
    await page.goto(`${h.base}/console/#/board`)
    const board = page.locator('section.board')
    await expect.poll(() => board.textContent()).toContain('Resident report: 楼道灯不亮')
    expect(await board.textContent()).toContain('Xinzhuang Garden · Bldg 1, Unit 1 · Elevator 1')
    expect(await board.textContent()).toContain('Hongqiao Property Services Co.')
    expect(await page.textContent('#coverage')).toContain('Jinxiu Property Management Co.')
    await shot(page, 'zh-walk-en-board')
    await page.goto(`${h.base}/console/#/devices`)
    await expect.poll(() => page.locator('#devices').textContent()).toContain('Fire water tank 12')
    // The demo's names in English; the office's own community (田林十二村) as it was written.
    expect(await page.locator('#devices').textContent()).not.toMatch(/莘庄花园|古美三村|号电梯|号井盖|号消防水箱|网关/)
    await page.goto(`${h.base}/console/#/rules`)
    await expect.poll(() => page.locator('#rules').textContent()).toContain('Passengers trapped')
    expect(problems).toEqual([])
    await context.close()
  })
})
