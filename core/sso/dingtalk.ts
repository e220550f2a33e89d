// Signing in with DingTalk (钉钉) through an internal app (企业内部应用), following DingTalk's
// new-style OAuth 2.0 (登录第三方网站, open.dingtalk.com/document/orgapp/tutorial-obtaining-user-personal-information):
//   - the page, in the DingTalk app or as a QR code in a desktop browser (the same address for both):
//     https://login.dingtalk.com/oauth2/auth?redirect_uri=URI&response_type=code&client_id=APPKEY
//       &scope=openid&state=STATE&prompt=consent
//   - 获取用户token (obtain-identity-credentials): POST /v1.0/oauth2/userAccessToken, JSON
//       {"clientId","clientSecret","code","grantType":"authorization_code"} → {"accessToken","refreshToken","expireIn","corpId"}
//   - 获取用户通讯录个人信息 (dingtalk-retrieve-user-information): GET /v1.0/contact/users/me with
//       the header x-acs-dingtalk-access-token → {"nick","unionId","openId",…}
//   - a refusal is HTTP 4xx with {"code":"…","requestid":"…","message":"…"}; DingTalk documents no
//     fixed list of codes for these calls: one naming the app (its client id or secret) or a missing
//     permission (Forbidden…) is the app's settings, any other 400 of the token call is the code.
// The person is their unionId: stable across the organisation's apps. The secret, the code and
// the user token travel in a body or a header only, and nothing here logs either.
import { AppError, ERRORS } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { SignInProvider, SignInMode } from './provider.ts'

/** A DingTalk unionId: letters, digits and a few marks (e.g. `Ab12cdEfGhiJkLmnOpQrStUv`), what an admin may link to a user. */
export const DINGTALK_UNION_ID = /^[\w+/=.-]{1,64}$/

export interface DingtalkSignInSettings {
  clientId: string
  clientSecret: string
  apiBaseUrl: string
  authorizeUrl: string
}

/** The longest one request to DingTalk may take: a person is waiting on the callback. */
const REQUEST_TIMEOUT_MS = 10_000
/** A refusal naming the app's own credentials, or a permission the app lacks (通讯录个人信息读权限). */
const CONFIG = /client|appkey|secret|forbidden|permission/i

type Answer = Record<string, unknown>

export class DingtalkSignIn implements SignInProvider {
  readonly id = 'dingtalk'

  constructor(
    private readonly settings: DingtalkSignInSettings,
    private readonly log: Logger,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  /** One page for both: DingTalk's app signs in at once, a desktop browser shows the QR code. */
  authorizeUrl({ redirectUri, state }: { redirectUri: string; state: string; mode: SignInMode }): string {
    const q = new URLSearchParams({ redirect_uri: redirectUri, response_type: 'code', client_id: this.settings.clientId, scope: 'openid', state, prompt: 'consent' })
    return `${this.settings.authorizeUrl}?${q.toString()}`
  }

  async userOf(code: string): Promise<string> {
    const { clientId, clientSecret } = this.settings
    const token = await this.call('oauth2/userAccessToken', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId, clientSecret, code, grantType: 'authorization_code' }) })
    if (typeof token.accessToken !== 'string' || token.accessToken === '') throw this.unexpected('oauth2/userAccessToken', 'no accessToken')
    const me = await this.call('contact/users/me', { method: 'GET', headers: { 'x-acs-dingtalk-access-token': token.accessToken } })
    if (typeof me.unionId !== 'string' || me.unionId === '') throw this.unexpected('contact/users/me', 'no unionId')
    return me.unionId
  }

  private async call(path: string, init: RequestInit): Promise<Answer> {
    const url = `${this.settings.apiBaseUrl.replace(/\/+$/, '')}/v1.0/${path}`
    let res: Response
    try {
      res = await this.fetchFn(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown } }).cause?.code
      this.log.warn({ provider: 'dingtalk', call: path, cause: typeof cause === 'string' ? cause : (err as Error).name }, 'DingTalk could not be reached')
      throw new AppError('dingtalk_failed')
    }
    const body: unknown = await res.json().catch(() => undefined)
    const answer = body !== null && typeof body === 'object' ? (body as Answer) : undefined
    if (res.ok && answer) return answer
    if (!answer || res.status >= 500 || typeof answer.code !== 'string') throw this.unexpected(path, `HTTP ${res.status}`)
    this.refused(path, res.status, answer.code, typeof answer.message === 'string' ? answer.message : '')
  }

  /** A 4xx with DingTalk's code: told to the log (status, code and message only) and thrown as a coded error. */
  private refused(path: string, status: number, code: string, message: string): never {
    this.log.warn({ provider: 'dingtalk', call: path, status, code, message }, 'DingTalk refused a sign-in request')
    if (CONFIG.test(code)) throw new AppError('dingtalk_config', `${ERRORS.dingtalk_config.message} (${code})`)
    if (path === 'oauth2/userAccessToken' && status === 400) throw new AppError('dingtalk_code_invalid')
    throw new AppError('dingtalk_failed', `DingTalk refused the sign-in (${code}); retry in a minute, or tell the office if it happens again`)
  }

  private unexpected(what: string, why: string): AppError {
    this.log.warn({ provider: 'dingtalk', call: what, why }, 'DingTalk gave an unexpected answer')
    return new AppError('dingtalk_failed')
  }
}
