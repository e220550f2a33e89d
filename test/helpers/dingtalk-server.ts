// A local DingTalk (钉钉) for tests, implementing the new-style OAuth 2.0 endpoints an internal app
// signs people in with, field for field:
//   POST /v1.0/oauth2/userAccessToken  JSON {clientId, clientSecret, code, grantType:"authorization_code"}
//        → {accessToken, refreshToken, expireIn, corpId}                     (获取用户token)
//   GET  /v1.0/contact/users/me  header x-acs-dingtalk-access-token
//        → {nick, avatarUrl, openId, unionId, stateCode}                      (获取用户通讯录个人信息)
//   GET  /oauth2/auth?redirect_uri&response_type=code&client_id&scope=openid&state&prompt=consent
// The page plays the person: whoever `signedIn` names has consented, and the page redirects to
// redirect_uri with authCode and state, as DingTalk documents (授权通过后返回authCode). Refusals are HTTP 400/401
// with DingTalk's JSON shape {"code":"…","requestid":"…","message":"…"}.
import { randomBytes, randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface DingtalkPerson {
  unionId: string
  nick: string
}

export interface FakeDingtalk {
  url: string
  /** The person the authorize page signs in. */
  signedIn: DingtalkPerson
  /** Every request received: method, path, headers and body as sent (assertions read them). */
  requests: { method: string; path: string; headers: http.IncomingHttpHeaders; body: string }[]
  close(): Promise<void>
}

const CODE_TTL_MS = 5 * 60_000

export async function startFakeDingtalk(app: { clientId: string; clientSecret: string; corpId: string; redirectHost: string }): Promise<FakeDingtalk> {
  const codes = new Map<string, { who: DingtalkPerson; at: number }>()
  const tokens = new Map<string, DingtalkPerson>()
  const requests: FakeDingtalk['requests'] = []
  const fake: { signedIn: DingtalkPerson } = { signedIn: { unionId: 'nobody', nick: 'nobody' } }
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' }).end(JSON.stringify(body))
  }
  const refuse = (res: http.ServerResponse, status: number, code: string, message: string) => json(res, status, { code, requestid: randomUUID().toUpperCase(), message })

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://dingtalk.test')
      const body = Buffer.concat(chunks).toString('utf8')
      requests.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, headers: req.headers, body })
      const q = (name: string) => url.searchParams.get(name)
      const route = `${req.method} ${url.pathname}`
      switch (route) {
        case 'POST /v1.0/oauth2/userAccessToken': {
          if (!/^application\/json\b/.test(req.headers['content-type'] ?? '') || url.search !== '') return refuse(res, 400, 'MissingBody', 'body is mandatory for this action.')
          let b: Record<string, unknown>
          try {
            b = JSON.parse(body) as Record<string, unknown>
          } catch {
            return refuse(res, 400, 'InvalidParameter', 'body is not JSON')
          }
          if (Object.keys(b).sort().join(',') !== 'clientId,clientSecret,code,grantType') return refuse(res, 400, 'InvalidParameter', `unexpected fields ${Object.keys(b).join(',')}`)
          if (b.grantType !== 'authorization_code') return refuse(res, 400, 'InvalidParameter.GrantType', 'grantType 不合法')
          if (b.clientId !== app.clientId) return refuse(res, 400, 'invalidClientId', '不合法的clientId')
          if (b.clientSecret !== app.clientSecret) return refuse(res, 400, 'invalidClientSecret', '不合法的clientSecret')
          const issued = typeof b.code === 'string' ? codes.get(b.code) : undefined
          if (typeof b.code === 'string') codes.delete(b.code)
          if (!issued || Date.now() - issued.at > CODE_TTL_MS) return refuse(res, 400, 'invalidAuthCode', '不合法的临时授权码')
          const accessToken = randomBytes(16).toString('hex')
          tokens.set(accessToken, issued.who)
          return json(res, 200, { expireIn: 7200, accessToken, refreshToken: randomBytes(16).toString('hex'), corpId: app.corpId })
        }
        case 'GET /v1.0/contact/users/me': {
          const token = req.headers['x-acs-dingtalk-access-token']
          const who = typeof token === 'string' ? tokens.get(token) : undefined
          if (!who || url.search !== '') return refuse(res, 401, 'InvalidAuthentication', '不合法的access_token')
          return json(res, 200, { nick: who.nick, avatarUrl: '', openId: `open-${who.unionId}`, unionId: who.unionId, stateCode: '86' })
        }
        case 'GET /oauth2/auth': {
          const names = ['redirect_uri', 'response_type', 'client_id', 'scope', 'state', 'prompt']
          const redirect = q('redirect_uri') ?? ''
          const problem =
            [...url.searchParams.keys()].sort().join(',') !== [...names].sort().join(',')
              ? `expected exactly ${names.join(', ')}`
              : q('client_id') !== app.clientId
                ? 'unknown client_id'
                : q('response_type') === 'code' && q('scope') === 'openid' && q('prompt') === 'consent'
                  ? undefined
                  : 'response_type=code&scope=openid&prompt=consent expected'
          // DingTalk shows an error page when redirect_uri is not the app's registered redirect URL (钉钉登录与分享).
          const registered = URL.canParse(redirect) && new URL(redirect).host === app.redirectHost
          if (problem || !registered) return res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(problem ?? '回调域名不一致')
          const code = randomBytes(16).toString('hex')
          codes.set(code, { who: fake.signedIn, at: Date.now() })
          const back = new URL(redirect)
          back.searchParams.set('authCode', code)
          back.searchParams.set('state', q('state') ?? '')
          return res.writeHead(302, { location: back.toString() }).end()
        }
        default:
          return refuse(res, 404, 'NotFound', 'not found')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  })
}
