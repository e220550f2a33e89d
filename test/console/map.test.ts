// The site plan in real Chromium (issue 20): a community's plan shows its devices where the office
// placed them (measured against the drawn image, at a desk and on a phone, in both languages); an
// admin drags a marker and a listed device onto the plan and both stay there after a reload; a
// marker turns the critical colour when its device raises a critical alert and back when it is
// resolved, through the live stream. The district map lists the plan and clusters by community.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { provisionDevices } from '../../core/provision.ts'
import { assignCommunity, createCommunity } from '../../core/repos/registry.ts'
import { putSitePlan, setPlanPosition } from '../../core/repos/site-plans.ts'
import { COMMUNITY } from '../helpers/stack.ts'
import { sitePlanPng, tinyPng } from '../helpers/images.ts'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'
import type { Page } from 'playwright-core'

const haveChromium = requireChromium()

/** Where the seeded devices stand, as fractions of the plan (x from the left, y from the top). */
const PLACED = { 'el-2': { x: 0.2, y: 0.3 }, 'el-3': { x: 0.7, y: 0.6 }, 'mh-1': { x: 0.5, y: 0.9 } } as const
/** Two pixels on a plan drawn a few hundred pixels wide. */
const TOLERANCE = 0.02
/** The board's colours (console/src/style.css), as the browser reports them. */
const CRITICAL = 'rgb(183, 28, 28)'
const OK = 'rgb(27, 94, 32)'

/** A marker's centre as a fraction of the drawn plan image. */
async function at(page: Page, device: string): Promise<{ x: number; y: number }> {
  const img = await page.locator('#plan img.plan-image').boundingBox()
  const marker = await page.locator(`#plan .plan-device.m-${device}`).boundingBox()
  if (!img || !marker) throw new Error(`${device} or the plan is not drawn`)
  return { x: (marker.x + marker.width / 2 - img.x) / img.width, y: (marker.y + marker.height / 2 - img.y) / img.height }
}

const near = (p: { x: number; y: number }) => ({ x: expect.closeTo(p.x, 1) as number, y: expect.closeTo(p.y, 1) as number })
const within = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.abs(a.x - b.x) <= TOLERANCE && Math.abs(a.y - b.y) <= TOLERANCE

const dbPosition = async (h: Harness, id: string) => (await h.db.query<{ x: number | null; y: number | null }>('SELECT plan_x AS x, plan_y AS y FROM devices WHERE id = $1', [id]))[0]

describe.skipIf(!haveChromium)('console: site plan', () => {
  let h: Harness
  /** A tile server on another origin (its own port), as an office's offline one: every tile one PNG. */
  let tiles: http.Server
  const tileRequests: string[] = []
  const place = async () => {
    for (const [id, p] of Object.entries(PLACED)) await setPlanPosition(h.db, id, p)
  }
  beforeAll(async () => {
    const tile = tinyPng(256, [205, 222, 238])
    tiles = http.createServer((req, res) => {
      tileRequests.push(req.url ?? '')
      res.writeHead(/^\/\d+\/\d+\/\d+\.png$/.test(req.url ?? '') ? 200 : 404, { 'content-type': 'image/png' }).end(tile)
    })
    await new Promise<void>((resolve) => tiles.listen(0, '127.0.0.1', resolve))
    const port = (tiles.address() as AddressInfo).port
    h = await startHarness({ map: { tileUrl: `http://127.0.0.1:${port}/{z}/{x}/{y}.png`, tileAttribution: 'Office tiles', tileMaxZoom: 18 } })
    // A second community with a device and no plan yet, for the upload.
    await createCommunity(h.db, 'cm-new', { name: 'New Garden', district: null, street: null, address: null, lat: null, lon: null })
    await assignCommunity(h.db, 'cm-new', 'co-test', 'fixture', null)
    await provisionDevices(h.db, [{ id: 'el-new', kind: 'elevator', communityId: 'cm-new' }])
    // 900 × 560 pixels, wider than high: drawn smaller on a phone, so fractions are what is compared.
    const png = sitePlanPng(900, 560)
    await putSitePlan(h.db, { communityId: COMMUNITY, contentType: 'image/png', width: 900, height: 560, sha256: 'fixture-plan', bytes: png, uploadedBy: 'fixture', uploadedAt: new Date() })
    await place()
  })
  afterAll(async () => {
    await h.close()
    await new Promise((resolve) => tiles.close(resolve))
  })

  for (const lang of LANGS) {
    for (const [size, viewport] of [['desk', DESK], ['phone', PHONE]] as const) {
      it(`${lang}, ${size}: the plan shows each device where it was placed, read-only for the crew`, { timeout: 60_000 }, async () => {
        const T = TEXT[lang]
        await place()
        const { page, context, problems } = await h.open(viewport, lang)
        await h.signIn(page, size === 'desk' ? h.tokens.operator : h.tokens.crew)
        await page.goto(`${h.base}/console/#/map/${COMMUNITY}`)
        await page.locator('#plan img.plan-image').waitFor()
        for (const [id, p] of Object.entries(PLACED)) await expect.poll(() => at(page, id).then((q) => within(q, p))).toBe(true)
        expect(await page.locator('h1').textContent()).toBe(T['plan.title'].replace('{name}', 'Test Community'))
        // Devices not yet placed are listed beside the plan; only the office may place them.
        expect(await page.locator('#unplaced li[data-device="el-1"]').count()).toBe(1)
        expect(await page.locator('#unplaced-title').textContent()).toBe(T['plan.unplaced'].replace('{n}', '7'))
        expect(await page.locator('#plan-file').count()).toBe(size === 'desk' ? 1 : 0)
        expect(await page.locator('#unplaced button[aria-pressed]').count()).toBe(size === 'desk' ? 7 : 0)
        expect(await page.locator('.legend').textContent()).toContain(T['severity.critical'])
        expect(await horizontalOverflow(page)).toBe(0)
        expect(await axeViolations(page)).toEqual([])
        await shot(page, `site-plan-${size}-${lang}`)
        expect(problems).toEqual([])
        await context.close()
      })
    }

    it(`${lang}: an admin drags a marker and a listed device onto the plan; both stay after a reload`, { timeout: 60_000 }, async () => {
      await place()
      const { page, context, problems } = await h.open(lang === 'en' ? DESK : PHONE, lang)
      await h.signIn(page, h.tokens.admin)
      await page.goto(`${h.base}/console/#/map/${COMMUNITY}`)
      await page.locator('#plan .plan-device.m-el-2').waitFor()
      const img = await page.locator('#plan img.plan-image').boundingBox()
      if (!img) throw new Error('no plan image')
      const pixel = (x: number, y: number) => ({ x: img.x + img.width * x, y: img.y + img.height * y })
      // A marker dragged with the mouse to the middle of the plan.
      const from = await page.locator('#plan .plan-device.m-el-2').boundingBox()
      if (!from) throw new Error('no marker')
      await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2)
      await page.mouse.down()
      const to = pixel(0.5, 0.5)
      await page.mouse.move(to.x, to.y, { steps: 12 })
      await page.mouse.up()
      await expect.poll(() => dbPosition(h, 'el-2')).toEqual(near({ x: 0.5, y: 0.5 }))
      // A device from the list beside the plan, dropped on it.
      await page.locator('#unplaced li[data-device="el-4"]').scrollIntoViewIfNeeded()
      const target = pixel(0.85, 0.15)
      const plan = await page.locator('#plan').boundingBox()
      if (!plan) throw new Error('no plan')
      await page.locator('#plan').scrollIntoViewIfNeeded()
      await page.locator('#unplaced li[data-device="el-4"]').dragTo(page.locator('#plan'), { targetPosition: { x: target.x - plan.x, y: target.y - plan.y } })
      await expect.poll(() => dbPosition(h, 'el-4')).toEqual(near({ x: 0.85, y: 0.15 }))
      await page.reload()
      await page.locator('#plan .plan-device.m-el-4').waitFor()
      await expect.poll(() => at(page, 'el-2').then((q) => within(q, { x: 0.5, y: 0.5 }))).toBe(true)
      await expect.poll(() => at(page, 'el-4').then((q) => within(q, { x: 0.85, y: 0.15 }))).toBe(true)
      expect(await page.locator('#unplaced li[data-device="el-4"]').count()).toBe(0)
      await shot(page, `site-plan-dragged-${lang}`)
      const [audit] = await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'devices.place'")
      expect(audit?.n).toBeGreaterThanOrEqual(2)
      expect(problems).toEqual([])
      await setPlanPosition(h.db, 'el-4', null)
      await context.close()
    })

    it(`${lang}: a marker takes the critical colour while its device has a critical alert, and loses it on resolve`, { timeout: 60_000 }, async () => {
      await place()
      const { page, context, problems } = await h.open(DESK, lang)
      await h.signIn(page, h.tokens.operator)
      await page.waitForSelector('#live.on')
      await page.goto(`${h.base}/console/#/map/${COMMUNITY}`)
      const dot = '#plan .plan-device.m-el-3 span'
      await page.locator(dot).waitFor()
      const colour = () => page.evaluate<string>(`getComputedStyle(document.querySelector(${JSON.stringify(dot)})).backgroundColor`)
      expect(await colour()).toBe(OK)
      const { alert } = await h.alerts.report({ ruleId: `plan-colour-${lang}`, deviceId: 'el-3', condition: 'active', source: 'operator', severity: 'critical', title: 'Passenger trapped' }, 'operator')
      if (!alert) throw new Error('no alert raised')
      await expect.poll(colour).toBe(CRITICAL)
      expect(await page.locator('#plan .plan-device.m-el-3.sev-critical').count()).toBe(1)
      // Where it stands is unchanged by the redraw.
      expect(within(await at(page, 'el-3'), PLACED['el-3'])).toBe(true)
      await shot(page, `site-plan-critical-${lang}`)
      await h.alerts.act(alert.id, 'resolve', 'operator', undefined)
      await expect.poll(colour).toBe(OK)
      expect(problems).toEqual([])
      await context.close()
    })
  }

  it('an operator uploads a plan for a community that has none; a file that is not an image is refused with a message', { timeout: 60_000 }, async () => {
    const { page, context, problems } = await h.open(PHONE, 'zh-CN')
    const T = TEXT['zh-CN']
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/map/cm-new`)
    await page.locator('.site-plan .empty', { hasText: T['plan.noneOffice'] }).waitFor()
    await page.locator('#plan-file').setInputFiles({ name: 'plan.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7 not an image') })
    await page.locator('.site-plan [role=alert]', { hasText: T['plan.badType'] }).waitFor()
    await page.locator('#plan-file').setInputFiles({ name: 'plan.png', mimeType: 'image/png', buffer: sitePlanPng(300, 420) })
    await page.locator('#plan img.plan-image').waitFor()
    expect(await page.locator('#unplaced li[data-device="el-new"]').count()).toBe(1)
    const [stored] = await h.db.query<{ width: number; uploaded_by: string }>("SELECT width, uploaded_by FROM site_plans WHERE community_id = 'cm-new'")
    expect(stored?.width).toBe(300)
    // Chosen in the list, then a tap on the plan: the way to place on a touch screen.
    await page.locator('#unplaced li[data-device="el-new"] button').click()
    const img = await page.locator('#plan img.plan-image').boundingBox()
    if (!img) throw new Error('no plan image')
    await page.mouse.click(img.x + img.width * 0.3, img.y + img.height * 0.6)
    await expect.poll(() => dbPosition(h, 'el-new')).toEqual(near({ x: 0.3, y: 0.6 }))
    await page.locator('#plan .plan-device.m-el-new').waitFor()
    expect(await horizontalOverflow(page)).toBe(0)
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'site-plan-uploaded-phone-zh-CN')
    expect(problems.filter((p) => !p.includes('415'))).toEqual([])
    await context.close()
  })

  it('the district map links the plan and draws a community as one marker with its count when zoomed out', { timeout: 60_000 }, async () => {
    const { page, context, problems } = await h.open(DESK, 'en')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/map`)
    await page.locator(`#map path.community.m-${COMMUNITY}`).waitFor()
    expect(await page.locator(`.plans a[data-community="${COMMUNITY}"]`).getAttribute('href')).toBe(`#/map/${COMMUNITY}`)
    // The base layer of the settings, from the tile server's own origin (the CSP lets it in), credited.
    await expect.poll(() => page.locator('#map img.leaflet-tile-loaded').count()).toBeGreaterThan(0)
    expect(tileRequests.length).toBeGreaterThan(0)
    expect(await page.locator('#map .leaflet-control-attribution').textContent()).toContain('Office tiles')
    // The user zooms in; a live colour change then redraws the marker but leaves the view where it is.
    await page.locator('.leaflet-control-zoom-in').click()
    // Measured once the zoom has settled: the same box twice, a moment apart.
    const box = () => page.locator('#map path.device.m-el-5').boundingBox()
    let before = await box()
    await expect
      .poll(async () => {
        await page.waitForTimeout(300)
        const now = await box()
        const same = now !== null && JSON.stringify(now) === JSON.stringify(before)
        before = now
        return same
      })
      .toBe(true)
    const { alert } = await h.alerts.report({ ruleId: 'district-colour', deviceId: 'el-5', condition: 'active', source: 'operator', severity: 'major', title: 'Door fault' }, 'operator')
    if (!alert) throw new Error('no alert raised')
    await page.locator('#map path.device.m-el-5.sev-major').waitFor()
    expect(await box()).toEqual(before)
    await h.alerts.act(alert.id, 'resolve', 'operator', undefined)
    // Zoomed out past the community: one marker carrying its device count (10 seeded devices).
    await page.locator('#map path.device.m-el-5:not(.sev-major)').waitFor()
    for (let i = 0; i < 4; i++) {
      await page.locator('.leaflet-control-zoom-out').click()
      await page.waitForTimeout(400)
    }
    await shot(page, 'district-map-zoomed-out-en')
    const cluster = page.locator(`#map .cluster.m-${COMMUNITY}`)
    await cluster.waitFor()
    expect(await cluster.textContent()).toBe('10')
    expect(await page.locator('#map path.device').count()).toBe(0)
    // A click opens it again onto its devices.
    await cluster.click()
    await page.locator('#map path.device.m-el-1').waitFor()
    expect(await horizontalOverflow(page)).toBe(0)
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'district-map-en')
    expect(problems).toEqual([])
    await context.close()
  })
})
