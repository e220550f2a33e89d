// Signing in with WeCom (企业微信) through a self-built app (自建应用), following WeCom's server API:
//   - 构造网页授权链接 (doc 91022): inside the WeCom app,
//     https://open.weixin.qq.com/connect/oauth2/authorize?appid=CORPID&redirect_uri=URI&response_type=code
//       &scope=snsapi_base&state=STATE&agentid=AGENTID#wechat_redirect
//   - 企业微信Web登录 (doc 98152): a desktop browser, by QR code,
//     https://login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp&appid=CORPID&agentid=AGENTID&redirect_uri=URI&state=STATE
//   - 获取access_token (doc 91039): GET /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET
//       → {"errcode":0,"errmsg":"ok","access_token":"…","expires_in":7200}; kept until expires_in
//       less a margin, fetched again when WeCom says it is invalid (40014) or expired (42001).
//   - 获取访问用户身份 (docs 91023, 98176): GET /cgi-bin/auth/getuserinfo?access_token=T&code=CODE
//       → a member: {"errcode":0,"errmsg":"ok","userid":"…"}; anyone else: {"openid":"…"} and no
//       userid (refused). A code is used once and lives 5 minutes (40029 otherwise).
// The secret, the token and the code appear in request URLs only: nothing here logs a URL.
import { AppError, ERRORS } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { SignInProvider, SignInMode } from './provider.ts'

/**
 * A WeCom userid (账号): 1–64 letters, digits and _ - . @, and / in a linked organisation's
 * `CorpId/userid` (doc 96442); what an admin may link to a user.
 */
export const WECOM_USERID = /^[\w.@/-]{1,64}$/

export interface WecomSignInSettings {
  corpId: string
  agentId: string
  secret: string
  apiBaseUrl: string
  authorizeUrl: string
  qrLoginUrl: string
}

/** A token is fetched again this long before WeCom's expires_in ends (clocks and requests in flight). */
const TOKEN_MARGIN_MS = 5 * 60_000
/** The longest one request to WeCom may take: a person is waiting on the callback. */
const REQUEST_TIMEOUT_MS = 10_000
/** errcodes (global error codes, doc 90313) saying the access token is invalid or expired. */
const TOKEN_STALE = new Set([40014, 42001])
/** errcodes saying the app's settings are wrong: corpid, secret, agentid, trusted domain, IP allow-list. */
const CONFIG = new Set([40001, 40013, 40056, 40091, 50001, 60020])
/** errcodes of the code itself: invalid, or used / expired. */
const BAD_CODE = new Set([40029, 42003])

interface Answer {
  errcode?: unknown
  errmsg?: unknown
  [key: string]: unknown
}

export class WecomSignIn implements SignInProvider {
  readonly id = 'wecom'
  private token: { value: string; until: number } | undefined
  private pending: Promise<string> | undefined

  constructor(
    private readonly settings: WecomSignInSettings,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  authorizeUrl({ redirectUri, state, mode }: { redirectUri: string; state: string; mode: SignInMode }): string {
    const { corpId, agentId } = this.settings
    if (mode === 'qr') {
      const q = new URLSearchParams({ login_type: 'CorpApp', appid: corpId, agentid: agentId, redirect_uri: redirectUri, state })
      return `${this.settings.qrLoginUrl}?${q.toString()}`
    }
    // The parameters in the documented order; #wechat_redirect tells the WeCom app to follow it.
    const q = new URLSearchParams({ appid: corpId, redirect_uri: redirectUri, response_type: 'code', scope: 'snsapi_base', state, agentid: agentId })
    return `${this.settings.authorizeUrl}?${q.toString()}#wechat_redirect`
  }

  async userOf(code: string): Promise<string> {
    let answer = await this.getUserInfo(await this.accessToken(), code)
    if (TOKEN_STALE.has(Number(answer.errcode))) {
      this.token = undefined
      answer = await this.getUserInfo(await this.accessToken(), code)
    }
    this.check(answer, 'auth/getuserinfo')
    if (typeof answer.userid === 'string' && answer.userid !== '') return answer.userid
    if (typeof answer.openid === 'string') throw new AppError('wecom_not_member')
    throw this.unexpected('auth/getuserinfo', 'neither userid nor openid')
  }

  private getUserInfo(token: string, code: string): Promise<Answer> {
    return this.get('/cgi-bin/auth/getuserinfo', { access_token: token, code }, 'auth/getuserinfo')
  }

  /** The cached token, or one fetched now (one request however many sign-ins wait for it). */
  private async accessToken(): Promise<string> {
    if (this.token && this.token.until > this.now()) return this.token.value
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined))
    return this.pending
  }

  private async fetchToken(): Promise<string> {
    const answer = await this.get('/cgi-bin/gettoken', { corpid: this.settings.corpId, corpsecret: this.settings.secret }, 'gettoken')
    this.check(answer, 'gettoken')
    const { access_token: value, expires_in: expiresIn } = answer
    if (typeof value !== 'string' || value === '' || typeof expiresIn !== 'number') throw this.unexpected('gettoken', 'no access_token or expires_in')
    this.token = { value, until: this.now() + Math.max(0, expiresIn * 1000 - TOKEN_MARGIN_MS) }
    return value
  }

  private async get(path: string, query: Record<string, string>, what: string): Promise<Answer> {
    const url = `${this.settings.apiBaseUrl.replace(/\/+$/, '')}${path}?${new URLSearchParams(query).toString()}`
    let res: Response
    try {
      res = await this.fetchFn(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    } catch (err) {
      // The error's cause names the address and the failure (ECONNREFUSED, a timeout), never the URL.
      const cause = (err as { cause?: { code?: unknown } }).cause?.code
      this.log.warn({ provider: 'wecom', call: what, cause: typeof cause === 'string' ? cause : (err as Error).name }, 'WeCom could not be reached')
      throw new AppError('wecom_failed')
    }
    const body: unknown = await res.json().catch(() => undefined)
    if (!res.ok || body === null || typeof body !== 'object') throw this.unexpected(what, `HTTP ${res.status}`)
    return body as Answer
  }

  /** errcode 0 passes; anything else is told to the log (errcode and errmsg only) and thrown as a coded error. */
  private check(answer: Answer, what: string): void {
    const errcode = Number(answer.errcode ?? 0)
    if (errcode === 0) return
    this.log.warn({ provider: 'wecom', call: what, errcode, errmsg: typeof answer.errmsg === 'string' ? answer.errmsg : '' }, 'WeCom refused a sign-in request')
    if (BAD_CODE.has(errcode)) throw new AppError('wecom_code_invalid')
    if (CONFIG.has(errcode)) throw new AppError('wecom_config', `${ERRORS.wecom_config.message} (errcode ${errcode})`)
    throw new AppError('wecom_failed', `WeCom refused the sign-in (errcode ${errcode}); retry in a minute, or tell the office if it happens again`)
  }

  private unexpected(what: string, why: string): AppError {
    this.log.warn({ provider: 'wecom', call: what, why }, 'WeCom gave an unexpected answer')
    return new AppError('wecom_failed')
  }
}

