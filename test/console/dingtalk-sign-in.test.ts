// Signing in with DingTalk (钉钉, issue 20) on a crew member's phone (390×844), in both languages:
// with WeCom and DingTalk both configured, the sign-in page offers both buttons above the password
// form; tapping DingTalk's goes through a local DingTalk (test/helpers/dingtalk-server.ts, which
// plays the authorize page) and back, and the crew member lands on their jobs. A DingTalk account
// nobody linked comes back to the sign-in page, told why in the page's language.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { insertUser, setDingtalkUnionId } from '../../core/repos/tokens.ts'
import { DingtalkSignIn } from '../../core/sso/dingtalk.ts'
import { WecomSignIn } from '../../core/sso/wecom.ts'
import { startFakeDingtalk, type FakeDingtalk } from '../helpers/dingtalk-server.ts'
import { axeViolations, DESK, freePort, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()
const DINGTALK_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 AliApp(DingTalk/7.6.0) com.alibaba.android.rimet/34000000 Channel/700159 language/zh-CN'

describe.skipIf(!haveChromium)('console: signing in with DingTalk', () => {
  let h: Harness
  let dingtalk: FakeDingtalk
  beforeAll(async () => {
    const port = await freePort()
    const app = { clientId: 'dingabcdef0123456789', clientSecret: 'dt-secret-Hs83kQ0pZ7wLx2', corpId: 'ding0123456789abcdef' }
    dingtalk = await startFakeDingtalk({ ...app, redirectHost: `127.0.0.1:${port}` })
    const provider = new DingtalkSignIn({ ...app, apiBaseUrl: dingtalk.url, authorizeUrl: `${dingtalk.url}/oauth2/auth` }, silentLogger)
    // WeCom configured too, never reached here: its button stands beside DingTalk's.
    const wecom = new WecomSignIn({ corpId: 'ww1', agentId: '1', secret: 's', apiBaseUrl: 'http://127.0.0.1:9', authorizeUrl: 'http://127.0.0.1:9/a', qrLoginUrl: 'http://127.0.0.1:9/q' }, silentLogger)
    h = await startHarness({ signIn: { wecom, dingtalk: provider, baseUrl: `http://127.0.0.1:${port}` } }, port)
  })
  afterAll(async () => {
    await h.close()
    await dingtalk.close()
  })

  for (const lang of LANGS) {
    it(`${lang}: a crew member taps the DingTalk button and lands on their jobs; an unlinked account is told why`, { timeout: 120_000 }, async () => {
      const text = TEXT[lang]
      const { page, context, problems } = await h.open(PHONE, lang, DINGTALK_UA)

      await page.goto(`${h.base}/`)
      await page.waitForSelector('#dingtalk-signin')
      expect(await page.locator('#dingtalk-signin').textContent()).toBe(text['signin.dingtalk'])
      expect(await page.locator('#wecom-signin').textContent()).toBe(text['signin.wecom'])
      // Both buttons above the password form, each a full-width 44 px target at least.
      const [wecomBox, dingtalkBox, nameField] = await Promise.all(['#wecom-signin', '#dingtalk-signin', '#name'].map((s) => page.locator(s).boundingBox()))
      expect(wecomBox && dingtalkBox && nameField && wecomBox.y < dingtalkBox.y && dingtalkBox.y < nameField.y).toBe(true)
      expect(dingtalkBox?.height).toBeGreaterThanOrEqual(44)
      expect(dingtalkBox && wecomBox && dingtalkBox.y >= wecomBox.y + wecomBox.height).toBe(true)
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `dingtalk-signin-phone-${lang}`)

      // Signed in to DingTalk as someone the office has not linked.
      dingtalk.signedIn = { unionId: `UnionStranger${lang}`, nick: '陌生人' }
      await page.click('#dingtalk-signin')
      await expect.poll(() => page.locator('#sso-error').textContent()).toBe(text['signin.sso.dingtalk_not_linked'])
      expect(new URL(page.url()).search).toBe('')
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `dingtalk-unlinked-phone-${lang}`)

      // The office links this crew member's DingTalk account; the same tap now signs them in.
      const id = await insertUser(h.db, { name: `liu-${lang}`, role: 'crew', companyId: 'co-test' })
      await setDingtalkUnionId(h.db, id, `UnionLiuYang${lang}`)
      dingtalk.signedIn = { unionId: `UnionLiuYang${lang}`, nick: '刘洋' }
      const before = dingtalk.requests.length
      await page.click('#dingtalk-signin')
      await page.waitForSelector('#jobs', { state: 'attached' })
      expect(await page.locator('header.top a[aria-current=page]').getAttribute('data-view')).toBe('crew')
      expect(new URL(page.url()).search).toBe('')
      expect(new URL(page.url()).hash).toBe('#/')
      // The browser went through DingTalk's page; the server made its two calls.
      expect(dingtalk.requests.slice(before).map((r) => `${r.method} ${r.path.split('?')[0] ?? ''}`)).toEqual([
        'GET /oauth2/auth',
        'POST /v1.0/oauth2/userAccessToken',
        'GET /v1.0/contact/users/me',
      ])
      expect(await page.evaluate<string>('document.cookie')).not.toContain('hb_session')
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `dingtalk-crew-jobs-phone-${lang}`)
      expect(problems).toEqual([])
      await context.close()
    })
  }

  for (const [lang, viewport, where] of [['en', DESK, 'desk'], ['zh-CN', PHONE, 'phone']] as const) {
    it(`${lang}, ${where}: an admin links a crew member's DingTalk unionId on the users screen; one already linked is refused at the field`, { timeout: 60_000 }, async () => {
      const text = TEXT[lang]
      const taken = await insertUser(h.db, { name: `taken-dt-${lang}`, role: 'crew', companyId: 'co-test' })
      await setDingtalkUnionId(h.db, taken, `UnionTaken${lang}`)
      await insertUser(h.db, { name: `gao-${lang}`, role: 'crew', companyId: 'co-test' })
      const { page, context, problems } = await h.open(viewport, lang)
      await h.signIn(page, h.tokens.admin)
      await page.goto(`${h.base}/console/#/users`)
      const row = page.locator(`#users tr[data-user=gao-${lang}]`)
      await row.waitFor()
      expect(await row.locator('.user-dingtalk').textContent()).toBe(text['form.none'])
      await row.locator('.link-dingtalk').click()
      expect(await page.locator('#dingtalk-link h2').textContent()).toBe(text['users.dingtalkOf'].replace('{name}', `gao-${lang}`))
      await page.fill('#dingtalk-dingtalkUnionId', `UnionTaken${lang}`)
      await page.click('#dingtalk-link button[type=submit]')
      await expect.poll(() => page.locator('[data-field-error=dingtalk-dingtalkUnionId]').textContent()).toMatch(/linked to another user/)
      await page.fill('#dingtalk-dingtalkUnionId', `UnionGaoFei${lang}`)
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `dingtalk-link-${where}-${lang}`)
      await page.click('#dingtalk-link button[type=submit]')
      await expect.poll(() => row.locator('.user-dingtalk').textContent()).toBe(`UnionGaoFei${lang}`)
      expect(await row.locator('.user-wecom').textContent()).toBe(text['form.none'])
      expect(await page.locator('#dingtalk-link').count()).toBe(0)
      expect(problems.filter((p) => !/status of 409/.test(p))).toEqual([])
      await context.close()
    })
  }
})
