// The console in headless Chromium, as an operator uses it: sign in with a token, see an alert
// arrive live, open it, acknowledge it with a note, see the history.
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { AlertService } from '../../api/alerts/service.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertReadings, upsertLatest } from '../../core/repos/readings.ts'
import { apiFor } from '../helpers/api.ts'
import { seed } from '../helpers/stack.ts'

const CHROMIUM = '/usr/bin/chromium'
const haveChromium = existsSync(CHROMIUM)
if (!haveChromium) {
  if (process.env.HB_REQUIRE_SERVICES === '1') throw new Error(`${CHROMIUM} is missing; .ci/run installs the Debian package chromium`)
  console.warn(`SKIP: ${CHROMIUM} not installed; the console test is skipped (apt-get install chromium)`)
}

describe.skipIf(!haveChromium)('console', () => {
  let db: Db
  let app: App
  let alerts: AlertService
  let token: string
  let browser: Browser
  let base: string

  beforeAll(async () => {
    db = await openDb({})
    const features = await migrate(db, { log: silentLogger, retentionDays: 30, compressAfterDays: 7 })
    await seed(db)
    await upsertRule(db, { id: 'elevator-entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { name: 'Passenger trapped', description: 'People trapped in the car', severity: 'critical' } })
    const cols = { deviceIds: ['el-1', 'el-1'], metrics: ['speed_mps', 'trapped'], ts: [Date.now(), Date.now()], values: [0, 1] }
    await insertReadings(db, cols)
    await upsertLatest(db, cols)
    const api = await apiFor(db, features)
    app = api.app
    alerts = api.alerts
    token = api.token
    await app.listen({ port: 0, host: '127.0.0.1' })
    const addr = app.server.address()
    base = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // The machine has no network: keep Chromium from reaching out (see the environment notes).
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  })

  afterAll(async () => {
    await browser.close()
    await app.close()
    await db.close()
  })

  it('shows an alert live, opens it, and acknowledges it with a note', async () => {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(err.message))
    await page.goto(`${base}/`)
    await page.fill('#token', 'hb_wrong')
    await page.click('#login-form button[type=submit]')
    await expect.poll(() => page.textContent('#login-error')).toMatch(/unknown, revoked or expired/)

    await page.fill('#token', token)
    await page.click('#login-form button[type=submit]')
    await page.waitForSelector('#live.on')

    await alerts.report({ ruleId: 'elevator-entrapment', deviceId: 'el-1', condition: 'active', value: 1, reason: 'trapped = 1' }, 'rules-engine')
    const row = page.locator('#alerts tbody tr', { hasText: 'Passenger trapped' })
    await row.waitFor({ timeout: 5000 })
    expect(await row.locator('td.sev').textContent()).toBe('critical')

    await row.click()
    await expect.poll(() => page.textContent('#detail-title')).toMatch(/Passenger trapped/)
    await page.fill('#note', 'crew on the way')
    await page.click('#detail [data-action=ack]')
    await expect.poll(() => page.textContent('#history')).toMatch(/acknowledged by admin-\w+ — crew on the way/)
    await expect.poll(() => row.textContent()).toMatch(/acknowledged/)
    // Kept for a person to look at after a failure.
    await page.screenshot({ path: path.join(tmpdir(), 'hb-console-alerts.png'), fullPage: true })

    await page.click('nav button[data-view=devices]')
    await page.locator('#devices tbody tr', { hasText: 'el-1' }).click()
    await expect.poll(() => page.textContent('#latest')).toMatch(/trapped/)
    expect(problems).toEqual([])
  })

  it('renders the API documentation at /docs under the security headers', async () => {
    const page = await browser.newPage()
    const blocked: string[] = []
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) blocked.push(m.text())
    })
    await page.goto(`${base}/docs`)
    await page.locator('.swagger-ui .opblock', { hasText: '/api/v1/alerts/stream' }).first().waitFor({ timeout: 15_000 })
    expect(blocked).toEqual([])
  })
})
