// Feishu (飞书) custom bot (自定义机器人), following Feishu's "自定义机器人使用指南":
//   POST https://open.feishu.cn/open-apis/bot/v2/hook/HOOK_ID   Content-Type: application/json
//   {"timestamp":"T","sign":"S","msg_type":"post","content":{"post":{"zh_cn":{"title":"...","content":[[...]]}}}}
//   签名校验: T = epoch seconds (within one hour of Feishu's clock);
//   S = base64(HmacSHA256(key = T + "\n" + secret, data = "")) — the secret is in the key, the
//   message is empty, the opposite of DingTalk's.
// Answer: `{"code":0,"msg":"success","data":{}}`. Documented limits: 100 requests a minute and 5 a
// second per bot, body ≤ 20 KB; over the limit code 9499 ("too many request") or 11232.
// Lark (the international edition) is the same API on https://open.larksuite.com: set baseUrl.
// A page to a person whose contact point is their Feishu open_id goes to the group and @-mentions
// them with the post's `{"tag":"at","user_id":"ou_…"}` element (custom bots mention by open_id).
import { createHmac } from 'node:crypto'
import { z } from 'zod'
import type { ChannelAdapter, DeliveryOutcome, Message, Recipient } from '../channel.ts'
import { codeOutcome, delivered, httpFailure, isReply, linkLabel, parseJson, request, trimBase, truncateBytes, type ChannelDeps, type CodeMeaning } from './http.ts'
import { VENDOR_BASE } from './targets.ts'

export const feishuSettingsSchema = z.object({
  /** Overrides (admins only) https://open.feishu.cn (Lark: https://open.larksuite.com; a test server). */
  baseUrl: z.url().default(VENDOR_BASE.feishu),
})
export const feishuSecretsSchema = z.object({
  /** The last path segment of the bot's webhook 地址 (…/bot/v2/hook/<hookId>). */
  hookId: z.string().min(1).regex(/^[\w-]+$/, 'the id after /hook/, not the whole URL'),
  /** The 签名校验 secret; without it the bot must be protected by keywords or an IP list. */
  secret: z.string().min(1).optional(),
})

const CODES: Record<string, CodeMeaning> = {
  '9499': { retryable: true, retryAfterMs: 1000, meaning: 'rate limited (100 a minute, 5 a second per bot)' },
  '11232': { retryable: true, retryAfterMs: 1000, meaning: 'rate limited (100 a minute, 5 a second per bot)' },
  '19001': { retryable: false, meaning: 'invalid webhook' },
  '19021': { retryable: false, meaning: 'signature refused (wrong secret, or this server clock is off by more than an hour)' },
  '19022': { retryable: false, meaning: 'IP address not allowed' },
  '19024': { retryable: false, meaning: 'keyword missing from the message' },
}

/** The 签名校验 signature for one timestamp (epoch seconds). */
export function feishuSign(timestamp: number, secret: string): string {
  return createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64')
}

/** The documented request limit is 20 KB; the text is cut well inside it, leaving room for the rest. */
const TEXT_BYTES = 16 * 1024

/** Rich text (`post`): the title, one paragraph per line of text, and the acknowledge link. */
export function feishuContent(message: Message, to: Recipient = {}): unknown {
  const paragraphs: ({ tag: string; text: string; href?: string } | { tag: 'at'; user_id: string })[][] = truncateBytes(message.text, TEXT_BYTES)
    .split('\n')
    .map((line) => [{ tag: 'text', text: line }])
  paragraphs.push([{ tag: 'a', text: linkLabel(message.locale), href: message.link }])
  if (to.address) paragraphs.push([{ tag: 'at', user_id: to.address }])
  const lang = message.locale === 'zh-CN' ? 'zh_cn' : 'en_us'
  return { post: { [lang]: { title: message.subject, content: paragraphs } } }
}

export function createFeishuChannel(settings: z.infer<typeof feishuSettingsSchema>, secrets: z.infer<typeof feishuSecretsSchema>, deps: ChannelDeps): ChannelAdapter {
  const url = `${trimBase(settings.baseUrl)}/open-apis/bot/v2/hook/${secrets.hookId}`
  return {
    kind: 'feishu',
    limits: { perMinute: 100, perSecond: 5 },
    async send(message: Message, to: Recipient): Promise<DeliveryOutcome> {
      const signed: Record<string, string> = {}
      if (secrets.secret !== undefined) {
        const timestamp = Math.floor(deps.now() / 1000)
        signed.timestamp = String(timestamp)
        signed.sign = feishuSign(timestamp, secrets.secret)
      }
      const reply = await request(deps, 'Feishu bot', url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...signed, msg_type: 'post', content: feishuContent(message, to) }),
      })
      if (!isReply(reply)) return reply
      // Feishu answers some refusals (rate limit, bad sign) with HTTP 400 and a code in the body.
      const answer = parseJson(reply.text) as { code?: unknown; StatusCode?: unknown } | undefined
      const code = typeof answer?.code === 'number' ? answer.code : answer?.StatusCode
      if (typeof code === 'number' && reply.status < 500 && reply.status !== 429) {
        if (code === 0 && reply.status < 300) return delivered('code 0', 'Feishu bot message delivered')
        if (code !== 0) return codeOutcome('Feishu bot', code, CODES)
      }
      if (reply.status >= 200 && reply.status < 300) return httpFailure({ ...reply, status: 502 }, 'Feishu bot (unreadable answer)', deps.now())
      return httpFailure(reply, 'Feishu bot', deps.now())
    },
  }
}
