// Aliyun and Tencent Cloud SMS against a local server. Each signature is computed here a second
// time, independently, from the vendor's documented algorithm with a pinned clock and nonce, and
// the request must match byte for byte; the vendors' own worked examples are checked as known
// answers. Then the server answers success, rate limits, 5xx and refusals.
import { createHash, createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { channelConfigSchema, createChannel, type ChannelConfigInput } from '../../notify/channels/index.ts'
import { aliyunSign } from '../../notify/channels/sms-aliyun.ts'
import { tc3Sign } from '../../notify/channels/sms-tencent.ts'
import { maskPhone } from '../../notify/mask.ts'
import { closedBase, expectClean, expectOutcomes, message, NOW, vendorServer, type OutcomeCase, type VendorServer } from './vendor-server.ts'
import { ALLOW_LOOPBACK } from '../helpers/egress.ts'

let server: VendorServer
beforeAll(async () => {
  server = await vendorServer()
})
afterAll(async () => {
  await server.close()
})

const PHONE = '+8613812341234'
const NONCE = '45e25e9b-0a6f-4070-8c85-2956eda1b466'
const channel = (config: ChannelConfigInput) => createChannel(channelConfigSchema.parse(config), { now: () => NOW, nonce: () => NONCE, egress: ALLOW_LOOPBACK })

describe('maskPhone', () => {
  it('keeps the first three and last four digits', () => {
    expect(maskPhone(PHONE)).toBe('138****1234')
    expect(maskPhone('13812341234')).toBe('138****1234')
    expect(maskPhone('+4915112345678')).toBe('+491****5678')
    expect(maskPhone('12345')).toBe('****')
  })
})

/** RFC 3986 unreserved characters stay, everything else is %XX (upper case), as Aliyun documents. */
function popEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('')
}

function aliyunExpectedUrl(params: Record<string, string>, secret: string): string {
  const query = Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${popEncode(k)}=${popEncode(v)}`).join('&')
  const sig = createHmac('sha1', `${secret}&`).update(`GET&%2F&${popEncode(query)}`).digest('base64')
  return `/?Signature=${popEncode(sig)}&${query}`
}

describe('Aliyun SMS SendSms (HMAC-SHA1, 2017-05-25)', () => {
  const KEY_ID = 'LTAI5tFixtureKeyId'
  const KEY_SECRET = 'fixtureAccessKeySecretValue0123'
  const config = (base: string): ChannelConfigInput => ({
    kind: 'sms_aliyun',
    settings: { baseUrl: base, accessKeyId: KEY_ID, signName: '幸福物业', templateCode: 'SMS_460755012', templateParams: ['place', 'what', 'deadline', 'link'] },
    secrets: { accessKeySecret: KEY_SECRET },
  })

  it('reproduces the worked example of Aliyun\'s signature document (testId / testSecret)', () => {
    const params = {
      AccessKeyId: 'testId', Action: 'SendSms', Format: 'XML', OutId: '123', PhoneNumbers: '15300000001', RegionId: 'cn-hangzhou',
      SignName: '阿里云短信测试专用', SignatureMethod: 'HMAC-SHA1', SignatureNonce: NONCE, SignatureVersion: '1.0',
      TemplateCode: 'SMS_71390007', TemplateParam: '{"customer":"test"}', Timestamp: '2017-07-12T02:42:19Z', Version: '2017-05-25',
    }
    const docUrl = '/?Signature=zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D&AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25'
    expect(aliyunSign(params, 'testSecret').signature).toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=')
    expect(aliyunExpectedUrl(params, 'testSecret')).toBe(docUrl)
  })

  it('sends the signed GET request byte for byte', async () => {
    server.answer({ status: 200, body: { Message: 'OK', RequestId: 'F655A8D5-B967-440B-8683-DAD6FF8DE990', Code: 'OK', BizId: '900619746936498440^0' } })
    const before = server.received.length
    const outcome = await channel(config(server.base)).send(message, { address: PHONE })
    expect(outcome).toMatchObject({ ok: true, status: 'OK' })
    expect(outcome.detail).toContain('138****1234')
    const req = server.received[before]
    expect(req?.method).toBe('GET')
    const expected = aliyunExpectedUrl({
      AccessKeyId: KEY_ID, Action: 'SendSms', Format: 'JSON', OutId: message.alertId, PhoneNumbers: '13812341234', RegionId: 'cn-hangzhou',
      SignName: '幸福物业', SignatureMethod: 'HMAC-SHA1', SignatureNonce: NONCE, SignatureVersion: '1.0', TemplateCode: 'SMS_460755012',
      TemplateParam: JSON.stringify({ place: '幸福小区(北区)3号楼', what: '电梯困人', deadline: '15:30', link: message.link }),
      Timestamp: '2026-03-01T08:00:00Z', Version: '2017-05-25',
    }, KEY_SECRET)
    expect(req?.url).toBe(expected)
  })

  it('maps each answer to ok / retryable / retryAfterMs, masking the number', async () => {
    const cases: OutcomeCase[] = [
      { answer: { status: 200, body: { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发分钟级流控Permits:1' } }, expected: { ok: false, retryable: true, retryAfterMs: 60_000, status: 'isv.BUSINESS_LIMIT_CONTROL' } },
      { answer: { status: 400, body: { Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' } }, expected: { ok: false, retryable: true, status: 'Throttling.User' } },
      { answer: { status: 200, body: { Code: 'isp.SYSTEM_ERROR' } }, expected: { ok: false, retryable: true } },
      { answer: { status: 200, body: { Code: 'isv.MOBILE_NUMBER_ILLEGAL' } }, expected: { ok: false, retryable: false, status: 'isv.MOBILE_NUMBER_ILLEGAL' } },
      { answer: { status: 400, body: { Code: 'SignatureDoesNotMatch' } }, expected: { ok: false, retryable: false } },
      { answer: { status: 502, body: '<html>bad gateway</html>' }, expected: { ok: false, retryable: true, status: 'http 502' } },
    ]
    await expectOutcomes(server, () => channel(config(server.base)).send(message, { address: PHONE }), cases, [KEY_SECRET, '13812341234'])
    const refused = await channel(config(await closedBase())).send(message, { address: PHONE })
    expect(refused).toMatchObject({ ok: false, retryable: true, status: 'ECONNREFUSED' })
    expectClean(refused, KEY_SECRET, '13812341234')
    expect(refused.detail).toContain('138****1234')
  })
})

/** TC3-HMAC-SHA256 written out from Tencent Cloud's "Signature v3" document, independently. */
function tc3Expected(secretId: string, secretKey: string, host: string, body: string, ts: number): string {
  const date = new Date(ts * 1000).toISOString().slice(0, 10)
  const hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')
  const canonical = ['POST', '/', '', `content-type:application/json; charset=utf-8\nhost:${host}\nx-tc-action:sendsms\n`, 'content-type;host;x-tc-action', hex(body)].join('\n')
  const toSign = ['TC3-HMAC-SHA256', String(ts), `${date}/sms/tc3_request`, hex(canonical)].join('\n')
  const kDate = createHmac('sha256', `TC3${secretKey}`).update(date).digest()
  const kService = createHmac('sha256', kDate).update('sms').digest()
  const kSigning = createHmac('sha256', kService).update('tc3_request').digest()
  const signature = createHmac('sha256', kSigning).update(toSign).digest('hex')
  return `TC3-HMAC-SHA256 Credential=${secretId}/${date}/sms/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=${signature}`
}

describe('Tencent Cloud SMS SendSms (TC3-HMAC-SHA256, 2021-01-11)', () => {
  const SECRET_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3FIXTURE'
  const SECRET_KEY = 'Gu5t9xGARNpq86cd98joQYCN3FIXTURE'
  const config = (base: string): ChannelConfigInput => ({
    kind: 'sms_tencent',
    settings: { baseUrl: base, secretId: SECRET_ID, smsSdkAppId: '1400787878', signName: '幸福物业', templateId: '449739', templateParams: ['place', 'what', 'deadline'] },
    secrets: { secretKey: SECRET_KEY },
  })

  it('reproduces the CanonicalRequest and StringToSign of Tencent\'s worked example', () => {
    // The "Signature v3" document's example (CVM DescribeInstances, 1551113065); its key is masked,
    // so the published intermediate values are what can be checked.
    const payload = '{"Limit": 1, "Filters": [{"Values": ["unnamed"], "Name": "instance-name"}]}'
    const { canonicalRequest, stringToSign } = tc3Sign({ secretId: 'x', secretKey: 'y', service: 'cvm', host: 'cvm.tencentcloudapi.com', payload, timestamp: 1551113065 })
    expect(canonicalRequest).toBe('POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n99d58dfbc6745f6747f36bfca17dee5e6881dc0428a0a36f96199342bc5b4907')
    expect(stringToSign).toBe('TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n2815843035062fffda5fd6f2a44ea8a34818b0dc46f024b8b3786976a3adda7a')
  })

  it('sends the signed POST byte for byte', async () => {
    server.answer({ status: 200, body: { Response: { SendStatusSet: [{ SerialNo: '5000:1045710669157053657849499619', PhoneNumber: PHONE, Fee: 1, SessionContext: message.alertId, Code: 'Ok', Message: 'send success', IsoCode: 'CN' }], RequestId: 'a0aabda6-cf91-4f3e-a81f-9198114a2279' } } })
    const before = server.received.length
    const outcome = await channel(config(server.base)).send(message, { address: PHONE })
    expect(outcome).toMatchObject({ ok: true, status: 'Ok' })
    expect(outcome.detail).toContain('138****1234')
    const req = server.received[before]
    const body = JSON.stringify({ PhoneNumberSet: [PHONE], SmsSdkAppId: '1400787878', TemplateId: '449739', SignName: '幸福物业', TemplateParamSet: ['幸福小区(北区)3号楼', '电梯困人', '15:30'], SessionContext: message.alertId })
    expect(req?.method).toBe('POST')
    expect(req?.url).toBe('/')
    expect(req?.body.equals(Buffer.from(body, 'utf8'))).toBe(true)
    const ts = Math.floor(NOW / 1000)
    const host = new URL(server.base).host
    expect(req?.headers).toMatchObject({
      host,
      'content-type': 'application/json; charset=utf-8',
      'x-tc-action': 'SendSms',
      'x-tc-timestamp': String(ts),
      'x-tc-version': '2021-01-11',
      'x-tc-region': 'ap-guangzhou',
      authorization: tc3Expected(SECRET_ID, SECRET_KEY, host, body, ts),
    })
  })

  it('maps each answer to ok / retryable / retryAfterMs, masking the number', async () => {
    const status = (Code: string) => ({ Response: { SendStatusSet: [{ Code, PhoneNumber: PHONE, Message: Code }], RequestId: 'r' } })
    const error = (Code: string) => ({ Response: { Error: { Code, Message: Code }, RequestId: 'r' } })
    const cases: OutcomeCase[] = [
      { answer: { status: 200, body: status('LimitExceeded.PhoneNumberThirtySecondLimit') }, expected: { ok: false, retryable: true, retryAfterMs: 30_000 } },
      { answer: { status: 200, body: error('RequestLimitExceeded') }, expected: { ok: false, retryable: true, retryAfterMs: 1000, status: 'RequestLimitExceeded' } },
      { answer: { status: 200, body: error('InternalError.Timeout') }, expected: { ok: false, retryable: true } },
      { answer: { status: 200, body: error('AuthFailure.SignatureFailure') }, expected: { ok: false, retryable: false, status: 'AuthFailure.SignatureFailure' } },
      { answer: { status: 200, body: status('InvalidParameterValue.IncorrectPhoneNumber') }, expected: { ok: false, retryable: false } },
      { answer: { status: 503, body: '' }, expected: { ok: false, retryable: true, status: 'http 503' } },
      { answer: { status: 429, body: '' }, expected: { ok: false, retryable: true, status: 'http 429' } },
    ]
    await expectOutcomes(server, () => channel(config(server.base)).send(message, { address: PHONE }), cases, [SECRET_KEY, '13812341234'])
    const refused = await channel(config(await closedBase())).send(message, { address: PHONE })
    expect(refused).toMatchObject({ ok: false, retryable: true, status: 'ECONNREFUSED' })
  })

  it('refuses a number that is not E.164 without calling Tencent', async () => {
    const before = server.received.length
    expect(await channel(config(server.base)).send(message, { address: '13812341234' })).toMatchObject({ ok: false, retryable: false })
    expect(server.received.length).toBe(before)
  })
})
