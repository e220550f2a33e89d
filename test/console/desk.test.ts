// The operator desk's office screens, each by what a user would notice: a new device's secret is
// shown once and the device is listed, moved to another community and disabled; a rule with an impossible value shows the API's message
// next to that field; a maintenance window is created and listed; a message the ingest pipeline
// refused appears in the dead letters, its payload shown as text; an administrator creates a crew
// member whose token signs in to the crew's phone view, disables them (their token is refused) and
// enables them again; a CSV import refuses a file that is not UTF-8 and shows its bad row, both in
// the operator's language, then imports the fixed file and offers the secrets once; the profiles screen shows a shipped profile
// and what its decoder makes of a payload; the map draws a device with coordinates of its own
// there, not on the ring around its community. One stack and one browser for the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { topics } from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { provisionCommunity } from '../../core/provision.ts'
import { parse } from 'csv-parse/sync'
import { readFile } from 'node:fs/promises'
import { getCredentials, getDevice, insertDevice } from '../../core/repos/devices.ts'
import { getCommunity } from '../../core/repos/registry.ts'
import { IMPORT_COLUMNS, importText } from '../../shared/import-text.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { verifySecret } from '../../core/secrets.ts'
import { IngestService } from '../../ingest/service.ts'
import { COMMUNITY } from '../helpers/stack.ts'
import { axeViolations, DESK, horizontalOverflow, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()

/** The browser logs every refused request; a test that provokes a 400 on purpose leaves those out. */
const besides400 = (problems: string[]) => problems.filter((p) => !p.includes('status of 400 (Bad Request)'))
const besides422 = (problems: string[]) => problems.filter((p) => !p.includes('status of 422 (Unprocessable'))

describe.skipIf(!haveChromium)('console: the office screens', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => h.close())

  it('registers a device: its secret is shown once, works, and the device is listed', async () => {
    const { page, context, problems } = await h.open(DESK, 'en')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/registry/devices`)
    await page.click('#device-new')
    await page.fill('#device-id', 'el-lobby')
    await page.selectOption('#device-kind', 'elevator')
    await page.selectOption('#device-communityId', COMMUNITY)
    await page.fill('#device-name', 'Lobby elevator')
    await page.click('#device-form button[type=submit]')
    const secret = await page.locator('#secret-value').inputValue()
    expect(secret.length).toBeGreaterThanOrEqual(16)
    expect(await page.textContent('#secret')).toContain(TEXT.en['secret.warning'])
    // The secret is the device's MQTT password: the stored hash accepts it.
    const stored = await getCredentials(h.db, 'el-lobby')
    expect(stored && (await verifySecret(secret, stored.secretHash))).toBe(true)
    const row = page.locator('#device-admin tr[data-device=el-lobby]')
    expect(await row.textContent()).toContain('Lobby elevator')
    // Once dismissed, it is nowhere on the page; rotating shows a new one, once.
    await page.click('#secret-done')
    expect(await page.locator('#secret').count()).toBe(0)
    expect(await page.content()).not.toContain(secret)
    await row.getByRole('button', { name: TEXT.en['device.rotate'] }).click()
    await row.getByRole('button', { name: TEXT.en['device.rotateConfirm'] }).click()
    await expect.poll(() => page.locator('#secret-value').count()).toBe(1)
    const rotated = await page.locator('#secret-value').inputValue()
    expect(rotated).not.toBe(secret)
    const now = (await getCredentials(h.db, 'el-lobby'))?.secretHash ?? ''
    expect(await verifySecret(rotated, now)).toBe(true)
    expect(await verifySecret(secret, now)).toBe(false)
    // Moving it to another community: chosen in its form, and the list says so.
    await provisionCommunity(h.db, { id: 'co-east', name: 'East Property Co.' }, { id: 'cm-east', name: 'East Garden' })
    await page.reload()
    await page.waitForSelector('#device-admin tr[data-device=el-lobby]')
    await row.getByRole('button', { name: TEXT.en['form.editOf'].replace('{name}', 'Lobby elevator') }).click()
    await page.selectOption('#device-communityId', 'cm-east')
    await page.click('#device-form button[type=submit]')
    await expect.poll(() => row.textContent()).toContain('East Garden')
    expect((await getDevice(h.db, 'el-lobby'))?.communityId).toBe('cm-east')
    // Disabling it is one press, and the list says so.
    await row.getByRole('button', { name: TEXT.en['device.disable'] }).click()
    await expect.poll(() => row.textContent()).toContain(TEXT.en['device.disabled'])
    expect((await getDevice(h.db, 'el-lobby'))?.enabled).toBe(false)
    expect(problems).toEqual([])
    await context.close()
  })

  it("shows the API's message next to the rule field it names", async () => {
    const { page, context, problems } = await h.open(PHONE, 'zh-CN')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/rules`)
    await page.click('#rule-new')
    await page.fill('#rule-id', 'tank-test-low')
    await page.fill('#rule-name', 'Tank test')
    await page.fill('#rule-description', 'A level no tank can reach')
    await page.selectOption('#rule-type', 'threshold')
    await page.selectOption('#rule-kind', 'fire_tank')
    await page.selectOption('#rule-param-metric', 'water_level_m')
    await page.selectOption('#rule-param-op', '<')
    await page.fill('#rule-param-value', '500')
    await page.click('#rule-form button[type=submit]')
    const message = page.locator('[data-field-error=rule-param-value]')
    await message.waitFor()
    // The API's own words (rules/definitions.ts), under the value field, tied to it for a screen reader.
    expect(await message.textContent()).toContain('500 is outside the physical range of water_level_m')
    expect(await page.getAttribute('#rule-param-value', 'aria-invalid')).toBe('true')
    expect(await page.getAttribute('#rule-param-value', 'aria-describedby')).toContain('rule-param-value-error')
    expect(await page.locator('[data-field-error]').count()).toBe(1)
    // Corrected, it is created and listed.
    await page.fill('#rule-param-value', '0.5')
    await page.click('#rule-form button[type=submit]')
    await page.locator('#rules tr[data-rule=tank-test-low]').waitFor()
    expect(await page.locator('#rule-form').count()).toBe(0)
    expect(besides400(problems)).toEqual([])
    await context.close()
  })

  it('creates a maintenance window, lists it as in force and changes it in place', async () => {
    const { page, context, problems } = await h.open(PHONE, 'en')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/silences`)
    await page.click('#silence-new')
    await page.selectOption('#silence-communityId', COMMUNITY)
    await page.selectOption('#silence-deviceId', 'el-1')
    await page.fill('#silence-duration', '3h')
    await page.fill('#silence-reason', 'Replacing the traction rope')
    await page.click('#silence-form button[type=submit]')
    const row = page.locator('#silences tr', { hasText: 'Replacing the traction rope' })
    await row.waitFor()
    expect(await row.textContent()).toContain(TEXT.en['silences.active'])
    expect(await row.textContent()).toContain('el-1')
    const id = await row.getAttribute('data-silence')
    // Changed: the same window, rewritten in place — no second window started, none ended.
    await row.locator('button', { hasText: TEXT.en['form.edit'] }).click()
    expect(await page.locator('#silence-form').textContent()).toContain(TEXT.en['silences.editNote'])
    await page.fill('#silence-reason', 'Replacing the traction rope and sheave')
    await page.click('#silence-form button[type=submit]')
    const changed = page.locator(`#silences tr[data-silence="${id}"]`, { hasText: 'Replacing the traction rope and sheave' })
    await changed.waitFor()
    expect(await changed.textContent()).toContain(TEXT.en['silences.active'])
    const windows = await h.db.query<{ id: number; reason: string }>("SELECT id, reason FROM silences WHERE reason LIKE 'Replacing the traction rope%'")
    expect(windows).toEqual([{ id: Number(id), reason: 'Replacing the traction rope and sheave' }])
    // A window without a reason is refused, and the message stands under the reason field.
    await page.click('#silence-new')
    await page.selectOption('#silence-deviceId', 'el-1')
    await page.click('#silence-form button[type=submit]')
    await page.locator('[data-field-error=silence-reason]').waitFor()
    expect(besides400(problems)).toEqual([])
    await context.close()
  })

  it('draws a device with coordinates of its own (imported from CSV) there, not on the ring around its community', async () => {
    // About 1.1 km north of the community (31.112, 121.381); the ring is 60 m.
    await insertDevice(h.db, { id: 'ft-geo', kind: 'fire_tank', communityId: COMMUNITY, secretHash: 'x', latitude: 31.122, longitude: 121.381 })
    const { page, context, problems } = await h.open(DESK, 'en')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/map`)
    const centre = async (selector: string) => {
      const box = await page.locator(selector).boundingBox()
      if (!box) throw new Error(`${selector} is not drawn`)
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 }
    }
    await page.locator('#map path.m-ft-geo').waitFor()
    // Measured once the map has settled.
    const where = async () => {
      const community = await centre(`#map path.community.m-${COMMUNITY}`)
      const own = await centre('#map path.device.m-ft-geo')
      const ringed = await centre('#map path.device.m-mh-1')
      const away = (p: { x: number; y: number }) => Math.hypot(p.x - community.x, p.y - community.y)
      return { north: own.y < community.y, ringRadii: away(own) / away(ringed) }
    }
    // North is up: the device stands above its community, many ring radii away (1.1 km / 60 m ≈ 18).
    await expect.poll(where, { timeout: 10_000 }).toMatchObject({ north: true, ringRadii: expect.closeTo(18.5, -1) as number })
    expect(problems).toEqual([])
    await context.close()
  })

  it('shows a message the ingest pipeline refused, with its payload as text', async () => {
    const ingest = new IngestService(h.db, loadConfig({}).ingest, silentLogger, createMetrics({ defaults: false }))
    await ingest.start()
    const payload = '{"values": {"cover_tilt_deg": <b>oops</b>'
    const result = await ingest.pipeline.handle({ topic: topics.deviceTelemetry('mh-1'), payload: Buffer.from(payload), clientId: 'mh-1' })
    await ingest.stop()
    expect(result.rejected).toBe(1)
    const { page, context, problems } = await h.open(DESK, 'zh-CN')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/deadletters`)
    await page.selectOption('#dead-reason', 'malformed_json')
    const row = page.locator('#dead-letters tbody tr', { hasText: 'oops' })
    await row.waitFor()
    expect(await row.textContent()).toContain(TEXT['zh-CN']['reason.malformed_json'])
    // What it means and what to fix, in Chinese, above the parser's own wording.
    expect(await row.locator('.dead-fix').textContent()).toBe(TEXT['zh-CN']['dead.fix.malformed_json'])
    await shot(page, 'dead-letter-fix-zh-CN')
    expect(await row.locator('a[href="#/device/mh-1"]').count()).toBe(1)
    // Shown as the device sent it: text, not markup.
    expect(await row.locator('code.payload').textContent()).toBe(payload)
    expect(await row.locator('b', { hasText: 'oops' }).count()).toBe(0)
    // Filtering by another device hides it.
    await page.fill('#dead-device', 'mh-2')
    await page.click('.dead-letters form button[type=submit]')
    await expect.poll(() => page.locator('#dead-letters tbody tr').count()).toBe(0)
    expect(problems).toEqual([])
    await context.close()
  })

  it('lets an administrator create a crew member whose token opens the crew view', async () => {
    const { page, context, problems } = await h.open(DESK, 'en')
    await h.signIn(page, h.tokens.admin)
    await page.goto(`${h.base}/console/#/users`)
    await page.click('#user-new')
    await page.fill('#user-name', 'crew-zhang')
    await page.selectOption('#user-role', 'crew')
    // A crew member without a company is refused by the API, next to the company field.
    await page.click('#user-form button[type=submit]')
    await page.locator('[data-field-error=user-companyId]').waitFor()
    await page.selectOption('#user-companyId', 'co-test')
    await page.click('#user-form button[type=submit]')
    const token = await page.locator('#secret-value').inputValue()
    expect(token).toMatch(/^hb_/)
    const row = page.locator('#users tr[data-user=crew-zhang]')
    await row.waitFor()
    expect(await row.textContent()).toContain(TEXT.en['role.crew'])
    expect(await row.textContent()).toContain('Test Property Co.')
    const crew = await h.open(PHONE, 'en')
    await h.signIn(crew.page, token)
    const views = await crew.page.locator('nav a[data-view]').all()
    expect(await Promise.all(views.map((a) => a.getAttribute('data-view')))).toEqual(['crew', 'board', 'map'])
    expect(besides400([...problems, ...crew.problems])).toEqual([])
    await Promise.all([context.close(), crew.context.close()])
  })

  it("disables a user, whose token is refused at once, shows them disabled, and enables them again", async () => {
    const { page, context, problems } = await h.open(DESK, 'en')
    const t = await issueToken(h.db, await insertUser(h.db, { name: 'desk-li', role: 'operator' }))
    const me = async () => (await fetch(`${h.base}/api/v1/me`, { headers: { authorization: `Bearer ${t.token}` } })).json() as Promise<{ code?: string; name?: string }>
    await h.signIn(page, h.tokens.admin)
    await page.goto(`${h.base}/console/#/users`)
    const row = page.locator('#users tr[data-user=desk-li]')
    await row.waitFor()
    expect(await row.locator('.user-state').textContent()).toBe(TEXT.en['users.enabled'])
    await row.getByRole('button', { name: TEXT.en['users.disable'] }).click()
    await row.getByRole('button', { name: TEXT.en['form.confirm'] }).click()
    await row.getByRole('button', { name: TEXT.en['users.enable'] }).waitFor()
    expect(await row.locator('.user-state').textContent()).toBe(TEXT.en['users.disabled'])
    expect(await me()).toMatchObject({ code: 'user_disabled' })
    await row.getByRole('button', { name: TEXT.en['users.enable'] }).click()
    await row.getByRole('button', { name: TEXT.en['users.disable'] }).waitFor()
    expect(await row.locator('.user-state').textContent()).toBe(TEXT.en['users.enabled'])
    expect(await me()).toMatchObject({ name: 'desk-li' })
    expect(problems).toEqual([])
    await context.close()
  })

  for (const [screen, viewport, lang, tag] of [['phone', PHONE, 'zh-CN', 'p'], ['desk', DESK, 'en', 'd'], ['phone', PHONE, 'en', 'q'], ['desk', DESK, 'zh-CN', 'e']] as const) {
    it(`imports devices from CSV (${screen} ${lang}): a bad row is shown by row and column, the fixed file imports and offers the secrets once`, async () => {
      const { page, context, problems } = await h.open(viewport, lang)
      await h.signIn(page, h.tokens.operator)
      await page.goto(`${h.base}/console/#/registry/devices`)
      await page.click('#device-import-open')
      // The template names every column and uses a community of this registry.
      const [template] = await Promise.all([page.waitForEvent('download'), page.click('#import-template')])
      const templateRows = parse<{ community: string }>(await readFile(await template.path()), { columns: true, bom: true })
      expect(Object.keys(templateRows[0] ?? {})).toEqual([...IMPORT_COLUMNS])
      expect(await getCommunity(h.db, templateRows[0]?.community ?? '')).toBeDefined()
      const head = 'id,name,kind,profile,community,gateway,latitude,longitude,dev_eui,imei'
      const imei = `86123456789012${'pdqe'.indexOf(tag)}`
      const good = `el-csv${tag}1,电梯 1 号,elevator,,${COMMUNITY},,31.1,121.4,,${imei}`
      const file = (text: string | Buffer) => ({ name: 'fleet.csv', mimeType: 'text/csv', buffer: Buffer.from(text) })
      // Saved by a Chinese Excel as plain "CSV" (GBK: "井盖"): refused whole, saying how to save it.
      await page.setInputFiles('#import-file', file(Buffer.concat([Buffer.from(`${head}\nmh-gbk,`), Buffer.from([0xbe, 0xae, 0xb8, 0xc7]), Buffer.from(',manhole,,cm-x,,,,,')])))
      await expect.poll(() => page.textContent('#import-error')).toBe(importText(lang, 'not_utf8', {}))
      await page.setInputFiles('#import-file', file([head, good, `mh-csv${tag}2,井盖 2,manhole,,cm-nowhere,,,,,`].join('\n')))
      const bad = page.locator('#import-problems tbody tr[data-row="3"][data-column=community]')
      await bad.waitFor()
      // In the operator's language, from the problem's code: 小区 "cm-nowhere" 不存在 …
      const said = importText(lang, 'community_unknown', { community: 'cm-nowhere' }) ?? 'missing'
      expect(await bad.locator('td').last().textContent()).toBe(said)
      expect(said).toContain(lang === 'zh-CN' ? '小区 "cm-nowhere" 不存在' : 'no community "cm-nowhere"')
      expect(await page.locator('#import-problems tbody tr').count()).toBe(1)
      expect(await page.isDisabled('#import-run')).toBe(true)
      // The layout with the problems table: no sideways scrolling, nothing axe finds serious.
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `device-import-problems-${screen}-${lang}`)
      expect(await getDevice(h.db, `el-csv${tag}1`)).toBeUndefined()

      // Fixed and chosen again: checked, then imported in one press.
      await page.setInputFiles('#import-file', file([head, good, `mh-csv${tag}2,井盖 2,manhole,,${COMMUNITY},,,,,`].join('\n')))
      await expect.poll(() => page.textContent('#import-ready')).toBe(TEXT[lang]['import.ready'].replace('{n}', '2').replace('{gateways}', '0'))
      await page.click('#import-run')
      await page.locator('#import-secrets').waitFor()
      expect(await page.textContent('#import-secrets')).toContain(TEXT[lang]['import.secretsWarning'])
      await shot(page, `device-import-secrets-${screen}-${lang}`)
      // Closing before the download asks first: the secrets cannot be had again.
      const secretsBox = page.locator('#import-secrets')
      await secretsBox.getByRole('button', { name: TEXT[lang]['secret.done'] }).click()
      expect(await secretsBox.getByRole('button', { name: TEXT[lang]['import.discard'] }).count()).toBe(1)
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#import-secrets-download')])
      const saved = await readFile(await download.path())
      // The file keeps the byte-order mark the API sent (Excel on a Chinese Windows reads it as UTF-8).
      expect(saved.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]))
      const rows = parse<{ id: string; secret: string }>(saved, { columns: true, bom: true })
      expect(rows.map((r) => r.id).sort()).toEqual([`el-csv${tag}1`, `mh-csv${tag}2`])
      for (const r of rows) {
        const stored = await getCredentials(h.db, r.id)
        expect(stored && (await verifySecret(r.secret, stored.secretHash))).toBe(true)
      }
      expect(await getDevice(h.db, `el-csv${tag}1`)).toMatchObject({ name: '电梯 1 号', imei, latitude: 31.1 })
      // Dismissed, the secrets are gone from the page; the devices are listed.
      await page.click('#import-secrets-done')
      expect(await page.locator('#import-secrets').count()).toBe(0)
      await page.locator(`#device-admin tr[data-device=mh-csv${tag}2]`).waitFor()
      expect(await page.content()).not.toContain(rows[0]?.secret ?? 'none')
      expect(besides400(besides422(problems))).toEqual([])
      await context.close()
    })
  }

  it('shows a shipped profile and what its decoder makes of a payload, or why it fails', async () => {
    const { page, context, problems } = await h.open(DESK, 'en')
    await h.signIn(page, h.tokens.operator)
    await page.goto(`${h.base}/console/#/registry/profiles`)
    const row = page.locator('#profiles tr[data-profile=milesight-em320-tilt]')
    await row.waitFor()
    expect(await row.textContent()).toContain(TEXT.en['profile.shipped'])
    await row.getByRole('button').click()
    expect(await page.inputValue('#profile-script')).toContain('function decodeUplink')
    expect(await page.inputValue('#profile-definition')).toContain('"reportInterval": "20m"')
    // Milesight's documented uplink: battery 100 %, lying flat.
    await page.fill('#profile-payload', '01 75 64 03 D4 00 00 01 00 50 46')
    await page.fill('#profile-fport', '85')
    await page.click('#profile-decode')
    const battery = page.locator('#profile-readings tr[data-metric=battery_pct]')
    await battery.waitFor()
    expect(await battery.textContent()).toContain('100')
    expect(await page.textContent('#profile-readings tr[data-metric=cover_tilt_deg]')).toContain(TEXT.en['metric.cover_tilt_deg'])
    // The editor's text is what is tried, saved or not: a decoder that throws says why.
    await page.fill('#profile-script', 'function decodeUplink(input) { throw new Error("channel 0x07 is unknown") }')
    await page.click('#profile-decode')
    await expect.poll(() => page.textContent('#profile-output')).toContain('channel 0x07 is unknown')
    // Saving an invalid one shows the API's message under the editor.
    await page.fill('#profile-definition', (await page.inputValue('#profile-definition')).replace('"kind": "manhole"', '"kind": "lamp"'))
    await page.click('#profile-form button[type=submit]')
    await expect.poll(() => page.textContent('[data-field-error=profile-definition]')).toContain('body.kind')
    await shot(page, 'profiles-try-desk-en')
    expect(besides400(problems)).toEqual([])
    await context.close()
  })
})
