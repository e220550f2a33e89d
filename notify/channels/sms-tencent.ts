// Tencent Cloud SMS (腾讯云短信) `SendSms`, API version 2021-01-11, signed with TC3-HMAC-SHA256 as
// Tencent Cloud's "签名方法 v3" (Signature v3) document describes:
//   CanonicalRequest = "POST\n/\n\n" + "content-type:application/json; charset=utf-8\nhost:<host>\nx-tc-action:sendsms\n"
//                      + "\n" + "content-type;host;x-tc-action" + "\n" + hex(SHA256(body))
//   StringToSign     = "TC3-HMAC-SHA256\n" + <timestamp> + "\n" + <UTC date>/sms/tc3_request + "\n" + hex(SHA256(CanonicalRequest))
//   SecretDate = HMAC("TC3" + SecretKey, date); SecretService = HMAC(SecretDate, "sms");
//   SecretSigning = HMAC(SecretService, "tc3_request"); Signature = hex(HMAC(SecretSigning, StringToSign))
//   Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<scope>, SignedHeaders=content-type;host;x-tc-action, Signature=<sig>
// The document's worked example (CanonicalRequest and StringToSign) is a test vector in
// test/notify/sms.test.ts. The body names the SMS application (SmsSdkAppId), the approved sign
// (签名) and template (模板 ID); TemplateParamSet is positional ({1}, {2}…), so the settings list
// which message params fill which position.
import { createHash, createHmac } from 'node:crypto'
import { z } from 'zod'
import type { ChannelAdapter, DeliveryOutcome, Message, Recipient } from '../channel.ts'
import { maskPhone } from '../mask.ts'
import { delivered, failed, httpFailure, isReply, parseJson, request, trimBase, type ChannelDeps } from './http.ts'
import { VENDOR_BASE } from './targets.ts'

export const tencentSmsSettingsSchema = z.object({
  /** Overrides (admins only) https://sms.tencentcloudapi.com (a test server, a regional endpoint). */
  baseUrl: z.url().default(VENDOR_BASE.sms_tencent),
  /** ap-guangzhou, ap-beijing or ap-nanjing. */
  region: z.string().default('ap-guangzhou'),
  /** The SecretId (an identifier; its SecretKey is in secrets). */
  secretId: z.string().min(1),
  smsSdkAppId: z.string().min(1),
  signName: z.string().min(1),
  templateId: z.string().min(1),
  /** Which message params fill the template's {1}, {2}, … in order. */
  templateParams: z.array(z.string()).default([]),
})
export const tencentSmsSecretsSchema = z.object({
  secretKey: z.string().min(1),
})

const CONTENT_TYPE = 'application/json; charset=utf-8'
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()

export interface Tc3Input {
  secretId: string
  secretKey: string
  service: string
  host: string
  /** Signed as the lower-cased x-tc-action header; omit to sign content-type;host only (the doc's example). */
  action?: string
  payload: string
  /** Epoch seconds. */
  timestamp: number
}

/** TC3-HMAC-SHA256, step by step, so the document's intermediate values can be checked. */
export function tc3Sign(input: Tc3Input): { canonicalRequest: string; stringToSign: string; authorization: string } {
  const headers: [string, string][] = [['content-type', CONTENT_TYPE], ['host', input.host]]
  if (input.action !== undefined) headers.push(['x-tc-action', input.action.toLowerCase()])
  const signedHeaders = headers.map(([k]) => k).join(';')
  const canonicalHeaders = headers.map(([k, v]) => `${k}:${v}\n`).join('')
  const canonicalRequest = `POST\n/\n\n${canonicalHeaders}\n${signedHeaders}\n${sha256(input.payload)}`
  // The credential date is the UTC date of the timestamp (the doc warns against local time).
  const date = new Date(input.timestamp * 1000).toISOString().slice(0, 10)
  const scope = `${date}/${input.service}/tc3_request`
  const stringToSign = `TC3-HMAC-SHA256\n${input.timestamp}\n${scope}\n${sha256(canonicalRequest)}`
  const signing = hmac(hmac(hmac(`TC3${input.secretKey}`, date), input.service), 'tc3_request')
  const signature = createHmac('sha256', signing).update(stringToSign).digest('hex')
  return { canonicalRequest, stringToSign, authorization: `TC3-HMAC-SHA256 Credential=${input.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}` }
}

/** SendStatusSet codes a later attempt can get past, with the documented window when there is one. */
const RETRY: Record<string, number> = {
  'LimitExceeded.PhoneNumberThirtySecondLimit': 30_000,
  'LimitExceeded.PhoneNumberOneHourLimit': 3_600_000,
  'LimitExceeded.PhoneNumberDailyLimit': 3_600_000,
  'LimitExceeded.DeliveryFrequencyLimit': 30_000,
  RequestLimitExceeded: 1000,
}

function codeFailure(code: string, masked: string): DeliveryOutcome {
  const wait = RETRY[code] ?? RETRY[code.split('.')[0] ?? '']
  const retryable = wait !== undefined || code.startsWith('InternalError') || code.startsWith('RequestLimitExceeded')
  return failed(retryable, code, `Tencent SMS to ${masked} refused: ${code}`, wait)
}

export function createTencentSmsChannel(settings: z.infer<typeof tencentSmsSettingsSchema>, secrets: z.infer<typeof tencentSmsSecretsSchema>, deps: ChannelDeps): ChannelAdapter {
  const base = trimBase(settings.baseUrl)
  const host = new URL(base).host
  return {
    kind: 'sms_tencent',
    // Tencent's limits are per number (30 s, hour, day), reported per message in SendStatusSet.
    limits: {},
    async send(message: Message, to: Recipient): Promise<DeliveryOutcome> {
      if (to.address === undefined || !/^\+\d{6,15}$/.test(to.address)) return failed(false, 'no phone', 'SMS recipient has no E.164 phone number')
      const masked = maskPhone(to.address)
      // Field order as the SendSms input table lists them.
      const payload = JSON.stringify({
        PhoneNumberSet: [to.address],
        SmsSdkAppId: settings.smsSdkAppId,
        TemplateId: settings.templateId,
        SignName: settings.signName,
        TemplateParamSet: settings.templateParams.map((n) => message.params[n] ?? ''),
        SessionContext: message.alertId,
      })
      const timestamp = Math.floor(deps.now() / 1000)
      const { authorization } = tc3Sign({ secretId: settings.secretId, secretKey: secrets.secretKey, service: 'sms', host, action: 'SendSms', payload, timestamp })
      const reply = await request(deps, `Tencent SMS to ${masked}`, `${base}/`, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': CONTENT_TYPE,
          'x-tc-action': 'SendSms',
          'x-tc-timestamp': String(timestamp),
          'x-tc-version': '2021-01-11',
          'x-tc-region': settings.region,
        },
        body: payload,
      })
      if (!isReply(reply)) return reply
      const answer = parseJson(reply.text) as { Response?: { Error?: { Code?: unknown }; SendStatusSet?: { Code?: unknown; SerialNo?: unknown }[] } } | undefined
      const response = answer?.Response
      if (reply.status < 200 || reply.status > 299 || response === undefined) return httpFailure(reply.status < 300 ? { ...reply, status: 502 } : reply, `Tencent SMS to ${masked}`, deps.now())
      if (typeof response.Error?.Code === 'string') return codeFailure(response.Error.Code, masked)
      const status = response.SendStatusSet?.[0]
      if (typeof status?.Code !== 'string') return failed(true, 'no status', `Tencent SMS to ${masked}: answer without a send status`)
      if (status.Code === 'Ok') return delivered('Ok', `SMS to ${masked} accepted by Tencent${typeof status.SerialNo === 'string' ? ` (SerialNo ${status.SerialNo})` : ''}`)
      return codeFailure(status.Code, masked)
    },
  }
}
