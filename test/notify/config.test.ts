// The channel configuration schema: one member per channel kind, vendor defaults filled in, and
// the mistakes an administrator makes (a whole URL where an id belongs) refused at configuration
// time rather than at the first alert.
import net from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { CHANNEL_KINDS } from '../../notify/channel.ts'
import { channelConfigSchema, channelSchemas, createChannel } from '../../notify/channels/index.ts'
import { freePort } from '../helpers/services.ts'
import { message } from './vendor-server.ts'
import { ALLOW_LOOPBACK } from '../helpers/egress.ts'

const sockets: net.Socket[] = []
const silent = net.createServer((s) => sockets.push(s))
afterAll(async () => {
  for (const s of sockets) s.destroy()
  await new Promise<void>((resolve) => silent.close(() => resolve()))
})

describe('channel configuration', () => {
  it('has a schema member for every channel kind', () => {
    const options = channelConfigSchema.options.map((o) => o.shape.kind.value)
    expect([...options].sort()).toEqual([...CHANNEL_KINDS].sort())
    expect(Object.keys(channelSchemas).sort()).toEqual([...CHANNEL_KINDS].sort())
  })

  it('fills in the vendors\' public endpoints', () => {
    const wecom = channelConfigSchema.parse({ kind: 'wecom', settings: {}, secrets: { key: 'k' } })
    expect(wecom.settings).toEqual({ baseUrl: 'https://qyapi.weixin.qq.com', msgtype: 'markdown' })
    const tencent = channelConfigSchema.parse({ kind: 'sms_tencent', settings: { secretId: 'AKID', smsSdkAppId: '1400', signName: 's', templateId: '1' }, secrets: { secretKey: 'x' } })
    expect(tencent.settings).toMatchObject({ baseUrl: 'https://sms.tencentcloudapi.com', region: 'ap-guangzhou' })
  })

  it('refuses a whole webhook URL where the key, token or hook id belongs, and a secret left out', () => {
    expect(channelConfigSchema.safeParse({ kind: 'wecom', settings: {}, secrets: { key: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc' } }).success).toBe(false)
    expect(channelConfigSchema.safeParse({ kind: 'dingtalk', settings: {}, secrets: { accessToken: 'https://oapi.dingtalk.com/robot/send?access_token=abc' } }).success).toBe(false)
    expect(channelConfigSchema.safeParse({ kind: 'feishu', settings: {}, secrets: { hookId: 'https://open.feishu.cn/open-apis/bot/v2/hook/abc' } }).success).toBe(false)
    expect(channelConfigSchema.safeParse({ kind: 'sms_aliyun', settings: { accessKeyId: 'id', signName: 's', templateCode: 'SMS_1' }, secrets: {} }).success).toBe(false)
  })

  it('a vendor that accepts the connection and never answers is a retryable timeout', async () => {
    const port = await freePort()
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve))
    const config = channelConfigSchema.parse({ kind: 'wecom', settings: { baseUrl: `http://127.0.0.1:${port}` }, secrets: { key: 'k' } })
    const outcome = await createChannel(config, { timeoutMs: 300, egress: ALLOW_LOOPBACK }).send(message, {})
    expect(outcome).toMatchObject({ ok: false, retryable: true, status: 'timeout' })
  })
})
