// WeCom, DingTalk and Feishu group bots against a local server: the request is compared byte for
// byte with one built here from the vendor's documented format, and the signatures are computed
// here independently from the vendor's documented formula (fixed clock); then the server answers
// success, the vendor's rate-limit code, HTTP 429/5xx and a refusal, and the outcome is checked.
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { channelConfigSchema, createChannel, type ChannelConfigInput } from '../../notify/channels/index.ts'
import { dingtalkSign } from '../../notify/channels/dingtalk.ts'
import { closedBase, expectClean, expectOutcomes, message, NOW, vendorServer, type OutcomeCase, type VendorServer } from './vendor-server.ts'
import { ALLOW_LOOPBACK } from '../helpers/egress.ts'

let server: VendorServer
beforeAll(async () => {
  server = await vendorServer()
})
afterAll(async () => {
  await server.close()
})

const channel = (config: ChannelConfigInput) => createChannel(channelConfigSchema.parse(config), { now: () => NOW, egress: ALLOW_LOOPBACK })

async function outcomes(config: (base: string) => ChannelConfigInput, cases: (OutcomeCase & { name: string })[], secrets: string[]): Promise<void> {
  await expectOutcomes(server, () => channel(config(server.base)).send(message, {}), cases, secrets)
  const refused = await channel(config(await closedBase())).send(message, {})
  expect(refused).toMatchObject({ ok: false, retryable: true, status: 'ECONNREFUSED' })
  expectClean(refused, ...secrets)
}

describe('WeCom group robot (群机器人)', () => {
  const KEY = '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa'
  const config = (base: string): ChannelConfigInput => ({ kind: 'wecom', settings: { baseUrl: base }, secrets: { key: KEY } })

  it('posts the documented markdown message to /cgi-bin/webhook/send?key=KEY', async () => {
    server.answer({ status: 200, body: { errcode: 0, errmsg: 'ok' } })
    const before = server.received.length
    expect(await channel(config(server.base)).send(message, {})).toMatchObject({ ok: true, status: 'errcode 0' })
    const req = server.received[before]
    expect(req?.method).toBe('POST')
    expect(req?.url).toBe(`/cgi-bin/webhook/send?key=${KEY}`)
    expect(req?.headers['content-type']).toBe('application/json')
    const expected = `{"msgtype":"markdown","markdown":{"content":"**${message.subject}**\\n3号楼 2号电梯 有人被困\\n请在 15:30 前确认\\n[查看并确认](${message.link})"}}`
    expect(req?.body.equals(Buffer.from(expected, 'utf8'))).toBe(true)
  })

  it('text messages carry subject, text and link', async () => {
    server.answer({ status: 200, body: { errcode: 0, errmsg: 'ok' } })
    const before = server.received.length
    await channel({ kind: 'wecom', settings: { baseUrl: server.base, msgtype: 'text' }, secrets: { key: KEY } }).send(message, {})
    const expected = JSON.stringify({ msgtype: 'text', text: { content: `${message.subject}\n${message.text}\n${message.link}` } })
    expect(server.received[before]?.body.toString('utf8')).toBe(expected)
  })

  it("@-mentions the person a page is for (their WeCom userid): <@userid> in markdown, mentioned_list in text", async () => {
    server.answer({ status: 200, body: { errcode: 0, errmsg: 'ok' } })
    const before = server.received.length
    await channel(config(server.base)).send(message, { address: 'ZhangSan' })
    await channel({ kind: 'wecom', settings: { baseUrl: server.base, msgtype: 'text' }, secrets: { key: KEY } }).send(message, { address: 'ZhangSan' })
    const markdown = `{"msgtype":"markdown","markdown":{"content":"**${message.subject}**\\n3号楼 2号电梯 有人被困\\n请在 15:30 前确认\\n[查看并确认](${message.link})\\n<@ZhangSan>"}}`
    const text = `{"msgtype":"text","text":{"content":"${message.subject}\\n3号楼 2号电梯 有人被困\\n请在 15:30 前确认\\n${message.link}","mentioned_list":["ZhangSan"]}}`
    expect(server.received.slice(before).map((r) => r.body.toString('utf8'))).toEqual([markdown, text])
  })

  it('declares the documented 20 messages a minute', () => {
    expect(channel(config(server.base)).limits.perMinute).toBe(20)
  })

  it('maps each answer to ok / retryable / retryAfterMs', async () => {
    await outcomes(config, [
      { name: 'ok', answer: { status: 200, body: { errcode: 0, errmsg: 'ok' } }, expected: { ok: true } },
      { name: '45009', answer: { status: 200, body: { errcode: 45009, errmsg: 'api freq out of limit' } }, expected: { ok: false, retryable: true, retryAfterMs: 60_000, status: 'errcode 45009' } },
      { name: '93000', answer: { status: 200, body: { errcode: 93000, errmsg: 'invalid webhook url' } }, expected: { ok: false, retryable: false, status: 'errcode 93000' } },
      { name: '429', answer: { status: 429, headers: { 'retry-after': '7' } }, expected: { ok: false, retryable: true, retryAfterMs: 7000, status: 'http 429' } },
      { name: '502', answer: { status: 502 }, expected: { ok: false, retryable: true, status: 'http 502' } },
      { name: '404', answer: { status: 404 }, expected: { ok: false, retryable: false, status: 'http 404' } },
    ], [KEY])
  })
})

describe('DingTalk custom robot (自定义机器人, 加签)', () => {
  const TOKEN = 'b0c3a5e6f7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4'
  const SECRET = 'SEC5a3ecf88f2b3eb50db30ecfc00f53033ac909c99bf7f88fd612bda89d7f3a9dc'
  const config = (base: string): ChannelConfigInput => ({ kind: 'dingtalk', settings: { baseUrl: base }, secrets: { accessToken: TOKEN, secret: SECRET } })

  it('signs as documented: urlencode(base64(HmacSHA256(secret, timestamp + "\\n" + secret)))', () => {
    // Independent of the adapter: the formula of DingTalk's 自定义机器人安全设置, with its inputs.
    const expected = createHmac('sha256', Buffer.from(SECRET, 'utf8')).update(Buffer.from(`${NOW}\n${SECRET}`, 'utf8')).digest().toString('base64')
    expect(dingtalkSign(NOW, SECRET)).toBe(expected)
    // A vector published with an open-source DingTalk SDK (dingding crate): 1700000000000 / "secret".
    expect(encodeURIComponent(dingtalkSign(1700000000000, 'secret'))).toBe('OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D')
  })

  it('posts the documented markdown message with access_token, timestamp (ms) and sign', async () => {
    server.answer({ status: 200, body: { errcode: 0, errmsg: 'ok' } })
    const before = server.received.length
    expect(await channel(config(server.base)).send(message, {})).toMatchObject({ ok: true })
    const req = server.received[before]
    const sign = encodeURIComponent(createHmac('sha256', SECRET).update(`${NOW}\n${SECRET}`).digest('base64'))
    expect(req?.url).toBe(`/robot/send?access_token=${TOKEN}&timestamp=${NOW}&sign=${sign}`)
    expect(req?.headers['content-type']).toBe('application/json')
    const expected = JSON.stringify({ msgtype: 'markdown', markdown: { title: message.subject, text: `#### ${message.subject}\n\n${message.text}\n\n[查看并确认](${message.link})` } })
    expect(req?.body.equals(Buffer.from(expected, 'utf8'))).toBe(true)
  })

  it('@-mentions the person a page is for (their DingTalk userId): at.atUserIds, and @userId in the text', async () => {
    server.answer({ status: 200, body: { errcode: 0, errmsg: 'ok' } })
    const before = server.received.length
    await channel(config(server.base)).send(message, { address: 'manager4220' })
    const expected = `{"msgtype":"markdown","markdown":{"title":"${message.subject}","text":"#### ${message.subject}\\n\\n3号楼 2号电梯 有人被困\\n请在 15:30 前确认\\n\\n[查看并确认](${message.link})\\n\\n@manager4220"},"at":{"atUserIds":["manager4220"],"isAtAll":false}}`
    expect(server.received[before]?.body.toString('utf8')).toBe(expected)
  })

  it('declares the documented 20 messages a minute', () => {
    expect(channel(config(server.base)).limits.perMinute).toBe(20)
  })

  it('maps each answer to ok / retryable / retryAfterMs', async () => {
    await outcomes(config, [
      { name: 'ok', answer: { status: 200, body: { errcode: 0, errmsg: 'ok' } }, expected: { ok: true } },
      // Over 20 a minute DingTalk throttles the robot for ten minutes.
      { name: '130101', answer: { status: 200, body: { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' } }, expected: { ok: false, retryable: true, retryAfterMs: 600_000 } },
      { name: '410100', answer: { status: 200, body: { errcode: 410100, errmsg: '发送速度太快而限流' } }, expected: { ok: false, retryable: true, retryAfterMs: 600_000 } },
      { name: '310000', answer: { status: 200, body: { errcode: 310000, errmsg: 'sign not match' } }, expected: { ok: false, retryable: false, status: 'errcode 310000' } },
      { name: '429', answer: { status: 429 }, expected: { ok: false, retryable: true, status: 'http 429' } },
      { name: '500', answer: { status: 500 }, expected: { ok: false, retryable: true, status: 'http 500' } },
    ], [TOKEN, SECRET])
  })
})

describe('Feishu custom bot (自定义机器人, 签名校验)', () => {
  const HOOK = '2ddb5e8e-1f3a-4c5e-9f43-0c9d2a7b6e1f'
  const SECRET = 'qJOvlVNmYdW2tdxd4Ss9Qb'
  const config = (base: string): ChannelConfigInput => ({ kind: 'feishu', settings: { baseUrl: base }, secrets: { hookId: HOOK, secret: SECRET } })

  it('posts timestamp (s), sign = base64(HmacSHA256(key = timestamp + "\\n" + secret, data = "")) and a post message', async () => {
    server.answer({ status: 200, body: { code: 0, msg: 'success', data: {} } })
    const before = server.received.length
    expect(await channel(config(server.base)).send(message, {})).toMatchObject({ ok: true, status: 'code 0' })
    const req = server.received[before]
    expect(req?.url).toBe(`/open-apis/bot/v2/hook/${HOOK}`)
    expect(req?.headers['content-type']).toBe('application/json')
    const ts = Math.floor(NOW / 1000)
    const sign = createHmac('sha256', `${ts}\n${SECRET}`).update(Buffer.alloc(0)).digest('base64')
    const expected = JSON.stringify({
      timestamp: String(ts),
      sign,
      msg_type: 'post',
      content: { post: { zh_cn: { title: message.subject, content: [[{ tag: 'text', text: '3号楼 2号电梯 有人被困' }], [{ tag: 'text', text: '请在 15:30 前确认' }], [{ tag: 'a', text: '查看并确认', href: message.link }]] } } },
    })
    expect(req?.body.equals(Buffer.from(expected, 'utf8'))).toBe(true)
  })

  it('@-mentions the person a page is for (their open_id) with an at element after the link', async () => {
    server.answer({ status: 200, body: { code: 0, msg: 'success', data: {} } })
    const before = server.received.length
    await channel(config(server.base)).send(message, { address: 'ou_7d8a6e6df7621556ce0d21922b676706' })
    const body = JSON.parse(server.received[before]?.body.toString('utf8') ?? '{}') as { content: { post: { zh_cn: { content: unknown[][] } } } }
    expect(body.content.post.zh_cn.content.at(-1)).toEqual([{ tag: 'at', user_id: 'ou_7d8a6e6df7621556ce0d21922b676706' }])
    expect(server.received[before]?.body.toString('utf8')).toContain(`{"tag":"a","text":"查看并确认","href":"${message.link}"}],[{"tag":"at","user_id":"ou_7d8a6e6df7621556ce0d21922b676706"}]]`)
  })

  it('declares the documented 100 a minute and 5 a second', () => {
    expect(channel(config(server.base)).limits).toEqual({ perMinute: 100, perSecond: 5 })
  })

  it('maps each answer to ok / retryable / retryAfterMs', async () => {
    await outcomes(config, [
      { name: 'ok', answer: { status: 200, body: { code: 0, msg: 'success', data: {} } }, expected: { ok: true } },
      { name: '9499', answer: { status: 400, body: { code: 9499, msg: 'too many request', data: {} } }, expected: { ok: false, retryable: true, retryAfterMs: 1000, status: 'errcode 9499' } },
      { name: '19021', answer: { status: 200, body: { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' } }, expected: { ok: false, retryable: false, status: 'errcode 19021' } },
      { name: '429', answer: { status: 429, headers: { 'retry-after': '2' } }, expected: { ok: false, retryable: true, retryAfterMs: 2000 } },
      { name: '503', answer: { status: 503 }, expected: { ok: false, retryable: true, status: 'http 503' } },
    ], [HOOK, SECRET])
  })
})
