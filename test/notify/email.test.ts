// E-mail through a real SMTP server (smtp-server) on 127.0.0.1: the message arrives over STARTTLS
// with the subject, text and HTML parts and the recipient it was sent to, the mail server's reply
// codes decide retrying (4xx later, 5xx never), and a server that does not offer STARTTLS gets
// nothing when TLS is required. The certificate is a fixture for 127.0.0.1 signed by itself, given
// to the channel as its private CA.
import { readFileSync } from 'node:fs'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'
import { afterEach, describe, expect, it } from 'vitest'
import { channelConfigSchema, createChannel, type ChannelConfigInput } from '../../notify/channels/index.ts'
import { freePort } from '../helpers/services.ts'
import { expectClean, message } from './vendor-server.ts'
import { ALLOW_LOOPBACK } from '../helpers/egress.ts'

const cert = readFileSync(new URL('fixtures/localhost-cert.pem', import.meta.url), 'utf8')
const key = readFileSync(new URL('fixtures/localhost-key.pem', import.meta.url), 'utf8')
const PASSWORD = 'smtp-fixture-password-8f2c'

interface Received {
  mail: ParsedMail
  secure: boolean
  rcpt: string[]
}

let servers: SMTPServer[] = []
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  servers = []
})

async function smtp(options: Partial<SMTPServerOptions> = {}): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = []
  const server = new SMTPServer({
    key,
    cert,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, cb) {
      if (auth.username === 'alerts' && auth.password === PASSWORD) cb(null, { user: 'alerts' })
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }))
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          received.push({ mail, secure: session.secure, rcpt: session.envelope.rcptTo.map((r) => r.address) })
          cb()
        })
        .catch(cb)
    },
    logger: false,
    ...options,
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  servers.push(server)
  return { port, received }
}

const config = (port: number, extra: Partial<{ username: string; password: string }> = {}): ChannelConfigInput => ({
  kind: 'email',
  settings: { host: '127.0.0.1', port, from: '"Housing Brain" <alerts@hb.example>', tlsCa: cert, username: extra.username ?? 'alerts' },
  secrets: { password: extra.password ?? PASSWORD },
})
const channel = (c: ChannelConfigInput) => createChannel(channelConfigSchema.parse(c), { timeoutMs: 5000, egress: ALLOW_LOOPBACK })

describe('e-mail over SMTP', () => {
  it('delivers subject, text and HTML to the recipient over STARTTLS', async () => {
    const { port, received } = await smtp()
    const ch = channel(config(port))
    const outcome = await ch.send({ ...message, html: '<h1>电梯困人</h1>' }, { address: 'li.lei@wy.example', name: '李雷' })
    await ch.close?.()
    expect(outcome).toMatchObject({ ok: true, retryable: false, status: 'smtp 250' })
    expect(received).toHaveLength(1)
    const got = received[0]
    expect(got?.secure).toBe(true)
    expect(got?.rcpt).toEqual(['li.lei@wy.example'])
    expect(got?.mail.subject).toBe(message.subject)
    expect(got?.mail.to).toMatchObject({ value: [{ address: 'li.lei@wy.example', name: '李雷' }] })
    expect(got?.mail.from).toMatchObject({ value: [{ address: 'alerts@hb.example', name: 'Housing Brain' }] })
    expect(got?.mail.text?.trim()).toBe(`${message.text}\n\n查看并确认: ${message.link}`)
    expect(got?.mail.html).toBe(`<h1>电梯困人</h1><p><a href="${message.link}">查看并确认</a></p>`)
    expect(got?.mail.headers.get('x-hb-alert-id')).toBe(message.alertId)
    expectClean(outcome, PASSWORD)
  })

  it('speaks implicit TLS from the first byte when secure is set (port 465 style)', async () => {
    const { port, received } = await smtp({ secure: true })
    const c = config(port)
    const outcome = await channel({ ...c, settings: { ...c.settings, secure: true } } as ChannelConfigInput).send(message, { address: 'li.lei@wy.example' })
    expect(outcome).toMatchObject({ ok: true })
    expect(received[0]?.secure).toBe(true)
  })

  it('sends nothing to a server that does not offer STARTTLS when TLS is required', async () => {
    const { port, received } = await smtp({ disabledCommands: ['STARTTLS'], authOptional: true, allowInsecureAuth: true })
    const outcome = await channel(config(port)).send(message, { address: 'li.lei@wy.example' })
    expect(outcome).toMatchObject({ ok: false, retryable: false, status: 'ETLS' })
    expect(received).toHaveLength(0)
  })

  it('refused credentials are permanent and the password is not in the outcome', async () => {
    const { port, received } = await smtp()
    const outcome = await channel(config(port, { password: 'wrong-password-123' })).send(message, { address: 'li.lei@wy.example' })
    expect(outcome).toMatchObject({ ok: false, retryable: false, status: 'smtp 535' })
    expectClean(outcome, 'wrong-password-123', PASSWORD)
    expect(received).toHaveLength(0)
  })

  it('a 4xx reply is retried later, a 5xx reply never', async () => {
    const reject = (code: number) => smtp({
      onRcptTo(_address, _session, cb) {
        cb(Object.assign(new Error(code === 451 ? 'Try again later' : 'No such user'), { responseCode: code }))
      },
    })
    const temp = await reject(451)
    expect(await channel(config(temp.port)).send(message, { address: 'li.lei@wy.example' })).toMatchObject({ ok: false, retryable: true, status: 'smtp 451' })
    const perm = await reject(550)
    expect(await channel(config(perm.port)).send(message, { address: 'nobody@wy.example' })).toMatchObject({ ok: false, retryable: false, status: 'smtp 550' })
  })

  it('a mail server that refuses connections is retried later', async () => {
    const outcome = await channel(config(await freePort())).send(message, { address: 'li.lei@wy.example' })
    expect(outcome).toMatchObject({ ok: false, retryable: true })
    expectClean(outcome, PASSWORD)
  })
})
