// The generic HTTP SMS adapter against a real local HTTP server: the request as configured (with
// placeholders escaped for the body's format and secrets filled in), and how each answer maps
// onto the outbox's retry rules.
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Message } from '../../notify/channel.ts'
import { createHttpSmsChannel, httpSmsConfigSchema } from '../../notify/channels/sms-http.ts'
import { freePort } from '../helpers/services.ts'
import { ALLOW_LOOPBACK } from '../helpers/egress.ts'

const LOCAL = { egress: ALLOW_LOOPBACK }

interface Seen {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
}
const seen: Seen[] = []
let answer: { status: number; body?: string; headers?: Record<string, string> } = { status: 200 }
let server: http.Server
let base = ''

const message: Message = {
  locale: 'zh-CN',
  alertId: '42',
  severity: 'critical',
  subject: 's',
  text: 't',
  short: '【紧急】梅陇"一村"&电梯困人\n10:05前确认 https://hb.example/n/1.abc',
  link: 'https://hb.example/n/1.abc',
  params: {},
}

beforeAll(async () => {
  const port = await freePort()
  server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString('utf8')))
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '')
    })
  })
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  base = `http://127.0.0.1:${port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

describe('HTTP template SMS adapter', () => {
  it('sends a JSON body with the text escaped and the secret in a header', async () => {
    answer = { status: 200, body: '{"code":0}' }
    const sms = createHttpSmsChannel({ url: `${base}/send`, headers: { authorization: 'Bearer {{secret.token}}' }, success: { bodyContains: '"code":0' } }, { token: 'tk-1' }, LOCAL)
    const out = await sms.send(message, { address: '+8613812341234' })
    expect(out).toMatchObject({ ok: true, status: 'http 200' })
    const req = seen.at(-1)
    expect(req).toMatchObject({ method: 'POST', url: '/send' })
    expect(req?.headers.authorization).toBe('Bearer tk-1')
    expect(req?.headers['content-type']).toBe('application/json')
    expect(JSON.parse(req?.body ?? '')).toEqual({ to: '+8613812341234', text: message.short })
  })

  it('percent-encodes a form body and a GET query', async () => {
    answer = { status: 200 }
    const form = createHttpSmsChannel({ url: `${base}/form`, bodyFormat: 'form', body: 'mobile={{phone}}&content={{text}}' }, {}, LOCAL)
    await form.send(message, { address: '13812341234' })
    expect(new URLSearchParams(seen.at(-1)?.body).get('content')).toBe(message.short)
    const get = createHttpSmsChannel({ url: `${base}/get?to={{phone}}&msg={{text}}&key={{secret.k}}`, method: 'GET' }, { k: 'a&b' }, LOCAL)
    await get.send(message, { address: '13812341234' })
    const url = new URL(`${base}${seen.at(-1)?.url ?? ''}`)
    expect([url.searchParams.get('msg'), url.searchParams.get('key')]).toEqual([message.short, 'a&b'])
  })

  it('maps answers onto retries: 5xx, 429 (with Retry-After) and a missing success marker retry; other 4xx do not', async () => {
    const sms = createHttpSmsChannel({ url: `${base}/x`, success: { bodyContains: 'OK' } }, {}, { ...LOCAL, now: () => new Date(Date.UTC(2026, 0, 1)) })
    answer = { status: 503 }
    expect(await sms.send(message, { address: '1' })).toMatchObject({ ok: false, retryable: true, status: 'http 503' })
    answer = { status: 429, headers: { 'retry-after': '30' } }
    expect(await sms.send(message, { address: '1' })).toMatchObject({ ok: false, retryable: true, retryAfterMs: 30_000 })
    answer = { status: 429, headers: { 'retry-after': 'Thu, 01 Jan 2026 00:01:00 GMT' } }
    expect(await sms.send(message, { address: '1' })).toMatchObject({ retryAfterMs: 60_000 })
    answer = { status: 401 }
    expect(await sms.send(message, { address: '1' })).toMatchObject({ ok: false, retryable: false, status: 'http 401' })
    answer = { status: 200, body: 'QUOTA' }
    expect(await sms.send(message, { address: '1' })).toMatchObject({ ok: false, retryable: true })
  })

  it('a refused connection is retryable and names the socket error, not the URL', async () => {
    const port = await freePort()
    const sms = createHttpSmsChannel({ url: `http://127.0.0.1:${port}/?key={{secret.k}}` }, { k: 'hidden' }, LOCAL)
    const out = await sms.send(message, { address: '1' })
    expect(out).toMatchObject({ ok: false, retryable: true, status: 'ECONNREFUSED' })
    expect(JSON.stringify(out)).not.toContain('hidden')
  })

  it('refuses settings that are not a URL of http(s)', () => {
    expect(httpSmsConfigSchema.safeParse({ url: 'file:///etc/passwd' }).success).toBe(false)
  })
})
