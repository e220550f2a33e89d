// A local WeCom (企业微信) for tests, implementing the documented endpoints a self-built app signs
// people in with, parameter for parameter:
//   GET /cgi-bin/gettoken?corpid&corpsecret            (doc 91039)
//   GET /cgi-bin/auth/getuserinfo?access_token&code    (docs 91023, 98176)
//   GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope=snsapi_base&state&agentid  (doc 91022)
//   GET /wwlogin/sso/login?login_type=CorpApp&appid&agentid&redirect_uri&state                            (doc 98152)
// The two pages play the person: whoever `signedIn` names has signed in (in the app, or by the QR
// code), and the page redirects to redirect_uri with a fresh code and the state, as WeCom does.
// Errors are WeCom's global codes (doc 90313) with its JSON shape {"errcode":N,"errmsg":"…"}.
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type WecomPerson = { userid: string } | { openid: string }

export interface FakeWecom {
  url: string
  /** The person the authorize and QR pages sign in. */
  signedIn: WecomPerson
  /** A code as WeCom gives one after `who` signed in: usable once, for 5 minutes. */
  issueCode(who: WecomPerson): string
  /** Every access token issued so far stops working: 40014 (invalid) or 42001 (expired). */
  invalidateTokens(errcode: 40014 | 42001): void
  /** Requests received, as `path?query` with the secret, tokens and codes kept (assertions read them). */
  requests: URL[]
  close(): Promise<void>
}

const CODE_TTL_MS = 5 * 60_000

export async function startFakeWecom(app: { corpId: string; agentId: string; secret: string; trustedHost: string; expiresIn?: number }): Promise<FakeWecom> {
  const tokens = new Map<string, number | 'ok'>()
  const codes = new Map<string, { who: WecomPerson; at: number }>()
  const requests: URL[] = []
  const fake = { signedIn: { userid: 'nobody' } as WecomPerson }
  const issueCode = (who: WecomPerson) => {
    const code = randomBytes(24).toString('hex')
    codes.set(code, { who, at: Date.now() })
    return code
  }
  const json = (res: http.ServerResponse, body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body))
  }
  const err = (res: http.ServerResponse, errcode: number, errmsg: string) => json(res, { errcode, errmsg })
  /** The query's names exactly `names` (WeCom ignores others; a client sending others is a bug here). */
  const exactly = (url: URL, names: string[]) => [...url.searchParams.keys()].sort().join(',') === [...names].sort().join(',')

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://wecom.test')
    requests.push(url)
    const q = (name: string) => url.searchParams.get(name)
    if (req.method !== 'GET') return res.writeHead(405).end()
    switch (url.pathname) {
      case '/cgi-bin/gettoken': {
        if (!exactly(url, ['corpid', 'corpsecret'])) return err(res, 40058, 'unexpected parameters')
        if (!q('corpid')) return err(res, 41002, 'corpid missing')
        if (!q('corpsecret')) return err(res, 41004, 'corpsecret missing')
        if (q('corpid') !== app.corpId) return err(res, 40013, 'invalid corpid')
        if (q('corpsecret') !== app.secret) return err(res, 40001, 'invalid credential')
        const token = randomBytes(32).toString('hex')
        tokens.set(token, 'ok')
        return json(res, { errcode: 0, errmsg: 'ok', access_token: token, expires_in: app.expiresIn ?? 7200 })
      }
      case '/cgi-bin/auth/getuserinfo': {
        if (!exactly(url, ['access_token', 'code'])) return err(res, 40058, 'unexpected parameters')
        const token = q('access_token') ?? ''
        if (token === '') return err(res, 41001, 'access_token missing')
        const state = tokens.get(token)
        if (state === undefined) return err(res, 40014, 'invalid access_token')
        if (state !== 'ok') return err(res, state, state === 42001 ? 'access_token expired' : 'invalid access_token')
        const code = q('code') ?? ''
        if (code === '') return err(res, 41008, 'missing code')
        const issued = codes.get(code)
        codes.delete(code)
        if (!issued || Date.now() - issued.at > CODE_TTL_MS) return err(res, 40029, 'invalid code')
        return 'userid' in issued.who
          ? json(res, { errcode: 0, errmsg: 'ok', userid: issued.who.userid })
          : json(res, { errcode: 0, errmsg: 'ok', openid: issued.who.openid, external_userid: '' })
      }
      case '/connect/oauth2/authorize':
      case '/wwlogin/sso/login': {
        const qr = url.pathname === '/wwlogin/sso/login'
        const names = qr ? ['login_type', 'appid', 'agentid', 'redirect_uri', 'state'] : ['appid', 'redirect_uri', 'response_type', 'scope', 'state', 'agentid']
        const redirect = q('redirect_uri') ?? ''
        const problem = !exactly(url, names)
          ? `expected exactly ${names.join(', ')}`
          : q('appid') !== app.corpId || q('agentid') !== app.agentId
            ? 'wrong appid or agentid'
            : qr
              ? q('login_type') === 'CorpApp' ? undefined : 'login_type must be CorpApp'
              : q('response_type') === 'code' && q('scope') === 'snsapi_base' ? undefined : 'response_type=code&scope=snsapi_base expected'
        // WeCom shows an error page when redirect_uri is not on the app's 可信域名.
        const trusted = URL.canParse(redirect) && new URL(redirect).host === app.trustedHost
        if (problem || !trusted) return res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(problem ?? 'redirect_uri 需使用应用可信域名')
        const back = new URL(redirect)
        back.searchParams.set('code', issueCode(fake.signedIn))
        back.searchParams.set('state', q('state') ?? '')
        return res.writeHead(302, { location: back.toString() }).end()
      }
      default:
        return res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    issueCode,
    invalidateTokens: (errcode: 40014 | 42001) => {
      for (const t of tokens.keys()) tokens.set(t, errcode)
    },
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  })
}
