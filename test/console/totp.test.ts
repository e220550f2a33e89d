// Two-step sign-in (issue 20) in the console, on a desk and on a phone, in both languages: an
// operator sets up one-time codes from the account panel (the test reads the key off the page
// and computes the codes as an authenticator app would), keeps the recovery codes, signs out,
// and signs in with the password and a code — a wrong code told as such. On the desk, an admin
// then resets the codes from the users screen. Where TOTP_REQUIRED is on, an operator without them
// is sent to the set-up right after the password. No sideways scrolling, no axe violations.
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../core/passwords.ts'
import { insertUser, setPasswordHash } from '../../core/repos/tokens.ts'
import { base32Decode, stepOf, totpAt } from '../../core/totp.ts'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()

// jsQR is a UMD bundle whose types declare an ES default export: required, it is the function.
const jsQR = createRequire(import.meta.url)('jsqr') as typeof import('jsqr').default

/** What a QR scanner reads from the image at `selector`: its pixels, drawn as shown, decoded by jsQR. */
async function scanned(page: Page, selector: string): Promise<string | null> {
  await page.waitForFunction(`document.querySelector(${JSON.stringify(selector)})?.complete`)
  // Page code as a string: the server's type-check has no DOM types.
  const { width, height, data } = await page.evaluate<{ width: number; height: number; data: number[] }>(`(() => {
    const img = document.querySelector(${JSON.stringify(selector)})
    const c = document.createElement('canvas')
    c.width = img.naturalWidth; c.height = img.naturalHeight
    const g = c.getContext('2d'); g.drawImage(img, 0, 0)
    return { width: c.width, height: c.height, data: [...g.getImageData(0, 0, c.width, c.height).data] }
  })()`)
  return jsQR(Uint8ClampedArray.from(data), width, height)?.data ?? null
}
const PASSWORD = 'Harbour-lights-7'

/** The code the app shows `steps` steps from now. */
const codeOf = (secret: string, steps = 0) => totpAt(base32Decode(secret), stepOf(new Date()) + steps)

describe.skipIf(!haveChromium)('console: two-step sign-in', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => h.close())

  for (const lang of LANGS) {
    for (const [where, viewport] of [
      ['phone', PHONE],
      ['desk', DESK],
    ] as const) {
      it(`${lang}, ${where}: an operator sets up one-time codes, signs out, and signs in with password and code`, { timeout: 120_000 }, async () => {
        const text = TEXT[lang]
        const name = `ops-${lang}-${where}`
        const id = await insertUser(h.db, { name, role: 'operator' })
        await setPasswordHash(h.db, id, await hashPassword(PASSWORD), false)

        const { page, context, problems } = await h.open(viewport, lang)
        await page.goto(`${h.base}/`)
        await page.fill('#name', name)
        await page.fill('#password', PASSWORD)
        await page.click('#password-form button[type=submit]')
        await page.waitForSelector('header.top #account')
        await page.click('#account')
        await page.waitForSelector('#totp-panel')
        expect(await page.locator('#totp-title').textContent()).toBe(text['totp.title'])
        await page.click('#totp-start')
        await page.waitForSelector('#totp-secret')
        const shownKey = (await page.locator('#totp-secret').textContent()) ?? ''
        // In groups of four, as people copy it.
        expect(shownKey).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/)
        const secret = shownKey.replace(/ /g, '')
        const uri = `otpauth://totp/housing-brain%3A${name}?secret=${secret}&issuer=housing-brain&algorithm=SHA1&digits=6&period=30`
        expect(await page.locator('#totp-uri').getAttribute('href')).toBe(uri)
        // The QR code on the screen scans to the same URI, as an authenticator app's camera reads it.
        expect(await scanned(page, '#totp-qr')).toBe(uri)
        expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
        expect(await axeViolations(page)).toEqual([])
        await shot(page, `totp-setup-${where}-${lang}`)

        await page.fill('#totp-new-code', codeOf(secret))
        await page.click('#totp-confirm button[type=submit]')
        await page.waitForSelector('#totp-recovery')
        const recovery = await page.locator('#totp-recovery li').allTextContents()
        expect(recovery).toHaveLength(10)
        expect(await page.locator('#totp-recovery .warn').textContent()).toBe(text['totp.recoveryHelp'])
        expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
        expect(await axeViolations(page)).toEqual([])
        await shot(page, `totp-recovery-${where}-${lang}`)
        await page.click('#totp-done')
        await expect.poll(() => page.locator('#totp-on').textContent()).toBe(text['totp.on'])

        await page.click('#account-panel #sign-out')
        await page.waitForSelector('#password-form')
        await page.fill('#name', name)
        await page.fill('#password', PASSWORD)
        await page.click('#password-form button[type=submit]')
        await page.waitForSelector('#code-form')
        expect(await page.locator('#code-form h1').textContent()).toBe(text['totp.signinTitle'])
        expect(await page.locator('header.top').count()).toBe(0)
        // A code of the wrong time: refused, the form stays.
        await page.fill('#totp-code', codeOf(secret, 4))
        await page.click('#code-form button[type=submit]')
        await expect.poll(() => page.locator('#code-error').textContent()).toBe(text['totp.wrongCode'])
        expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
        expect(await axeViolations(page)).toEqual([])
        await shot(page, `totp-signin-${where}-${lang}`)
        // The next step's code (the one used to set up is spent), as the app shows it a moment later.
        await page.fill('#totp-code', codeOf(secret, 1))
        await page.click('#code-form button[type=submit]')
        await page.waitForSelector('header.top #account')
        expect(await page.locator('header.top a[aria-current=page]').getAttribute('data-view')).toBe('overview')
        await context.close()

        if (where === 'desk') {
          // The phone is lost: an admin resets the codes from the users screen; the password alone signs in.
          const admin = await h.open(viewport, lang)
          await h.signIn(admin.page, h.tokens.admin)
          await admin.page.click('header.top a[data-view=users]')
          const row = admin.page.locator(`tr[data-user="${name}"]`)
          await expect.poll(() => row.locator('.user-state').textContent()).toBe(`${text['users.enabled']} · ${text['users.totpOn']}`)
          await row.locator('.reset-totp').click()
          await row.locator('.reset-totp').click()
          await expect.poll(() => admin.page.locator('#users-notice').textContent()).toBe(text['totp.resetDone'].replace('{name}', name))
          expect(await axeViolations(admin.page)).toEqual([])
          await shot(admin.page, `totp-reset-${where}-${lang}`)
          const signIn = await h.app.inject({ method: 'POST', url: '/api/v1/session', payload: { name, password: PASSWORD } })
          expect(signIn.statusCode).toBe(200)
          expect(admin.problems).toEqual([])
          await admin.context.close()
        }
        // The wrong code's 401 is the only error.
        expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([])
        expect(problems).toHaveLength(1)
      })
    }
  }
})

describe.skipIf(!haveChromium)('console: two-step sign-in required (TOTP_REQUIRED)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ sessions: { totpRequired: true } })
  })
  afterAll(async () => h.close())

  for (const lang of LANGS) {
    it(`${lang}: an operator without codes sets them up before anything else, then lands on the overview`, { timeout: 120_000 }, async () => {
      const text = TEXT[lang]
      const name = `ops-required-${lang}`
      const id = await insertUser(h.db, { name, role: 'operator' })
      await setPasswordHash(h.db, id, await hashPassword(PASSWORD), false)
      const { page, context, problems } = await h.open(PHONE, lang)
      await page.goto(`${h.base}/`)
      await page.fill('#name', name)
      await page.fill('#password', PASSWORD)
      await page.click('#password-form button[type=submit]')
      await page.waitForSelector('#totp-panel')
      expect(await page.locator('#totp-panel .notice').textContent()).toBe(text['totp.forced'])
      expect(await page.locator('header.top').count()).toBe(0)
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)
      expect(await axeViolations(page)).toEqual([])
      await shot(page, `totp-required-phone-${lang}`)
      await page.click('#totp-start')
      const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/ /g, '')
      await page.fill('#totp-new-code', codeOf(secret))
      await page.click('#totp-confirm button[type=submit]')
      await page.waitForSelector('#totp-recovery')
      expect(await page.locator('#totp-recovery li').count()).toBe(10)
      await page.click('#totp-done')
      await page.waitForSelector('header.top #account')
      expect(await page.locator('header.top a[aria-current=page]').getAttribute('data-view')).toBe('overview')
      expect(problems).toEqual([])
      await context.close()
    })
  }
})
