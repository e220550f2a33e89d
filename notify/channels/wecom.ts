// WeCom (企业微信) group robot (群机器人), following WeCom's "群机器人配置说明" (developer doc 91770):
//   POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY   Content-Type: application/json
//   {"msgtype":"markdown","markdown":{"content":"..."}}  (content ≤ 4096 bytes UTF-8)
//   {"msgtype":"text","text":{"content":"..."}}          (content ≤ 2048 bytes UTF-8)
// Answer: HTTP 200 `{"errcode":0,"errmsg":"ok"}`. Documented limit: 20 messages a minute per robot;
// beyond it errcode 45009 (api freq out of limit), which we retry after the minute window. The key
// is the whole credential, so it lives in secrets and never leaves this file.
// A page to a person whose contact point is their WeCom userid goes to the group and @-mentions
// them, as the same document describes: `<@userid>` in markdown, `mentioned_list` in text.
import { z } from 'zod'
import type { ChannelAdapter, DeliveryOutcome, Message, Recipient } from '../channel.ts'
import { codeOutcome, delivered, httpFailure, isReply, linkLabel, parseJson, request, trimBase, truncateBytes, type ChannelDeps, type CodeMeaning } from './http.ts'
import { VENDOR_BASE } from './targets.ts'

export const wecomSettingsSchema = z.object({
  /** Overrides (admins only) https://qyapi.weixin.qq.com (a private deployment, a test server). */
  baseUrl: z.url().default(VENDOR_BASE.wecom),
  /** `markdown` renders bold and links in the WeCom client; `text` reaches the WeChat plug-in too. */
  msgtype: z.enum(['markdown', 'text']).default('markdown'),
})
export const wecomSecretsSchema = z.object({
  /** The `key` of the 群机器人 Webhook 地址. */
  key: z.string().regex(/^[\w-]+$/, 'the key= value of the webhook address, not the whole URL'),
})

/** WeCom global error codes (developer doc 90313) that a robot webhook returns. */
const CODES: Record<string, CodeMeaning> = {
  '-1': { retryable: true, meaning: 'system busy' },
  '45009': { retryable: true, retryAfterMs: 60_000, meaning: 'rate limited (20 messages a minute per robot)' },
  '93000': { retryable: false, meaning: 'invalid webhook key' },
  '40008': { retryable: false, meaning: 'invalid message type' },
  '44004': { retryable: false, meaning: 'empty message' },
  '40058': { retryable: false, meaning: 'invalid parameter' },
}

export function wecomBody(message: Message, msgtype: 'markdown' | 'text', to: Recipient = {}): string {
  if (msgtype === 'markdown') {
    const mention = to.address ? `\n<@${to.address}>` : ''
    const content = `**${message.subject}**\n${message.text}\n[${linkLabel(message.locale)}](${message.link})`
    return JSON.stringify({ msgtype, markdown: { content: truncateBytes(content, 4096 - Buffer.byteLength(mention)) + mention } })
  }
  const content = truncateBytes(`${message.subject}\n${message.text}\n${message.link}`, 2048)
  return JSON.stringify({ msgtype, text: to.address ? { content, mentioned_list: [to.address] } : { content } })
}

export function createWecomChannel(settings: z.infer<typeof wecomSettingsSchema>, secrets: z.infer<typeof wecomSecretsSchema>, deps: ChannelDeps): ChannelAdapter {
  const url = `${trimBase(settings.baseUrl)}/cgi-bin/webhook/send?key=${encodeURIComponent(secrets.key)}`
  return {
    kind: 'wecom',
    limits: { perMinute: 20 },
    async send(message: Message, to: Recipient): Promise<DeliveryOutcome> {
      const reply = await request(deps, 'WeCom robot', url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: wecomBody(message, settings.msgtype, to),
      })
      if (!isReply(reply)) return reply
      if (reply.status < 200 || reply.status > 299) return httpFailure(reply, 'WeCom robot', deps.now())
      const answer = parseJson(reply.text) as { errcode?: unknown } | undefined
      if (typeof answer?.errcode !== 'number') return httpFailure({ ...reply, status: 502 }, 'WeCom robot (unreadable answer)', deps.now())
      if (answer.errcode === 0) return delivered('errcode 0', 'WeCom robot message delivered')
      return codeOutcome('WeCom robot', answer.errcode, CODES)
    },
  }
}
