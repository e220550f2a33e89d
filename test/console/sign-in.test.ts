// Signing in like a person (issue 20), on a phone in both languages: a crew member given a
// one-time password by an admin signs in with name and password, is made to choose their own
// (the rules shown when it falls short), lands on their jobs, stays signed in over a reload and
// signs out. No sideways scrolling, no axe violations, no console errors but the refusals asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { insertUser } from '../../core/repos/tokens.ts'
import { axeViolations, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()

describe.skipIf(!haveChromium)('console: signing in with a password', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => h.close())

  for (const lang of LANGS) {
    it(`${lang}: a crew member signs in, changes the one-time password, lands on their jobs and signs out`, { timeout: 120_000 }, async () => {
      const text = TEXT[lang]
      const name = `liu-${lang}`
      const id = await insertUser(h.db, { name, role: 'crew', companyId: 'co-test' })
      const reset = await h.app.inject({ method: 'POST', url: `/api/v1/users/${id}/password`, headers: { authorization: `Bearer ${h.tokens.admin}` } })
      const { password } = reset.json<{ password: string }>()

      const { page, context, problems } = await h.open(PHONE, lang)
      await page.goto(`${h.base}/`)
      await page.waitForSelector('#password-form')
      expect(await page.locator('label[for=name]').textContent()).toBe(text['signin.name'])
      expect(await page.locator('#login-form h2').textContent()).toBe(text['signin.useToken'])
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `signin-phone-${lang}`)

      // A wrong password: one message for a wrong name or password.
      await page.fill('#name', name)
      await page.fill('#password', 'Not-my-password-1')
      await page.click('#password-form button[type=submit]')
      await expect.poll(() => page.locator('#password-error').textContent()).toBe(text['signin.wrong'])

      await page.fill('#password', password)
      await page.click('#password-form button[type=submit]')
      await page.waitForSelector('#password-change')
      expect(await page.locator('#password-change .notice').textContent()).toBe(text['password.forced'])
      expect(await page.locator('header.top').count()).toBe(0)

      // Too short: the rules, under the field.
      await page.fill('#current-password', password)
      await page.fill('#new-password', 'short1A')
      await page.fill('#repeat-password', 'short1A')
      await page.click('#password-change button[type=submit]')
      await expect.poll(() => page.locator('[data-field-error=new-password]').textContent()).toBe(text['password.weak'])
      expect(await page.locator('#new-password-hint').textContent()).toBe(text['password.rules'])
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `password-change-phone-${lang}`)

      await page.fill('#new-password', '井盖-巡查-2026')
      await page.fill('#repeat-password', '井盖-巡查-2026')
      await page.click('#password-change button[type=submit]')
      await page.waitForSelector('#jobs', { state: 'attached' })
      await page.waitForSelector('header.top #account')
      expect(await page.locator('header.top a[aria-current=page]').getAttribute('data-view')).toBe('crew')
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `crew-jobs-after-password-phone-${lang}`)

      // The cookie keeps them signed in over a reload (the page never sees it: HttpOnly).
      expect(await page.evaluate<string>('document.cookie')).not.toContain('hb_session')
      await page.reload()
      await page.waitForSelector('#jobs', { state: 'attached' })

      // The account panel: changing the password, signing out here or everywhere.
      await page.click('#account')
      await page.waitForSelector('#account-panel #password-change')
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `account-phone-${lang}`)
      await page.click('#account-panel #sign-out')
      await page.waitForSelector('#password-form')
      await page.reload()
      await page.waitForSelector('#password-form')
      // The session ended on the server: nothing of it is left.
      const live = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND ended_at IS NULL', [id])
      expect(live[0]?.n).toBe(0)
      // The refusals asked for above (a wrong password 401, a short one 400) are the only errors.
      expect(problems.filter((p) => !/status of 40[01]/.test(p))).toEqual([])
      expect(problems).toHaveLength(2)
      await context.close()
    })
  }
})
