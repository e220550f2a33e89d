// Aliyun SMS (阿里云短信服务) `SendSms`, API version 2017-05-25, RPC style, signed as Aliyun's SMS
// document "HTTP协议及签名" (signature method HMAC-SHA1, SignatureVersion 1.0) describes:
//   1. every parameter but Signature, sorted by name, each name and value percent-encoded
//      (RFC 3986: only A-Z a-z 0-9 - _ . ~ stay; space is %20, * is %2A, ~ stays), joined as k=v&…
//   2. StringToSign = "GET&" + percentEncode("/") + "&" + percentEncode(that query)
//   3. Signature = base64(HMAC-SHA1(key = AccessKeySecret + "&", StringToSign))
//   4. GET https://dysmsapi.aliyuncs.com/?Signature=percentEncode(Signature)&<the sorted query>
// The document's worked example (AccessKeySecret testSecret → zJDF+Lrzhj/ThnlvIToysFRq6t4=) is a
// test vector in test/notify/sms.test.ts. Templates (TemplateCode, 模板) and the sign name (签名)
// must be approved in the Aliyun console before anything is sent; the message's `params` fill the
// template's ${name} variables.
import { createHmac } from 'node:crypto'
import { z } from 'zod'
import type { ChannelAdapter, DeliveryOutcome, Message, Recipient } from '../channel.ts'
import { maskPhone } from '../mask.ts'
import { delivered, failed, httpFailure, isReply, parseJson, request, trimBase, type ChannelDeps } from './http.ts'
import { VENDOR_BASE } from './targets.ts'

export const aliyunSmsSettingsSchema = z.object({
  /** Overrides (admins only) https://dysmsapi.aliyuncs.com (a test server, a regional endpoint). */
  baseUrl: z.url().default(VENDOR_BASE.sms_aliyun),
  regionId: z.string().default('cn-hangzhou'),
  /** The AccessKey ID (an identifier, shown to administrators; its secret is in secrets). */
  accessKeyId: z.string().min(1),
  /** 短信签名 name, as approved. */
  signName: z.string().min(1),
  /** 模板 CODE, e.g. SMS_123456789. */
  templateCode: z.string().min(1),
  /** The template's variables, taken from the message's params by name; all params when absent. */
  templateParams: z.array(z.string()).optional(),
})
export const aliyunSmsSecretsSchema = z.object({
  accessKeySecret: z.string().min(1),
})

/** RFC 3986 percent-encoding as Aliyun's signature requires (encodeURIComponent leaves !'()* alone). */
export function aliyunPercentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** Steps 1–3: the sorted canonical query and its signature. */
export function aliyunSign(params: Record<string, string>, accessKeySecret: string): { query: string; signature: string } {
  const query = Object.keys(params)
    .sort()
    .map((k) => `${aliyunPercentEncode(k)}=${aliyunPercentEncode(params[k] ?? '')}`)
    .join('&')
  const stringToSign = `GET&${aliyunPercentEncode('/')}&${aliyunPercentEncode(query)}`
  return { query, signature: createHmac('sha1', `${accessKeySecret}&`).update(stringToSign).digest('base64') }
}

/** Aliyun accepts mainland numbers without a prefix and others with their country code, no "+". */
export function aliyunPhone(e164: string): string {
  const digits = e164.replace(/\D/g, '')
  return digits.length === 13 && digits.startsWith('86') ? digits.slice(2) : digits
}

/** SendSms `Code` values that a later attempt can get past; every other code is a refusal. */
function retryableCode(code: string): number | boolean {
  // Per-number flow control (流控): one message a minute to the same number for the same sign.
  if (code === 'isv.BUSINESS_LIMIT_CONTROL') return 60_000
  if (code.startsWith('Throttling') || code === 'SignatureNonceUsed' || code === 'ServiceUnavailable' || code === 'InternalError') return true
  // isp.* are the provider's own faults (isp.SYSTEM_ERROR), except a permission refusal.
  return code.startsWith('isp.') && code !== 'isp.RAM_PERMISSION_DENY'
}

export function createAliyunSmsChannel(settings: z.infer<typeof aliyunSmsSettingsSchema>, secrets: z.infer<typeof aliyunSmsSecretsSchema>, deps: ChannelDeps): ChannelAdapter {
  return {
    kind: 'sms_aliyun',
    // Aliyun's limits are per number (flow control), not per account: the outbox learns them from
    // isv.BUSINESS_LIMIT_CONTROL.
    limits: {},
    async send(message: Message, to: Recipient): Promise<DeliveryOutcome> {
      if (to.address === undefined || !/^\+?\d{6,15}$/.test(to.address)) return failed(false, 'no phone', 'SMS recipient has no valid phone number')
      const masked = maskPhone(to.address)
      const names = settings.templateParams ?? Object.keys(message.params)
      const templateParam = Object.fromEntries(names.map((n) => [n, message.params[n] ?? '']))
      const params: Record<string, string> = {
        AccessKeyId: settings.accessKeyId,
        Action: 'SendSms',
        Format: 'JSON',
        OutId: message.alertId,
        PhoneNumbers: aliyunPhone(to.address),
        RegionId: settings.regionId,
        SignName: settings.signName,
        SignatureMethod: 'HMAC-SHA1',
        SignatureNonce: deps.nonce(),
        SignatureVersion: '1.0',
        TemplateCode: settings.templateCode,
        TemplateParam: JSON.stringify(templateParam),
        Timestamp: new Date(deps.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        Version: '2017-05-25',
      }
      const { query, signature } = aliyunSign(params, secrets.accessKeySecret)
      const url = `${trimBase(settings.baseUrl)}/?Signature=${aliyunPercentEncode(signature)}&${query}`
      const reply = await request(deps, `Aliyun SMS to ${masked}`, url, { method: 'GET' })
      if (!isReply(reply)) return reply
      // Errors come as JSON with a Code, under HTTP 200 (business) or 4xx/5xx (gateway).
      const answer = parseJson(reply.text) as { Code?: unknown; BizId?: unknown } | undefined
      const code = answer?.Code
      if (typeof code !== 'string') return httpFailure(reply.status < 300 ? { ...reply, status: 502 } : reply, `Aliyun SMS to ${masked}`, deps.now())
      if (code === 'OK' && reply.status < 300) return delivered('OK', `SMS to ${masked} accepted by Aliyun${typeof answer?.BizId === 'string' ? ` (BizId ${answer.BizId})` : ''}`)
      const retry = retryableCode(code)
      return failed(retry !== false, code, `Aliyun SMS to ${masked} refused: ${code}`, typeof retry === 'number' ? retry : undefined)
    },
  }
}
