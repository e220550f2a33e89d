// Signing in with WeCom (企业微信, issue 20) on a crew member's phone, in both languages: the WeCom
// app's browser (its user agent says wxwork) shows the WeCom button first; tapping it goes through
// a local WeCom (test/helpers/wecom-server.ts) and back, and the crew member lands on their jobs.
// A WeCom account nobody linked comes back to the sign-in page, told why in the page's language.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { setWecomUserId, insertUser } from '../../core/repos/tokens.ts'
import { WecomSignIn } from '../../core/sso/wecom.ts'
import { startFakeWecom, type FakeWecom } from '../helpers/wecom-server.ts'
import { axeViolations, DESK, freePort, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()
const WECOM_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh_CN'

describe.skipIf(!haveChromium)('console: signing in with WeCom', () => {
  let h: Harness
  let wecom: FakeWecom
  beforeAll(async () => {
    const port = await freePort()
    const app = { corpId: 'ww0123456789abcdef', agentId: '1000002', secret: 'app-secret-Qx7vT2mZ9pL4' }
    wecom = await startFakeWecom({ ...app, trustedHost: `127.0.0.1:${port}` })
    const provider = new WecomSignIn(
      { ...app, apiBaseUrl: wecom.url, authorizeUrl: `${wecom.url}/connect/oauth2/authorize`, qrLoginUrl: `${wecom.url}/wwlogin/sso/login` },
      silentLogger,
    )
    h = await startHarness({ signIn: { wecom: provider, baseUrl: `http://127.0.0.1:${port}` } }, port)
  })
  afterAll(async () => {
    await h.close()
    await wecom.close()
  })

  for (const lang of LANGS) {
    it(`${lang}: in the WeCom app, a crew member taps the WeCom button and lands on their jobs; an unlinked account is told why`, { timeout: 120_000 }, async () => {
      const text = TEXT[lang]
      const { page, context, problems } = await h.open(PHONE, lang, WECOM_UA)

      await page.goto(`${h.base}/`)
      await page.waitForSelector('#wecom-signin')
      expect(await page.locator('#wecom-signin').textContent()).toBe(text['signin.wecom'])
      // The WeCom button comes before the password form's fields: the crew's first choice.
      const [button, nameField] = await Promise.all([page.locator('#wecom-signin').boundingBox(), page.locator('#name').boundingBox()])
      expect(button && nameField && button.y < nameField.y).toBe(true)
      expect(button?.height).toBeGreaterThanOrEqual(44)
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `wecom-signin-phone-${lang}`)

      // Signed in to WeCom as someone the office has not linked.
      wecom.signedIn = { userid: `stranger-${lang}` }
      await page.click('#wecom-signin')
      await expect.poll(() => page.locator('#sso-error').textContent()).toBe(text['signin.sso.wecom_not_linked'])
      expect(new URL(page.url()).search).toBe('')
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `wecom-unlinked-phone-${lang}`)

      // The office links this crew member's WeCom account; the same tap now signs them in.
      const id = await insertUser(h.db, { name: `zhang-${lang}`, role: 'crew', companyId: 'co-test' })
      await setWecomUserId(h.db, id, `ZhangWei-${lang}`)
      wecom.signedIn = { userid: `ZhangWei-${lang}` }
      await page.click('#wecom-signin')
      await page.waitForSelector('#jobs', { state: 'attached' })
      expect(await page.locator('header.top a[aria-current=page]').getAttribute('data-view')).toBe('crew')
      // Neither the query nor WeCom's #wechat_redirect is left in the address.
      expect(new URL(page.url()).search).toBe('')
      expect(new URL(page.url()).hash).toBe('#/')
      expect(await page.evaluate<string>('document.cookie')).not.toContain('hb_session')
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `wecom-crew-jobs-phone-${lang}`)

      // A session like a password's: it survives a reload, and changes carry the CSRF value (signing out).
      await page.reload()
      await page.waitForSelector('#jobs', { state: 'attached' })
      await page.click('#account')
      await page.click('#account-panel #sign-out')
      await page.waitForSelector('#wecom-signin')
      const live = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND ended_at IS NULL', [id])
      expect(live[0]?.n).toBe(0)
      expect(problems).toEqual([])
      await context.close()
    })
  }

  it('on a desk, the WeCom button sits above the password form and leads to the QR sign-in', { timeout: 60_000 }, async () => {
    const { page, context, problems } = await h.open(DESK, 'zh-CN')
    await page.goto(`${h.base}/`)
    await page.waitForSelector('#wecom-signin')
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'wecom-signin-desk-zh-CN')
    const before = wecom.requests.length
    wecom.signedIn = { userid: 'nobody-at-desk' }
    await page.click('#wecom-signin')
    await page.waitForSelector('#sso-error')
    expect(wecom.requests.slice(before).map((u) => u.pathname)).toContain('/wwlogin/sso/login')
    expect(problems).toEqual([])
    await context.close()
  })

  for (const [lang, viewport, where] of [['en', DESK, 'desk'], ['zh-CN', PHONE, 'phone']] as const) {
    it(`${lang}, ${where}: an admin links a crew member's WeCom userid on the users screen; one already linked is refused at the field`, { timeout: 60_000 }, async () => {
      const text = TEXT[lang]
      const taken = await insertUser(h.db, { name: `taken-${lang}`, role: 'crew', companyId: 'co-test' })
      await setWecomUserId(h.db, taken, `Taken-${lang}`)
      await insertUser(h.db, { name: `chen-${lang}`, role: 'crew', companyId: 'co-test' })
      const { page, context, problems } = await h.open(viewport, lang)
      await h.signIn(page, h.tokens.admin)
      await page.goto(`${h.base}/console/#/users`)
      const row = page.locator(`#users tr[data-user=chen-${lang}]`)
      await row.waitFor()
      expect(await row.locator('.user-wecom').textContent()).toBe(text['form.none'])
      await row.locator('.link-wecom').click()
      await page.fill('#wecom-wecomUserId', `taken-${lang}`)
      await page.click('#wecom-link button[type=submit]')
      await expect.poll(() => page.locator('[data-field-error=wecom-wecomUserId]').textContent()).toMatch(/linked to another user/)
      await page.fill('#wecom-wecomUserId', `ChenJing-${lang}`)
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `wecom-link-${where}-${lang}`)
      await page.click('#wecom-link button[type=submit]')
      await expect.poll(() => row.locator('.user-wecom').textContent()).toBe(`ChenJing-${lang}`)
      expect(await page.locator('#wecom-link').count()).toBe(0)
      // The refused save (409) is the only error.
      expect(problems.filter((p) => !/status of 409/.test(p))).toEqual([])
      await context.close()
    })
  }
})
