// Signing in with WeCom (企业微信, issue 20) end to end: the API on PostgreSQL, a local WeCom
// (test/helpers/wecom-server.ts) answering gettoken, auth/getuserinfo and the two sign-in pages
// as WeCom documents them, and the browser's part played with the cookies it would hold.
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { WecomSignIn } from '../../core/sso/wecom.ts'
import { apiOnPostgres } from '../helpers/api.ts'
import { hasPostgres } from '../helpers/services.ts'
import { signInFlow } from '../helpers/sign-in-flow.ts'
import { startFakeWecom, type FakeWecom } from '../helpers/wecom-server.ts'

const pgUp = await hasPostgres()
// Above what the tests' own refusals from the default address add up to.
const FAILURES_PER_MINUTE = 30
const WECOM = { corpId: 'ww0123456789abcdef', agentId: '1000002', secret: 'app-secret-Qx7vT2mZ9pL4', trustedHost: 'hb.example' }
const PHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh'
const DESKTOP_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'

describe.skipIf(!pgUp)('signing in with WeCom (issue 20)', () => {
  let api: Awaited<ReturnType<typeof apiOnPostgres>>
  let app: App
  let wecom: FakeWecom
  let now = new Date('2026-12-01T08:00:00Z')
  const logged: string[] = []
  const admin = () => ({ authorization: `Bearer ${api.token}` })

  beforeAll(async () => {
    wecom = await startFakeWecom(WECOM)
    const log = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logged.push(chunk.toString()), done()) }))
    const provider = new WecomSignIn(
      { ...WECOM, apiBaseUrl: wecom.url, authorizeUrl: `${wecom.url}/connect/oauth2/authorize`, qrLoginUrl: `${wecom.url}/wwlogin/sso/login` },
      log,
      () => now.getTime(),
    )
    api = await apiOnPostgres({ authFailuresPerMinute: FAILURES_PER_MINUTE, sessions: { now: () => now }, signIn: { wecom: provider, baseUrl: 'https://hb.example/' } })
    app = api.app
  })
  afterAll(async () => {
    await api.close()
    await wecom.close()
  })

  /** A crew member of co-test linked to a WeCom userid; returns their id. */
  async function crewMember(name: string, wecomUserId: string | null): Promise<string> {
    const created = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin(), payload: { name, role: 'crew', companyId: 'co-test' } })
    const id = created.json<{ user: { id: string } }>().user.id
    if (wecomUserId !== null) {
      const linked = await app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: admin(), payload: { wecomUserId } })
      expect(linked.statusCode).toBe(200)
      expect(linked.json()).toMatchObject({ id, wecomUserId, disabled: false })
    }
    return id
  }

  const { start, atProvider: atWecom, callback } = signInFlow(() => app, 'wecom')

  /** The whole way, from the sign-in button to the console. */
  async function signIn(ua = PHONE_UA) {
    const s = await start(ua)
    return callback(await atWecom(s.location), s.stateCookie)
  }

  it('says whether WeCom sign-in is offered, to anyone', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/session/providers' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ wecom: true, dingtalk: false })
  })

  it('in the WeCom app, a linked crew member lands in the console signed in, with the same session as a password gives', async () => {
    const id = await crewMember('li-wecom', 'LiWei')
    wecom.signedIn = { userid: 'LiWei' }
    const s = await start(PHONE_UA)
    const to = new URL(s.location)
    expect(`${to.origin}${to.pathname}`).toBe(`${wecom.url}/connect/oauth2/authorize`)
    expect(s.location.endsWith('#wechat_redirect')).toBe(true)
    // The documented parameters, in the documented order.
    expect([...to.searchParams]).toEqual([
      ['appid', WECOM.corpId],
      ['redirect_uri', 'https://hb.example/api/v1/session/wecom/callback'],
      ['response_type', 'code'],
      ['scope', 'snsapi_base'],
      ['state', to.searchParams.get('state')],
      ['agentid', WECOM.agentId],
    ])
    expect(to.searchParams.get('state')).toMatch(/^[\w-]{43}$/)
    expect(s.setCookie).toMatch(/HttpOnly/)
    expect(s.setCookie).toMatch(/SameSite=Lax/)
    expect(s.setCookie).toMatch(/Path=\/api\/v1\/session\/wecom/)
    expect(s.setCookie).toMatch(/Max-Age=600/)

    const back = await atWecom(s.location)
    expect(back.searchParams.get('state')).toBe(to.searchParams.get('state'))
    const done = await callback(back, s.stateCookie)
    expect(done.location).toBe('/console/?signIn=wecom#/')
    expect(done.session).toMatch(/^hb_session=[\w-]{43}$/)
    expect(String(done.res.headers['set-cookie'])).toMatch(/hb_signin_state=; .*Max-Age=0/)

    const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: done.session ?? '' } })
    expect(me.statusCode).toBe(200)
    expect(me.json()).toMatchObject({ id, name: 'li-wecom', role: 'crew', signedInWith: 'session', mustChangePassword: false, wecomUserId: 'LiWei' })
    const csrf = me.json<{ csrf: string }>().csrf
    // A change needs the CSRF value, as with a password sign-in; with it, signing out works.
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: done.session ?? '' } })).statusCode).toBe(403)
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: done.session ?? '', 'x-hb-csrf': csrf } })).statusCode).toBe(204)
    expect((await app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: done.session ?? '' } })).statusCode).toBe(401)
  })

  it('asked exactly the documented parameters of gettoken and auth/getuserinfo, and reused the token until it neared expiry', async () => {
    await crewMember('zhao-wecom', 'zhaolei')
    wecom.signedIn = { userid: 'zhaolei' }
    const before = wecom.requests.length
    expect((await signIn()).location).toBe('/console/?signIn=wecom#/')
    expect((await signIn()).location).toBe('/console/?signIn=wecom#/')
    const calls = wecom.requests.slice(before).filter((u) => u.pathname.startsWith('/cgi-bin/'))
    // One token for both sign-ins (the first test fetched it already).
    expect(calls.map((u) => u.pathname)).toEqual(['/cgi-bin/auth/getuserinfo', '/cgi-bin/auth/getuserinfo'])
    const all = wecom.requests.filter((u) => u.pathname.startsWith('/cgi-bin/'))
    const gettoken = all.find((u) => u.pathname === '/cgi-bin/gettoken')
    expect(Object.fromEntries(gettoken?.searchParams ?? [])).toEqual({ corpid: WECOM.corpId, corpsecret: WECOM.secret })
    expect([...(calls[0]?.searchParams.keys() ?? [])]).toEqual(['access_token', 'code'])

    // 7200 s later less the margin: a new token before the old one ends.
    now = new Date(now.getTime() + 7200_000 - 4 * 60_000)
    const later = wecom.requests.length
    expect((await signIn()).location).toBe('/console/?signIn=wecom#/')
    expect(wecom.requests.slice(later).map((u) => u.pathname).filter((p) => p.startsWith('/cgi-bin/'))).toEqual(['/cgi-bin/gettoken', '/cgi-bin/auth/getuserinfo'])
  })

  it('a token WeCom calls invalid (40014) or expired (42001) is fetched again and the sign-in goes through', async () => {
    await crewMember('sun-wecom', 'sunli')
    wecom.signedIn = { userid: 'sunli' }
    for (const errcode of [40014, 42001] as const) {
      wecom.invalidateTokens(errcode)
      const before = wecom.requests.length
      expect((await signIn()).location).toBe('/console/?signIn=wecom#/')
      expect(wecom.requests.slice(before).map((u) => u.pathname).filter((p) => p.startsWith('/cgi-bin/'))).toEqual([
        '/cgi-bin/auth/getuserinfo',
        '/cgi-bin/gettoken',
        '/cgi-bin/auth/getuserinfo',
      ])
    }
  })

  it('a desktop browser is sent to the QR sign-in, and comes back signed in', async () => {
    await crewMember('qian-wecom', 'qianfang')
    wecom.signedIn = { userid: 'qianfang' }
    const s = await start(DESKTOP_UA)
    const to = new URL(s.location)
    expect(`${to.origin}${to.pathname}`).toBe(`${wecom.url}/wwlogin/sso/login`)
    expect(Object.fromEntries(to.searchParams)).toMatchObject({ login_type: 'CorpApp', appid: WECOM.corpId, agentid: WECOM.agentId })
    expect((await callback(await atWecom(s.location), s.stateCookie)).location).toBe('/console/?signIn=wecom#/')
  })

  it('a state used once, missing, from another browser or older than 10 minutes is refused and signs nobody in', async () => {
    await crewMember('zhou-wecom', 'zhouyu')
    wecom.signedIn = { userid: 'zhouyu' }
    const refused = '/console/?signInError=sign_in_state_invalid#/'

    const s = await start(PHONE_UA)
    const back = await atWecom(s.location)
    expect((await callback(back, s.stateCookie)).location).toBe('/console/?signIn=wecom#/')
    // The same callback again (a replay: the browser's history, a copied link).
    const replay = await callback(back, s.stateCookie)
    expect(replay.location).toBe(refused)
    expect(replay.session).toBeUndefined()

    const noState = await atWecom((await start(PHONE_UA)).location)
    const cookie = (await start(PHONE_UA)).stateCookie
    noState.searchParams.delete('state')
    expect((await callback(noState, cookie)).location).toBe(refused)

    // Someone else's link (their state, their code) opened in this browser, whose cookie differs.
    const theirs = await start(PHONE_UA)
    const mine = await start(PHONE_UA)
    const r = await callback(await atWecom(theirs.location), mine.stateCookie)
    expect(r.location).toBe(refused)
    expect(r.session).toBeUndefined()

    const slow = await start(PHONE_UA)
    const slowBack = await atWecom(slow.location)
    now = new Date(now.getTime() + 11 * 60_000)
    expect((await callback(slowBack, slow.stateCookie)).location).toBe(refused)
  })

  it('a WeCom account linked to nobody, an outsider and a disabled user are refused with the reason', async () => {
    wecom.signedIn = { userid: 'stranger' }
    const unlinked = await signIn()
    expect(unlinked.location).toBe('/console/?signInError=wecom_not_linked#/')
    expect(unlinked.session).toBeUndefined()

    wecom.signedIn = { openid: 'oAbC123-outsider' }
    expect((await signIn()).location).toBe('/console/?signInError=wecom_not_member#/')

    const id = await crewMember('wu-wecom', 'wuhao')
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: admin(), payload: { disabled: true } })).statusCode).toBe(200)
    wecom.signedIn = { userid: 'WUHAO' }
    expect((await signIn()).location).toBe('/console/?signInError=user_disabled#/')
  })

  it('a code WeCom does not know (40029), or one used twice, is refused; WeCom is never asked without a state', async () => {
    const s = await start(PHONE_UA)
    const back = await atWecom(s.location)
    back.searchParams.set('code', 'not-a-code')
    expect((await callback(back, s.stateCookie)).location).toBe('/console/?signInError=wecom_code_invalid#/')

    const before = wecom.requests.length
    const forged = new URL('https://hb.example/api/v1/session/wecom/callback?code=abc')
    expect((await callback(forged, '')).location).toBe('/console/?signInError=sign_in_state_invalid#/')
    expect(wecom.requests.length).toBe(before)
  })

  it('an admin links a userid to one user only, unlinks it, and nobody else may', async () => {
    const a = await crewMember('he-wecom', 'hexin')
    const b = await crewMember('lu-wecom', null)
    const taken = await app.inject({ method: 'PATCH', url: `/api/v1/users/${b}`, headers: admin(), payload: { wecomUserId: 'HeXin' } })
    expect(taken.statusCode).toBe(409)
    expect(taken.json<{ message: string }>().message).toMatch(/linked to another user/)
    const bad = await app.inject({ method: 'PATCH', url: `/api/v1/users/${b}`, headers: admin(), payload: { wecomUserId: 'has space' } })
    expect(bad.statusCode).toBe(400)
    const crew = await api.tokenFor('operator')
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/users/${b}`, headers: { authorization: `Bearer ${crew}` }, payload: { wecomUserId: 'lu' } })).statusCode).toBe(403)
    const unlinked = await app.inject({ method: 'PATCH', url: `/api/v1/users/${a}`, headers: admin(), payload: { wecomUserId: null } })
    expect(unlinked.json()).toMatchObject({ wecomUserId: null })
    wecom.signedIn = { userid: 'hexin' }
    expect((await signIn()).location).toBe('/console/?signInError=wecom_not_linked#/')
  })

  it('forged callbacks from one address use up its failure budget: then even a right sign-in from there is refused', async () => {
    await crewMember('ma-wecom', 'mayun')
    const forged = new URL('https://hb.example/api/v1/session/wecom/callback?code=abc&state=made-up')
    const seen = new Set<string>()
    for (let i = 0; i <= FAILURES_PER_MINUTE; i++) seen.add((await callback(forged, 'hb_signin_state=made-up', '10.7.7.7')).location)
    expect([...seen]).toEqual(['/console/?signInError=sign_in_state_invalid#/', '/console/?signInError=rate_limited#/'])
    wecom.signedIn = { userid: 'mayun' }
    const s = await start(PHONE_UA)
    const refused = await callback(await atWecom(s.location), s.stateCookie, '10.7.7.7')
    expect(refused.location).toBe('/console/?signInError=rate_limited#/')
    expect(refused.session).toBeUndefined()
    // Another address is not held back.
    expect((await signIn()).location).toBe('/console/?signIn=wecom#/')
  })

  it('the secret, tokens and codes never reach the log', () => {
    const text = logged.join('')
    expect(text).toContain('WeCom refused a sign-in request')
    expect(text).toContain('40029')
    expect(text).not.toContain(WECOM.secret)
    for (const u of wecom.requests) {
      for (const name of ['access_token', 'code']) {
        const v = u.searchParams.get(name)
        if (v && v.length > 10) expect(text).not.toContain(v)
      }
    }
  })
})

describe.skipIf(!pgUp)('WeCom refusing the app, or out of reach', () => {
  it('a wrong secret is wecom_config, a WeCom that does not answer wecom_failed; without settings there is no WeCom sign-in', async () => {
    const wecom = await startFakeWecom(WECOM)
    const urls = (base: string) => ({ apiBaseUrl: base, authorizeUrl: `${wecom.url}/connect/oauth2/authorize`, qrLoginUrl: `${wecom.url}/wwlogin/sso/login` })
    const wrong = new WecomSignIn({ ...WECOM, secret: 'not-the-secret', ...urls(wecom.url) }, pino({ level: 'silent' }))
    const away = new WecomSignIn({ ...WECOM, ...urls('http://127.0.0.1:9') }, pino({ level: 'silent' }))
    const apis = [
      await apiOnPostgres({ signIn: { wecom: wrong, baseUrl: 'https://hb.example' } }),
      await apiOnPostgres({ signIn: { wecom: away, baseUrl: 'https://hb.example' } }),
      await apiOnPostgres({}),
    ]
    try {
      for (const [i, expected] of ['wecom_config', 'wecom_failed'].entries()) {
        const app = apis[i]?.app
        if (!app) throw new Error('no app')
        wecom.signedIn = { userid: 'anyone' }
        const s = await app.inject({ method: 'GET', url: '/api/v1/session/wecom?mode=app' })
        const state = String(s.headers['set-cookie']).split(';')[0] ?? ''
        const back = new URL((await fetch(String(s.headers.location), { redirect: 'manual' })).headers.get('location') ?? '')
        const res = await app.inject({ method: 'GET', url: `${back.pathname}${back.search}`, headers: { cookie: state } })
        expect(res.headers.location).toBe(`/console/?signInError=${expected}#/`)
      }
      const none = apis[2]?.app
      expect((await none?.inject({ method: 'GET', url: '/api/v1/session/providers' }))?.json()).toEqual({ wecom: false, dingtalk: false })
      const off = await none?.inject({ method: 'GET', url: '/api/v1/session/wecom' })
      expect(off?.statusCode).toBe(404)
      expect(off?.json()).toMatchObject({ code: 'sign_in_unavailable' })
    } finally {
      for (const a of apis) await a.close()
      await wecom.close()
    }
  })
})
