// Signing in with DingTalk (钉钉, issue 20) end to end: the API on PostgreSQL, a local DingTalk
// (test/helpers/dingtalk-server.ts) answering oauth2/userAccessToken, contact/users/me and the
// sign-in page as DingTalk documents them, and the browser's part played with the cookies it would
// hold. The state handling, session and failure budget are WeCom's (wecom-sign-in.test.ts): here
// they are shown to hold for DingTalk's routes too, beside a configured WeCom.
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { DingtalkSignIn } from '../../core/sso/dingtalk.ts'
import { WecomSignIn } from '../../core/sso/wecom.ts'
import { apiOnPostgres } from '../helpers/api.ts'
import { startFakeDingtalk, type FakeDingtalk } from '../helpers/dingtalk-server.ts'
import { hasPostgres } from '../helpers/services.ts'
import { signInFlow } from '../helpers/sign-in-flow.ts'

const pgUp = await hasPostgres()
const FAILURES_PER_MINUTE = 30
const DINGTALK = { clientId: 'dingabcdef0123456789', clientSecret: 'dt-secret-Hs83kQ0pZ7wLx2', corpId: 'ding0123456789abcdef', redirectHost: 'hb.example' }
const DINGTALK_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.6.0) com.laiwang.DingTalk/34000000 Channel/201200 language/zh-Hans-CN'

describe.skipIf(!pgUp)('signing in with DingTalk (issue 20)', () => {
  let api: Awaited<ReturnType<typeof apiOnPostgres>>
  let app: App
  let dingtalk: FakeDingtalk
  let now = new Date('2026-12-01T08:00:00Z')
  const logged: string[] = []
  const admin = () => ({ authorization: `Bearer ${api.token}` })

  beforeAll(async () => {
    dingtalk = await startFakeDingtalk(DINGTALK)
    const log = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logged.push(chunk.toString()), done()) }))
    const provider = new DingtalkSignIn({ ...DINGTALK, apiBaseUrl: dingtalk.url, authorizeUrl: `${dingtalk.url}/oauth2/auth` }, log)
    // WeCom configured too (it is never reached here): one set of routes serves both.
    const wecom = new WecomSignIn({ corpId: 'ww1', agentId: '1', secret: 's', apiBaseUrl: 'http://127.0.0.1:9', authorizeUrl: 'http://127.0.0.1:9/a', qrLoginUrl: 'http://127.0.0.1:9/q' }, log)
    api = await apiOnPostgres({ authFailuresPerMinute: FAILURES_PER_MINUTE, sessions: { now: () => now }, signIn: { wecom, dingtalk: provider, baseUrl: 'https://hb.example/' } })
    app = api.app
  })
  afterAll(async () => {
    await api.close()
    await dingtalk.close()
  })

  async function crewMember(name: string, unionId: string | null): Promise<string> {
    const created = await app.inject({ method: 'POST', url: '/api/v1/users', headers: admin(), payload: { name, role: 'crew', companyId: 'co-test' } })
    const id = created.json<{ user: { id: string } }>().user.id
    if (unionId !== null) {
      const linked = await app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: admin(), payload: { dingtalkUnionId: unionId } })
      expect(linked.statusCode).toBe(200)
      expect(linked.json()).toMatchObject({ id, dingtalkUnionId: unionId, wecomUserId: null, disabled: false })
    }
    return id
  }

  const { start: startAs, atProvider: atDingtalk, callback } = signInFlow(() => app, 'dingtalk')
  const start = (ua = DINGTALK_UA) => startAs(ua)

  async function signIn(ua = DINGTALK_UA) {
    const s = await start(ua)
    return callback(await atDingtalk(s.location), s.stateCookie)
  }

  it('says both providers are offered, to anyone', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/session/providers' })
    expect(res.json()).toEqual({ wecom: true, dingtalk: true })
  })

  it('a linked crew member goes to DingTalk with the documented parameters and lands in the console signed in', async () => {
    const id = await crewMember('li-dingtalk', 'UnionLiWei0a1B2c3')
    dingtalk.signedIn = { unionId: 'UnionLiWei0a1B2c3', nick: '李伟' }
    const s = await start()
    const to = new URL(s.location)
    expect(`${to.origin}${to.pathname}`).toBe(`${dingtalk.url}/oauth2/auth`)
    expect([...to.searchParams]).toEqual([
      ['redirect_uri', 'https://hb.example/api/v1/session/dingtalk/callback'],
      ['response_type', 'code'],
      ['client_id', DINGTALK.clientId],
      ['scope', 'openid'],
      ['state', to.searchParams.get('state')],
      ['prompt', 'consent'],
    ])
    expect(to.searchParams.get('state')).toMatch(/^[\w-]{43}$/)
    expect(s.setCookie).toMatch(/HttpOnly/)
    expect(s.setCookie).toMatch(/Path=\/api\/v1\/session\/dingtalk/)
    expect(s.setCookie).toMatch(/Max-Age=600/)

    const before = dingtalk.requests.length
    const back = await atDingtalk(s.location)
    expect(back.searchParams.get('state')).toBe(to.searchParams.get('state'))
    expect(back.searchParams.get('authCode')).toMatch(/^[0-9a-f]{32}$/)
    const done = await callback(back, s.stateCookie)
    expect(done.location).toBe('/console/?signIn=dingtalk#/')
    expect(done.session).toMatch(/^hb_session=[\w-]{43}$/)

    // The two server calls, byte for byte: method, path, header, JSON body.
    const [token, me] = dingtalk.requests.slice(before).filter((r) => r.path.startsWith('/v1.0/'))
    expect(token?.method).toBe('POST')
    expect(token?.path).toBe('/v1.0/oauth2/userAccessToken')
    expect(token?.headers['content-type']).toBe('application/json')
    expect(JSON.parse(token?.body ?? '')).toEqual({ clientId: DINGTALK.clientId, clientSecret: DINGTALK.clientSecret, code: back.searchParams.get('authCode'), grantType: 'authorization_code' })
    expect(me?.method).toBe('GET')
    expect(me?.path).toBe('/v1.0/contact/users/me')
    expect(me?.headers['x-acs-dingtalk-access-token']).toMatch(/^[0-9a-f]{32}$/)
    expect(me?.body).toBe('')

    const who = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: done.session ?? '' } })
    expect(who.statusCode).toBe(200)
    expect(who.json()).toMatchObject({ id, name: 'li-dingtalk', role: 'crew', signedInWith: 'session', dingtalkUnionId: 'UnionLiWei0a1B2c3' })
    const csrf = who.json<{ csrf: string }>().csrf
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: done.session ?? '', 'x-hb-csrf': csrf } })).statusCode).toBe(204)
    expect((await app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: done.session ?? '' } })).statusCode).toBe(401)
  })

  it('a desktop browser goes to the same page (DingTalk shows its QR code there)', async () => {
    await crewMember('qian-dingtalk', 'UnionQianFang')
    dingtalk.signedIn = { unionId: 'UnionQianFang', nick: '钱芳' }
    const desk = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
    const s = await start(desk)
    expect(new URL(s.location).pathname).toBe('/oauth2/auth')
    expect((await callback(await atDingtalk(s.location), s.stateCookie)).location).toBe('/console/?signIn=dingtalk#/')
  })

  it('an invalid or reused code is refused with DingTalk\'s reason (its 400 invalidAuthCode)', async () => {
    await crewMember('sun-dingtalk', 'UnionSunLi')
    dingtalk.signedIn = { unionId: 'UnionSunLi', nick: '孙丽' }
    const s = await start()
    const back = await atDingtalk(s.location)
    back.searchParams.set('authCode', 'not-a-code')
    const bad = await callback(back, s.stateCookie)
    expect(bad.location).toBe('/console/?signInError=dingtalk_code_invalid#/')
    expect(bad.session).toBeUndefined()

    // A code already exchanged, with a fresh state: DingTalk refuses it the second time.
    const first = await start()
    const firstBack = await atDingtalk(first.location)
    expect((await callback(firstBack, first.stateCookie)).location).toBe('/console/?signIn=dingtalk#/')
    const again = await start()
    const replayed = await atDingtalk(again.location)
    replayed.searchParams.set('authCode', firstBack.searchParams.get('authCode') ?? '')
    expect((await callback(replayed, again.stateCookie)).location).toBe('/console/?signInError=dingtalk_code_invalid#/')
  })

  it('an account linked to nobody, a disabled user and a WeCom state are refused', async () => {
    dingtalk.signedIn = { unionId: 'UnionStranger', nick: '陌生人' }
    const unlinked = await signIn()
    expect(unlinked.location).toBe('/console/?signInError=dingtalk_not_linked#/')
    expect(unlinked.session).toBeUndefined()

    // unionIds are compared exactly: another case is another person.
    await crewMember('zhou-dingtalk', 'UnionZhouYu')
    dingtalk.signedIn = { unionId: 'unionzhouyu', nick: '周瑜' }
    expect((await signIn()).location).toBe('/console/?signInError=dingtalk_not_linked#/')

    const id = await crewMember('wu-dingtalk', 'UnionWuHao')
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: admin(), payload: { disabled: true } })).statusCode).toBe(200)
    dingtalk.signedIn = { unionId: 'UnionWuHao', nick: '吴昊' }
    expect((await signIn()).location).toBe('/console/?signInError=user_disabled#/')

    // A state given for WeCom does not serve DingTalk's callback (nor its cookie, whose path is WeCom's).
    const w = await app.inject({ method: 'GET', url: '/api/v1/session/wecom' })
    const wState = new URL(String(w.headers.location)).searchParams.get('state') ?? ''
    const forged = new URL(`https://hb.example/api/v1/session/dingtalk/callback?authCode=x&state=${wState}`)
    expect((await callback(forged, `hb_signin_state=${wState}`)).location).toBe('/console/?signInError=sign_in_state_invalid#/')
  })

  it('a state used once, from another browser or older than 10 minutes is refused, and DingTalk is not asked', async () => {
    await crewMember('zheng-dingtalk', 'UnionZhengHe')
    dingtalk.signedIn = { unionId: 'UnionZhengHe', nick: '郑和' }
    const refused = '/console/?signInError=sign_in_state_invalid#/'
    const s = await start()
    const back = await atDingtalk(s.location)
    expect((await callback(back, s.stateCookie)).location).toBe('/console/?signIn=dingtalk#/')
    const before = dingtalk.requests.length
    const replay = await callback(back, s.stateCookie)
    expect(replay.location).toBe(refused)
    expect(replay.session).toBeUndefined()
    expect(dingtalk.requests.length).toBe(before)

    const theirs = await start()
    const mine = await start()
    expect((await callback(await atDingtalk(theirs.location), mine.stateCookie)).location).toBe(refused)

    const slow = await start()
    const slowBack = await atDingtalk(slow.location)
    now = new Date(now.getTime() + 11 * 60_000)
    expect((await callback(slowBack, slow.stateCookie)).location).toBe(refused)
  })

  it('an admin links a unionId to one user only, unlinks it, and nobody else may', async () => {
    const a = await crewMember('he-dingtalk', 'UnionHeXin')
    const b = await crewMember('lu-dingtalk', null)
    const taken = await app.inject({ method: 'PATCH', url: `/api/v1/users/${b}`, headers: admin(), payload: { dingtalkUnionId: 'UnionHeXin' } })
    expect(taken.statusCode).toBe(409)
    expect(taken.json<{ message: string }>().message).toMatch(/body\.dingtalkUnionId: .* linked to another user/)
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/users/${b}`, headers: admin(), payload: { dingtalkUnionId: 'has space' } })).statusCode).toBe(400)
    const crew = await api.tokenFor('operator')
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/users/${b}`, headers: { authorization: `Bearer ${crew}` }, payload: { dingtalkUnionId: 'x' } })).statusCode).toBe(403)
    const unlinked = await app.inject({ method: 'PATCH', url: `/api/v1/users/${a}`, headers: admin(), payload: { dingtalkUnionId: null } })
    expect(unlinked.json()).toMatchObject({ dingtalkUnionId: null })
    dingtalk.signedIn = { unionId: 'UnionHeXin', nick: '何欣' }
    expect((await signIn()).location).toBe('/console/?signInError=dingtalk_not_linked#/')
  })

  it('forged callbacks from one address use up its failure budget, shared with every provider', async () => {
    await crewMember('ma-dingtalk', 'UnionMaYun')
    const forged = new URL('https://hb.example/api/v1/session/dingtalk/callback?authCode=abc&state=made-up')
    const seen = new Set<string>()
    for (let i = 0; i <= FAILURES_PER_MINUTE; i++) seen.add((await callback(forged, 'hb_signin_state=made-up', '10.8.8.8')).location)
    expect([...seen]).toEqual(['/console/?signInError=sign_in_state_invalid#/', '/console/?signInError=rate_limited#/'])
    dingtalk.signedIn = { unionId: 'UnionMaYun', nick: '马云' }
    const s = await start()
    const refused = await callback(await atDingtalk(s.location), s.stateCookie, '10.8.8.8')
    expect(refused.location).toBe('/console/?signInError=rate_limited#/')
    expect(refused.session).toBeUndefined()
    // WeCom's callback from there is held back too.
    const wecomForged = await callback(new URL('https://hb.example/api/v1/session/wecom/callback?code=a&state=b'), 'hb_signin_state=b', '10.8.8.8')
    expect(wecomForged.location).toBe('/console/?signInError=rate_limited#/')
    expect((await signIn()).location).toBe('/console/?signIn=dingtalk#/')
  })

  it('the secret, codes and user tokens never reach the log', () => {
    const text = logged.join('')
    expect(text).toContain('DingTalk refused a sign-in request')
    expect(text).toContain('invalidAuthCode')
    expect(text).not.toContain(DINGTALK.clientSecret)
    for (const r of dingtalk.requests) {
      const token = r.headers['x-acs-dingtalk-access-token']
      if (typeof token === 'string') expect(text).not.toContain(token)
      if (r.body) expect(text).not.toContain(String((JSON.parse(r.body) as { code?: string }).code))
    }
  })
})

describe.skipIf(!pgUp)('DingTalk refusing the app, or out of reach', () => {
  it('a wrong secret is dingtalk_config, a DingTalk that does not answer dingtalk_failed; without settings there is no DingTalk sign-in', async () => {
    const dingtalk = await startFakeDingtalk(DINGTALK)
    const urls = (base: string) => ({ apiBaseUrl: base, authorizeUrl: `${dingtalk.url}/oauth2/auth` })
    const wrong = new DingtalkSignIn({ ...DINGTALK, clientSecret: 'not-the-secret', ...urls(dingtalk.url) }, pino({ level: 'silent' }))
    const away = new DingtalkSignIn({ ...DINGTALK, ...urls('http://127.0.0.1:9') }, pino({ level: 'silent' }))
    const apis = [
      await apiOnPostgres({ signIn: { dingtalk: wrong, baseUrl: 'https://hb.example' } }),
      await apiOnPostgres({ signIn: { dingtalk: away, baseUrl: 'https://hb.example' } }),
      await apiOnPostgres({ signIn: { wecom: undefined, baseUrl: 'https://hb.example' } }),
    ]
    try {
      for (const [i, expected] of ['dingtalk_config', 'dingtalk_failed'].entries()) {
        const app = apis[i]?.app
        if (!app) throw new Error('no app')
        const s = await app.inject({ method: 'GET', url: '/api/v1/session/dingtalk' })
        const state = String(s.headers['set-cookie']).split(';')[0] ?? ''
        const back = new URL((await fetch(String(s.headers.location), { redirect: 'manual' })).headers.get('location') ?? '')
        const res = await app.inject({ method: 'GET', url: `${back.pathname}${back.search}`, headers: { cookie: state } })
        expect(res.headers.location).toBe(`/console/?signInError=${expected}#/`)
      }
      const none = apis[2]?.app
      expect((await none?.inject({ method: 'GET', url: '/api/v1/session/providers' }))?.json()).toEqual({ wecom: false, dingtalk: false })
      const off = await none?.inject({ method: 'GET', url: '/api/v1/session/dingtalk' })
      expect(off?.statusCode).toBe(404)
      expect(off?.json()).toMatchObject({ code: 'sign_in_unavailable' })
      // A provider this server does not know is not a route.
      expect((await none?.inject({ method: 'GET', url: '/api/v1/session/feishu' }))?.statusCode).toBe(400)
    } finally {
      for (const a of apis) await a.close()
      await dingtalk.close()
    }
  })
})
