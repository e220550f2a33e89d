// Web Push opt-in on the crew app (issue 21): a crew member whose company has a Web Push channel is
// offered "receive push notifications"; pressing it subscribes with the channel's VAPID public key
// and stores the subscription as their contact point. Headless Chromium cannot subscribe: with the
// service worker registered and the notification permission granted, pushManager.subscribe()
// rejects with "AbortError: Registration failed - permission denied" (tried; it has no push service
// either, the machine has no network). So the page's PushManager is a stand-in that records the key it was given and returns a subscription; everything after it (the
// offer, the key lookup, the API storing the contact point) is the real code. The push itself — the
// aes128gcm payload decrypted with the subscription's key — is test/notify/webpush.test.ts.
import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { insertChannel } from '../../core/repos/notify-setup.ts'
import { createCompany } from '../../core/repos/registry.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { axeViolations, DESK, horizontalOverflow, LANGS, PHONE, requireChromium, shot, startHarness, TEXT, type Harness } from './harness.ts'

const haveChromium = requireChromium()
const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })
const VAPID_PUBLIC = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')])

/** Runs in the page before its scripts (as text: the server's type-check has no DOM types): a PushManager that subscribes without a push service. */
function standInPush(endpoint: string): string {
  const keys = { p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM', auth: 'tBHItJI5svbpez7KI4CCXg' }
  return `(() => {
    const endpoint = ${JSON.stringify(endpoint)}
    const sub = { endpoint, toJSON: () => ({ endpoint, expirationTime: null, keys: ${JSON.stringify(keys)} }), unsubscribe: () => Promise.resolve(true) }
    let current = null
    const pushManager = {
      getSubscription: () => Promise.resolve(current),
      subscribe: (opts) => { window.subscribedWith = Array.from(opts.applicationServerKey); current = sub; return Promise.resolve(sub) },
    }
    Object.defineProperty(navigator, 'serviceWorker', { configurable: true, value: { ready: Promise.resolve({ pushManager }), register: () => Promise.resolve({}) } })
    window.PushManager = function PushManager() {}
    Notification.requestPermission = () => Promise.resolve('granted')
  })()`
}

describe.skipIf(!haveChromium)('console: Web Push opt-in on the crew app', () => {
  let h: Harness
  let crew: { id: string; token: string }
  beforeAll(async () => {
    h = await startHarness()
    await insertChannel(h.db, { id: 'co-test-push', companyId: 'co-test', kind: 'webpush', name: 'Crew app', settings: { vapidPublicKey: VAPID_PUBLIC.toString('base64url'), subject: 'mailto:ops@hb.example' }, secrets: null, createdBy: 'admin' })
    const id = await insertUser(h.db, { name: '王师傅', role: 'crew', companyId: 'co-test' })
    crew = { id, token: (await issueToken(h.db, id)).token }
  })
  afterAll(() => h.close())

  for (const lang of LANGS) {
    for (const [name, viewport] of [['desk', DESK], ['phone', PHONE]] as const) {
      it(`${lang} ${name}: offers push, subscribes with the channel's key and stores the subscription`, async () => {
        const endpoint = `https://push.example.test/send/${lang}-${name}`
        const { page, context, problems } = await h.open(viewport, lang)
        await context.addInitScript({ content: standInPush(endpoint) })
        await h.signIn(page, crew.token)
        const offer = page.locator('#push-opt-in[data-state="off"]')
        await offer.waitFor()
        expect(await offer.textContent()).toContain(TEXT[lang]['push.offer'])
        await shot(page, `push-offer-${name}-${lang}`)
        expect(await horizontalOverflow(page)).toBe(0)
        expect(await axeViolations(page)).toEqual([])
        await page.click('#push-on')
        await page.locator('#push-opt-in[data-state="on"]').waitFor()
        expect(await page.locator('#push-opt-in').textContent()).toContain(TEXT[lang]['push.on'])
        expect(await page.evaluate<number[]>('window.subscribedWith')).toEqual([...VAPID_PUBLIC])
        const rows = await h.db.query<{ address: string; locale: string }>("SELECT address, locale FROM contact_points WHERE user_id = $1 AND kind = 'webpush'", [crew.id])
        const stored = rows.map((r) => ({ ...(JSON.parse(r.address) as { endpoint: string }), locale: r.locale })).find((r) => r.endpoint === endpoint)
        expect(stored).toMatchObject({ endpoint, keys: { auth: 'tBHItJI5svbpez7KI4CCXg' }, locale: lang })
        expect(problems).toEqual([])
        await context.close()
      })
    }
  }

  it('offers nothing where no Web Push channel pages the person', async () => {
    await createCompany(h.db, { id: 'co-none', name: 'No Push Property Co.', contact: null })
    const other = await insertUser(h.db, { name: 'crew-no-push', role: 'crew', companyId: 'co-none' })
    const { page, context } = await h.open(PHONE, 'en')
    await context.addInitScript({ content: standInPush('https://push.example.test/none') })
    await h.signIn(page, (await issueToken(h.db, other)).token)
    await page.locator('section.crew').waitFor()
    await page.waitForTimeout(500)
    expect(await page.locator('#push-opt-in').count()).toBe(0)
    await context.close()
  })
})
