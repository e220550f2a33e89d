// `npm run screenshots`: the README's pictures, taken from the real demo rather than a fixture.
// Starts `housing-brain up` (embedded database, the "mixed" scenario so there is something to see)
// on a data directory of its own (with the demo's past weeks), lets it run until alerts are up, walks
// a few of them through the lifecycle as a crew would, then photographs each main view in
// Debian's Chromium. Output: docs/screenshots/*.png (small: one viewport, device scale 1).
// Not part of `npm test`: pictures are looked at by people, not asserted.
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type Page } from 'playwright-core'
import { eventually } from '../helpers/services.ts'
import { DEMO_COMMUNITY, startUp } from '../helpers/up-process.ts'
import { CHROMIUM, DESK, PHONE } from './harness.ts'

const OUT = path.resolve(import.meta.dirname, '../../docs/screenshots')

interface Alert {
  id: number
  state: string
  severity: string
  deviceId: string
  companyId: string | null
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'hb-shots-'))
const up = await startUp(dataDir, { LOG_LEVEL: 'error' }, ['--scenario', 'mixed', '--rate', '1'])
try {
  const alerts = await eventually(async () => {
    // Unresolved ones: the demo's past weeks (cli/demo-history.ts) are all resolved.
    const res = await up.api('GET', '/api/v1/alerts?state=open,acknowledged,in_progress&limit=100')
    const items = (res.body as { items: Alert[] }).items
    return items.length >= 4 ? items : undefined
  }, 180_000, 'four alerts from the mixed scenario')
  // Half of them walked through the lifecycle, so the ranking and the history have times in them.
  const walked = alerts.slice(0, Math.ceil(alerts.length / 2))
  for (const a of walked) {
    for (const step of ['ack', 'en-route', 'arrive', 'resolve']) {
      await up.api('POST', `/api/v1/alerts/${a.id}/${step}`, { note: step === 'resolve' ? 'Replaced the seal; checked on site.' : 'On it' })
    }
  }
  // The crew's company: one with an alert left open (the others may all have been walked).
  const companyId = (alerts.find((a) => a.companyId && !walked.includes(a)) ?? alerts.find((a) => a.companyId))?.companyId
  const crew = await up.api('POST', '/api/v1/users', { name: 'wang.qiang', role: 'crew', companyId })
  const crewToken = (crew.body as { token: { token: string } }).token.token
  // An open alert of the crew's company given to them by the office: their phone shows it first, as theirs.
  const open = await up.api('GET', `/api/v1/alerts?state=open&company=${companyId ?? ''}&limit=10`)
  const handed = (open.body as { items: Alert[] }).items[0]
  if (!handed) throw new Error(`no open alert of ${companyId ?? '(none)'} to give the crew member: ${JSON.stringify(open.body)}`)
  const given = await up.api('POST', `/api/v1/alerts/${handed.id}/assign`, { to: 'wang.qiang', note: '请尽快到场处理' })
  if (given.status !== 200) throw new Error(`assigning alert ${handed.id}: HTTP ${given.status} ${JSON.stringify(given.body)}`)
  // A tank whose level has been falling for six hours, faster in the last one, sent through the
  // HTTP device API as a DTU would: the chart shows the reserve line and the forecast to it.
  const tank = 'ft-readme'
  const reg = await up.api('POST', '/api/v1/devices', { id: tank, kind: 'fire_tank', communityId: DEMO_COMMUNITY, name: 'Fire water tank, block 5' })
  const secret = (reg.body as { secret: string }).secret
  const now = Date.now()
  const entries = Array.from({ length: 360 }, (_, i) => {
    const hoursAgo = (360 - i) / 60
    const level = hoursAgo > 1 ? 3.0 - 0.1 * (6 - hoursAgo) : 2.5 - 0.4 * (1 - hoursAgo)
    return { ts: now - (360 - i) * 60_000, values: { water_level_m: Math.round((level + 0.01 * Math.sin(i)) * 1000) / 1000 } }
  })
  const posted = await fetch(`http://127.0.0.1:${up.httpPort}/ingest/v1/devices/${tank}/telemetry`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${tank}:${secret}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify(entries),
  })
  if (!posted.ok) throw new Error(`posting the tank's history: HTTP ${posted.status} ${await posted.text()}`)

  await rm(OUT, { recursive: true, force: true })
  await mkdir(OUT, { recursive: true })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const base = `http://127.0.0.1:${up.httpPort}`
  const shoot = async (file: string, view: string, ready: string, token: string, size: { width: number; height: number }, locale: string, act?: (page: Page) => Promise<void>) => {
    const context = await browser.newContext({ viewport: size, locale, deviceScaleFactor: 1, serviceWorkers: 'block' })
    const page = await context.newPage()
    await page.goto(`${base}/`)
    await page.fill('#token', token)
    await page.click('#login-form button[type=submit]')
    await page.waitForSelector('header.top')
    if (view) await page.goto(`${base}/console/#/${view}`)
    await page.waitForSelector(ready, { timeout: 30_000 })
    if (act) await act(page)
    // Let charts and the map finish drawing.
    await page.waitForTimeout(1500)
    await page.screenshot({ path: path.join(OUT, file) })
    await context.close()
    console.log(`  ${path.relative(process.cwd(), path.join(OUT, file))}`)
  }
  // The office's overview and the control room's wall screen (大屏), with the demo's past weeks behind the standing.
  await shoot('overview.png', 'overview', '#map .community', up.token, DESK, 'zh-CN')
  await shoot('wall.png', 'wall', '#wall #map .community', up.token, { width: 1920, height: 1080 }, 'zh-CN')
  await shoot('desk.png', 'board', 'section.board tbody tr', up.token, DESK, 'zh-CN')
  // An alert of the simulated community opened from the board: its reason in Chinese, from the rules engine's data.
  await shoot('alert.png', 'board', 'section.board tbody tr', up.token, DESK, 'zh-CN', async (p) => {
    await p.locator('section.board tbody tr.alert-row a').first().click()
    await p.waitForSelector('#alert-reason')
  })
  await shoot('map.png', 'map', '#map .community', up.token, DESK, 'zh-CN')
  // The demo community's site plan, its devices where they stand, coloured by their worst alert.
  await shoot('site-plan.png', 'map/cm-xinzhuang', '#plan .plan-device', up.token, DESK, 'zh-CN')
  await shoot('device.png', `device/${tank}`, '.metric-chart[data-metric="water_level_m"] canvas', up.token, DESK, 'en', (p) => p.click('[data-range="6h"]'))
  await shoot('ranking.png', 'ranking', '#score-history canvas', up.token, DESK, 'zh-CN')
  // A shipped profile's decoder tried on the vendor's documented uplink (Milesight EM320-TILT).
  await shoot('profiles.png', 'registry/profiles', '#profiles tr[data-profile=milesight-em320-tilt]', up.token, DESK, 'zh-CN', async (p) => {
    await p.locator('#profiles tr[data-profile=milesight-em320-tilt]').getByRole('button').click()
    await p.fill('#profile-payload', '01 75 64 03 D4 00 00 01 00 50 46')
    await p.fill('#profile-fport', '85')
    await p.click('#profile-decode')
    await p.waitForSelector('#profile-readings tr[data-metric=cover_tilt_deg]')
  })
  // The changes made above (a crew member, a tank) as the office's audit log records them.
  await shoot('audit.png', 'audit', '#audit-log tbody tr', up.token, DESK, 'zh-CN')
  await shoot('phone.png', '', '#jobs li', crewToken, PHONE, 'zh-CN')
  await browser.close()
} finally {
  await up.interrupt()
  await rm(dataDir, { recursive: true, force: true })
}
