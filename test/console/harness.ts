// The console under test: the built bundle (test/console/global-setup.ts builds it) served by a real API on an in-memory database with a
// seeded community (with coordinates), the default rules and shipped device profiles, readings for a chart, and one user per
// role; headless Debian Chromium, with every page's errors collected.
import { existsSync } from 'node:fs'
import net, { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import axe from 'axe-core'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import type { AlertService } from '../../alerts/service.ts'
import type { App, AppOptions } from '../../api/app.ts'
import { en } from '../../console/src/i18n/en.ts'
import { zhCN } from '../../console/src/i18n/zh-CN.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { insertReadings, upsertLatest } from '../../core/repos/readings.ts'
import { updateCommunity } from '../../core/repos/registry.ts'
import { ruleRow, seedRules } from '../../core/repos/rules.ts'
import { seedProfiles } from '../../core/repos/profiles.ts'
import { SHIPPED_PROFILES } from '../../core/profiles/catalogue.ts'
import { profileSchema } from '../../core/profiles/schema.ts'
import { type Role } from '../../shared/domain.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'
import { apiFor } from '../helpers/api.ts'
import { COMMUNITY, seed, TEST_DEVICES } from '../helpers/stack.ts'

export const CHROMIUM = '/usr/bin/chromium'
export const DESK = { width: 1440, height: 900 }
export const PHONE = { width: 390, height: 844 }
export const LANGS = ['en', 'zh-CN'] as const
export type Lang = (typeof LANGS)[number]
/** The console's strings, to assert what a user of each language reads. */
export const TEXT: Record<Lang, Record<keyof typeof en, string>> = { en, 'zh-CN': zhCN }
/** Elevators beyond the shared test devices, one per scenario that traps someone. */
export const ELEVATORS = ['el-2', 'el-3', 'el-4', 'el-5']

export function requireChromium(): boolean {
  if (existsSync(CHROMIUM)) return true
  if (process.env.HB_REQUIRE_SERVICES === '1') throw new Error(`${CHROMIUM} is missing; .ci/run installs the Debian package chromium`)
  console.warn(`SKIP: ${CHROMIUM} not installed; the console tests are skipped (apt-get install chromium)`)
  return false
}

export interface Harness {
  db: Db
  app: App
  alerts: AlertService
  base: string
  browser: Browser
  tokens: Record<'admin' | 'operator' | 'crew' | 'resident', string>
  /** A page in a fresh context (own storage) at a viewport, with the browser's language (and another browser's user agent). */
  open(viewport: { width: number; height: number }, lang: Lang, userAgent?: string): Promise<{ page: Page; context: BrowserContext; problems: string[] }>
  signIn(page: Page, token: string): Promise<void>
  close(): Promise<void>
}

/** `port`: where the API listens (0: any free one); a test that must name its address before the API is built picks it. */
export async function startHarness(opts: AppOptions = {}, port = 0): Promise<Harness> {
  const db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  await seed(db, [...TEST_DEVICES, ...ELEVATORS.map((id) => ({ id, kind: 'elevator' as const, communityId: COMMUNITY }))])
  await updateCommunity(db, COMMUNITY, { lat: 31.112, lon: 121.381 })
  await seedRules(db, DEFAULT_RULES.map(ruleRow))
  // The shipped device profiles, as `up` seeds them.
  await seedProfiles(db, SHIPPED_PROFILES.map((p) => profileSchema.parse(p)).map((p) => ({ id: p.id, kind: p.kind, definition: p })))
  // A day of fire-tank level, every 10 minutes, above its 1.5 m reserve.
  const now = Date.now()
  const ts = Array.from({ length: 144 }, (_, i) => now - (144 - i) * 600_000)
  const cols = { deviceIds: ts.map(() => 'ft-1'), metrics: ts.map(() => 'water_level_m'), ts, values: ts.map((_, i) => 3 + Math.sin(i / 10)) }
  await insertReadings(db, cols)
  await upsertLatest(db, cols)
  const api = await apiFor(db, features, opts)
  const user = async (role: Role, binding: { companyId?: string; communityId?: string } = {}) =>
    (await issueToken(db, await insertUser(db, { name: `${role}-${Math.random().toString(36).slice(2, 7)}`, role, ...binding }))).token
  const tokens = { admin: api.token, operator: await user('operator'), crew: await user('crew', { companyId: 'co-test' }), resident: await user('resident', { communityId: COMMUNITY }) }
  await api.app.listen({ port, host: '127.0.0.1' })
  const addr = api.app.server.address()
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // The machine has no network: keep Chromium from reaching out (see the environment notes).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  return {
    db,
    app: api.app,
    alerts: api.alerts,
    base,
    browser,
    tokens,
    async open(viewport, lang, userAgent) {
      const context = await browser.newContext({ viewport, locale: lang, serviceWorkers: 'block', ...(userAgent ? { userAgent } : {}) })
      // Shorter than the test's timeout, so a missing element fails with Playwright's message.
      context.setDefaultTimeout(10_000)
      const page = await context.newPage()
      const problems: string[] = []
      page.on('pageerror', (err) => problems.push(err.message))
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text())
      })
      return { page, context, problems }
    },
    async signIn(page, token) {
      await page.goto(`${base}/`)
      await page.fill('#token', token)
      await page.click('#login-form button[type=submit]')
      await page.waitForSelector('header.top')
    },
    async close() {
      await browser.close()
      await api.app.close()
      await db.close()
    },
  }
}

/** No element wider than the viewport: the page does not scroll sideways. */
export async function horizontalOverflow(page: Page): Promise<number> {
  // Page code as a string: the server's type-check has no DOM types.
  return page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
}

/** axe-core's serious and critical violations on the page, as "rule: target" lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  // evaluate() runs outside the page's CSP, which (rightly) refuses inline scripts.
  await page.evaluate(axe.source)
  const violations = await page.evaluate<axe.Result[]>("axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)")
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

export const shot = (page: Page, name: string) => page.screenshot({ path: path.join(tmpdir(), `hb-console-${name}.png`), fullPage: true })

/** A port nothing listens on now: for a harness whose address a local provider must know before it starts. */
export async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}
