// DingTalk (钉钉) custom robot (自定义机器人), following DingTalk's "自定义机器人安全设置" and
// "自定义机器人发送群消息" documents:
//   POST https://oapi.dingtalk.com/robot/send?access_token=TOKEN&timestamp=T&sign=S
//   T = epoch milliseconds; S = urlEncode(base64(HmacSHA256(key = secret, data = T + "\n" + secret)))
//   (加签: the secret is the SEC… string of the robot's security settings; T must be within one hour
//   of DingTalk's clock.)
//   {"msgtype":"markdown","markdown":{"title":"...","text":"..."}} or {"msgtype":"text","text":{"content":"..."}}
// Answer: HTTP 200 `{"errcode":0,"errmsg":"ok"}`. Documented limit: 20 messages a minute per robot;
// beyond it the robot is throttled for 10 minutes (errcode 130101, 410100 in the newer table).
// A page to a person whose contact point is their DingTalk userId goes to the group and @-mentions
// them: `"at":{"atUserIds":[...]}`, with `@userId` in the text, which is where the mention shows.
import { createHmac } from 'node:crypto'
import { z } from 'zod'
import type { ChannelAdapter, DeliveryOutcome, Message, Recipient } from '../channel.ts'
import { codeOutcome, delivered, httpFailure, isReply, linkLabel, parseJson, request, trimBase, type ChannelDeps, type CodeMeaning } from './http.ts'
import { VENDOR_BASE } from './targets.ts'

export const dingtalkSettingsSchema = z.object({
  /** Overrides (admins only) https://oapi.dingtalk.com (a private deployment, a test server). */
  baseUrl: z.url().default(VENDOR_BASE.dingtalk),
  msgtype: z.enum(['markdown', 'text']).default('markdown'),
})
export const dingtalkSecretsSchema = z.object({
  /** The `access_token` of the robot's Webhook 地址. */
  accessToken: z.string().regex(/^[\w-]+$/, 'the access_token= value of the webhook address, not the whole URL'),
  /** The 加签 secret (SEC…); without it the robot must be protected by keywords or an IP list. */
  secret: z.string().min(1).optional(),
})

const THROTTLED = 10 * 60_000
const CODES: Record<string, CodeMeaning> = {
  '-1': { retryable: true, meaning: 'system busy' },
  '130101': { retryable: true, retryAfterMs: THROTTLED, meaning: 'rate limited (20 messages a minute per robot)' },
  '410100': { retryable: true, retryAfterMs: THROTTLED, meaning: 'rate limited (20 messages a minute per robot)' },
  '310000': { retryable: false, meaning: 'security settings refused the message (sign, keyword or IP)' },
  '300001': { retryable: false, meaning: 'invalid access token' },
  '400101': { retryable: false, meaning: 'access token does not exist' },
  '400102': { retryable: false, meaning: 'robot disabled' },
  '400106': { retryable: false, meaning: 'robot does not exist' },
  '400013': { retryable: false, meaning: 'group dissolved' },
  '400105': { retryable: false, meaning: 'unsupported message type' },
  '430101': { retryable: false, meaning: 'content refused (unsafe link)' },
  '430102': { retryable: false, meaning: 'content refused (text)' },
  '430104': { retryable: false, meaning: 'content refused' },
}

/** The 加签 signature, before URL encoding. */
export function dingtalkSign(timestamp: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64')
}

export function dingtalkBody(message: Message, msgtype: 'markdown' | 'text', to: Recipient = {}): string {
  const mention = to.address ? `\n\n@${to.address}` : ''
  const at = to.address ? { at: { atUserIds: [to.address], isAtAll: false } } : {}
  if (msgtype === 'markdown') {
    const text = `#### ${message.subject}\n\n${message.text}\n\n[${linkLabel(message.locale)}](${message.link})${mention}`
    return JSON.stringify({ msgtype, markdown: { title: message.subject, text }, ...at })
  }
  return JSON.stringify({ msgtype, text: { content: `${message.subject}\n${message.text}\n${message.link}${mention}` }, ...at })
}

export function createDingtalkChannel(settings: z.infer<typeof dingtalkSettingsSchema>, secrets: z.infer<typeof dingtalkSecretsSchema>, deps: ChannelDeps): ChannelAdapter {
  const base = `${trimBase(settings.baseUrl)}/robot/send?access_token=${encodeURIComponent(secrets.accessToken)}`
  return {
    kind: 'dingtalk',
    limits: { perMinute: 20 },
    async send(message: Message, to: Recipient): Promise<DeliveryOutcome> {
      let url = base
      if (secrets.secret !== undefined) {
        const timestamp = deps.now()
        url += `&timestamp=${timestamp}&sign=${encodeURIComponent(dingtalkSign(timestamp, secrets.secret))}`
      }
      const reply = await request(deps, 'DingTalk robot', url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: dingtalkBody(message, settings.msgtype, to),
      })
      if (!isReply(reply)) return reply
      if (reply.status < 200 || reply.status > 299) return httpFailure(reply, 'DingTalk robot', deps.now())
      const answer = parseJson(reply.text) as { errcode?: unknown } | undefined
      if (typeof answer?.errcode !== 'number') return httpFailure({ ...reply, status: 502 }, 'DingTalk robot (unreadable answer)', deps.now())
      if (answer.errcode === 0) return delivered('errcode 0', 'DingTalk robot message delivered')
      return codeOutcome('DingTalk robot', answer.errcode, CODES)
    },
  }
}
