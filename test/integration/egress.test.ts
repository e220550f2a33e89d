// The egress guard (issue 18, item 1) against every way out: one table of destinations — loopback in
// every spelling, IPv6, private, link-local, CGNAT, multicast, names that resolve to loopback — run
// against every channel kind, Web Push and webhooks, at registration (400 naming the field) and at
// delivery (refused; a listener on 127.0.0.1 sees no connection). A server the allow-list names
// (127.0.0.2, as EGRESS_ALLOW=127.0.0.2) that redirects to loopback gets its request, and the
// redirect is not followed. What a company's people read in the delivery log says failed or
// retrying, never why on the wire; the office reads why.
import { createECDH, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import webpush from 'web-push'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { buildApp, type App } from '../../api/app.ts'
import { WebhookDispatcher } from '../../notify/webhook-dispatcher.ts'
import { webhookOutbox } from '../../notify/webhook-outbox.ts'
import { seal } from '../../core/crypto.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { DENY_ALL_SPECIAL } from '../../core/egress.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { provisionDevices } from '../../core/provision.ts'
import { insertChannel, insertContact, upsertPolicy, upsertRota } from '../../core/repos/notify-setup.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { insertWebhook } from '../../core/repos/webhooks.ts'
import type { ChannelKind, Recipient } from '../../notify/channel.ts'
import { channelConfigSchema, createChannel, type ChannelConfigInput } from '../../notify/channels/index.ts'
import { DEFAULT_NOTIFY_DISPATCH } from '../../notify/dispatcher.ts'
import { Notifications } from '../../notify/notifications.ts'
import { ALLOW_GATEWAY, GATEWAY_HOST } from '../helpers/egress.ts'
import { createTestDatabase, eventually, freePort, hasPostgres } from '../helpers/services.ts'
import { message } from '../notify/vendor-server.ts'

const pg = await hasPostgres()

/** A name other than `localhost` that the hosts file maps to loopback, so the resolver (not a spelling) is what finds loopback. */
function hostsFileLoopbackName(): string | undefined {
  for (const line of readFileSync('/etc/hosts', 'utf8').split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/)
    if (address?.startsWith('127.') || address === '::1') {
      const name = names.find((n) => n !== 'localhost' && !n.endsWith('.localhost'))
      if (name) return name
    }
  }
  return undefined
}

/** The table: each destination as it is written in a URL, and the range the guard names. */
const TARGETS: [string, string][] = [
  ['127.0.0.1', 'loopback'],
  ['2130706433', 'loopback'],
  ['0177.0.0.1', 'loopback'],
  ['0x7f.0.0.1', 'loopback'],
  ['127.1', 'loopback'],
  ['0.0.0.0', 'unspecified'],
  ['[::1]', 'loopback'],
  ['[::]', 'unspecified'],
  ['[::ffff:127.0.0.1]', 'loopback'],
  ['[::ffff:7f00:1]', 'loopback'],
  ['[::7f00:1]', 'ipv4Compatible'],
  ['[64:ff9b::7f00:1]', 'loopback'],
  ['localhost', 'loopback'],
  ['169.254.169.254', 'linkLocal'],
  ['[fe80::1]', 'linkLocal'],
  ['10.0.0.1', 'private'],
  ['192.168.1.1', 'private'],
  ['[fd00::1]', 'uniqueLocal'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['224.0.0.1', 'multicast'],
  ['255.255.255.255', 'broadcast'],
]
const hostsName = hostsFileLoopbackName()
if (hostsName) TARGETS.push([hostsName, 'loopback'])

const KINDS: ChannelKind[] = ['wecom', 'dingtalk', 'feishu', 'sms_aliyun', 'sms_tencent', 'sms_http', 'email', 'webpush']
const VAPID = webpush.generateVAPIDKeys()
const ecdh = createECDH('prime256v1')
ecdh.generateKeys()
const subscription = (endpoint: string) => JSON.stringify({ endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } })

/** A channel of `kind` whose destination is `host` (as in a URL) and `port`. */
function configOf(kind: ChannelKind, host: string, port: number): ChannelConfigInput {
  const base = `http://${host}:${port}`
  switch (kind) {
    case 'wecom':
      return { kind, settings: { baseUrl: base }, secrets: { key: 'k' } }
    case 'dingtalk':
      return { kind, settings: { baseUrl: base }, secrets: { accessToken: 't' } }
    case 'feishu':
      return { kind, settings: { baseUrl: base }, secrets: { hookId: 'h' } }
    case 'sms_aliyun':
      return { kind, settings: { baseUrl: base, accessKeyId: 'id', signName: 'sign', templateCode: 'SMS_1' }, secrets: { accessKeySecret: 's' } }
    case 'sms_tencent':
      return { kind, settings: { baseUrl: base, secretId: 'id', smsSdkAppId: '1400000000', signName: 'sign', templateId: '1' }, secrets: { secretKey: 's' } }
    case 'sms_http':
      return { kind, settings: { url: `${base}/sms`, headers: { 'x-api-key': 'manager-header' } }, secrets: {} }
    case 'email':
      return { kind, settings: { host: host.replace(/^\[(.*)\]$/, '$1'), port, requireTLS: false, from: 'alerts@hb.example' }, secrets: {} }
    case 'webpush':
      return { kind, settings: { vapidPublicKey: VAPID.publicKey, subject: 'mailto:ops@hb.example', allowHttp: true }, secrets: { vapidPrivateKey: VAPID.privateKey } }
  }
}

/** Whom a page of `kind` goes to; for Web Push the destination is the subscription's endpoint. */
function recipientOf(kind: ChannelKind, host: string, port: number): Recipient {
  if (kind === 'email') return { address: 'crew@hb.example' }
  if (kind === 'webpush') return { address: subscription(`http://${host}:${port}/push`) }
  if (kind.startsWith('sms')) return { address: '+8613812341234' }
  return {}
}

/** The field a refusal at registration names. */
const FIELD: Record<ChannelKind, string> = {
  wecom: 'body.settings.baseUrl',
  dingtalk: 'body.settings.baseUrl',
  feishu: 'body.settings.baseUrl',
  sms_aliyun: 'body.settings.baseUrl',
  sms_tencent: 'body.settings.baseUrl',
  sms_http: 'body.settings.url',
  email: 'body.settings.host',
  webpush: 'body.address',
}

/** Words that would tell a company's people what is on the wire (whole words: an id may hold the digits 302). */
const NETWORK_DETAIL = /destination|denied|loopback|127\.|::1|localhost|\bhttp\b|ECONN|errcode|\b302\b|EDNS|ETIMEDOUT|timeout|unreachable|smtp/i

let trap: net.Server
let trap6: net.Server | undefined
let trapPort = 0
let trapped = 0
let redirector: http.Server
let redirectorPort = 0
let redirected = 0

beforeAll(async () => {
  // Anything that connects here got out: SMTP, HTTP, anything, on either loopback.
  trapPort = await freePort()
  trap = net.createServer((socket) => {
    trapped++
    socket.destroy()
  })
  await new Promise<void>((resolve) => trap.listen(trapPort, '127.0.0.1', resolve))
  trap6 = net.createServer((socket) => {
    trapped++
    socket.destroy()
  })
  // A host without IPv6 loopback cannot be reached on [::1] by anyone; the IPv4 trap stays.
  await new Promise<void>((resolve) => trap6?.once('error', () => resolve()).listen(trapPort, '::1', resolve))
  // The allow-listed server: it answers every request with a redirect to the trap.
  redirectorPort = await freePort()
  redirector = http.createServer((req, res) => {
    redirected++
    req.resume()
    res.writeHead(302, { location: `http://127.0.0.1:${trapPort}/` }).end()
  })
  await new Promise<void>((resolve) => redirector.listen(redirectorPort, GATEWAY_HOST, resolve))
})

afterAll(async () => {
  await new Promise((resolve) => trap.close(resolve))
  if (trap6?.listening) await new Promise((resolve) => trap6?.close(resolve))
  await new Promise((resolve) => redirector.close(resolve))
})

describe('the egress guard at delivery, for every channel kind', () => {
  it.each(KINDS)('%s: every destination of the table is refused before connecting, and nothing reaches the listener', async (kind) => {
    const outcomes: Record<string, unknown> = {}
    for (const [host, range] of TARGETS) {
      const channel = createChannel(channelConfigSchema.parse(configOf(kind, host, trapPort)), { egress: ALLOW_GATEWAY, timeoutMs: 2000 })
      const outcome = await channel.send(message, recipientOf(kind, host, trapPort))
      await channel.close?.()
      outcomes[host] = outcome
      expect(outcome, `${kind} → ${host}`).toMatchObject({ ok: false, retryable: false, status: 'destination denied' })
      expect(outcome.detail, `${kind} → ${host}`).toContain(range)
    }
    expect(trapped).toBe(0)
  })

  it.each(KINDS.filter((k) => k !== 'email'))('%s: a redirect from an allow-listed server to loopback is not followed', async (kind) => {
    const before = redirected
    const channel = createChannel(channelConfigSchema.parse(configOf(kind, GATEWAY_HOST, redirectorPort)), { egress: ALLOW_GATEWAY, timeoutMs: 2000 })
    const outcome = await channel.send(message, recipientOf(kind, GATEWAY_HOST, redirectorPort))
    expect(outcome).toMatchObject({ ok: false })
    expect(redirected).toBe(before + 1)
    expect(trapped).toBe(0)
  })

  it('without an allow-list, the allow-listed server itself is refused too (the guard is on by default)', async () => {
    const channel = createChannel(channelConfigSchema.parse(configOf('sms_http', GATEWAY_HOST, redirectorPort)))
    expect(await channel.send(message, recipientOf('sms_http', GATEWAY_HOST, redirectorPort))).toMatchObject({ ok: false, status: 'destination denied' })
    const mail = createChannel(channelConfigSchema.parse(configOf('email', GATEWAY_HOST, redirectorPort)), { egress: DENY_ALL_SPECIAL })
    expect(await mail.send(message, recipientOf('email', GATEWAY_HOST, redirectorPort))).toMatchObject({ ok: false, status: 'destination denied' })
    await mail.close?.()
  })
})

describe.skipIf(!pg)('the egress guard at registration, and what the delivery log says to whom', () => {
  let db: Db
  let drop: () => Promise<void>
  let app: App
  let alerts: AlertService
  let notifications: Notifications
  const auth: Record<'admin' | 'manager', { authorization: string }> = {} as never
  let crew = ''
  const secretKey = randomBytes(32)

  beforeAll(async () => {
    const t = await createTestDatabase()
    drop = t.drop
    db = await openDb({ url: t.url })
    const features = await migrate(db, { log: silentLogger })
    await createCompany(db, { id: 'co-a', name: 'Company a', contact: null })
    await createCommunity(db, 'cm-a', { name: 'Community a', district: null, street: null, address: null, lat: null, lon: null })
    await assignCommunity(db, 'cm-a', 'co-a', 'fixture', null)
    await provisionDevices(db, [{ id: 'el-1', kind: 'elevator', communityId: 'cm-a' }])
    await upsertRule(db, { id: 'entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { id: 'entrapment', name: 'Entrapment', severity: 'critical' } })
    const token = async (userId: string) => ({ authorization: `Bearer ${(await issueToken(db, userId)).token}` })
    auth.admin = await token(await insertUser(db, { name: 'office', role: 'admin' }))
    const manager = await insertUser(db, { name: 'manager-a', role: 'crew', companyId: 'co-a' })
    crew = await insertUser(db, { name: 'a1', role: 'crew', companyId: 'co-a' })
    auth.manager = await token(manager)
    await upsertRota(db, { id: 'a-manager', companyId: 'co-a', role: 'manager', name: 'managers', timezone: 'Asia/Shanghai', startsOn: '2026-01-05', handoverTime: '09:00', members: [manager], createdBy: 'fixture' })
    await upsertRota(db, { id: 'a-crew', companyId: 'co-a', role: 'crew', name: 'crew', timezone: 'Asia/Shanghai', startsOn: '2026-01-05', handoverTime: '09:00', members: [crew], createdBy: 'fixture' })
    alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger)
    alerts.outboxes.push(webhookOutbox)
    notifications = new Notifications(db, alerts, secretKey, { ...DEFAULT_NOTIFY_DISPATCH, destinations: ALLOW_GATEWAY, retryBaseMs: 60_000, pollMs: 50, linkBaseUrl: 'https://hb.example', linkTtlMs: 3_600_000 }, silentLogger)
    app = await buildApp({ db, features, metrics: createMetrics({ defaults: false }), alerts, notify: notifications.context }, silentLogger, { egress: ALLOW_GATEWAY })
    await app.ready()
  })

  afterAll(async () => {
    await notifications.stop()
    await app.close()
    await db.close()
    await drop()
  })

  const register = (headers: { authorization: string }, kind: ChannelKind, host: string) =>
    app.inject({ method: 'POST', url: '/api/v1/notify/channels', headers, payload: { companyId: 'co-a', name: `${kind} ${host}`, ...configOf(kind, host, trapPort) } })

  it.each(KINDS.filter((k) => k !== 'webpush'))('%s: a channel aimed at any destination of the table is refused with 400 naming the field', async (kind) => {
    for (const [host, range] of TARGETS) {
      const res = await register(auth.admin, kind, host)
      expect(res.statusCode, `${kind} → ${host}`).toBe(400)
      const body = res.json<{ code: string; message: string }>()
      expect(body.code).toBe('destination_denied')
      expect(body.message).toContain(FIELD[kind])
      expect(body.message).toContain(range)
    }
    // The allow-listed server may be registered (by the office, for a vendor kind).
    expect((await register(auth.admin, kind, GATEWAY_HOST)).statusCode).toBe(201)
  })

  it('webpush: a subscription whose endpoint is any destination of the table is refused with 400 naming the field', async () => {
    for (const [host, range] of TARGETS) {
      const res = await app.inject({ method: 'POST', url: `/api/v1/users/${crew}/contact-points`, headers: auth.admin, payload: { kind: 'webpush', address: subscription(`https://${host}:${trapPort}/push`) } })
      expect(res.statusCode, host).toBe(400)
      expect(res.json<{ code: string; message: string }>()).toMatchObject({ code: 'destination_denied' })
      expect(res.json<{ message: string }>().message).toContain(FIELD.webpush)
      expect(res.json<{ message: string }>().message).toContain(range)
    }
  })

  it('webhooks: a webhook to any destination of the table is refused with 400 naming the field', async () => {
    for (const [host, range] of TARGETS) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: auth.admin, payload: { url: `http://${host}:${trapPort}/hook` } })
      expect(res.statusCode, host).toBe(400)
      expect(res.json<{ code: string; message: string }>()).toMatchObject({ code: 'destination_denied' })
      expect(res.json<{ message: string }>().message).toContain('body.url')
      expect(res.json<{ message: string }>().message).toContain(range)
    }
  })

  it("a company manager cannot move a vendor channel off the vendor's host, even to a public one; the guard holds for what a manager may set", async () => {
    for (const kind of ['wecom', 'dingtalk', 'feishu', 'sms_aliyun', 'sms_tencent'] as const) {
      const res = await register(auth.manager, kind, 'vendor-lookalike.example.com')
      expect(res.statusCode, kind).toBe(403)
      expect(res.json<{ message: string }>().message).toContain('body.settings.baseUrl')
    }
    // The vendor's own host (the default) is the manager's to use.
    const own = await app.inject({ method: 'POST', url: '/api/v1/notify/channels', headers: auth.manager, payload: { companyId: 'co-a', kind: 'wecom', name: '维修群', secrets: { key: 'k' } } })
    expect(own.statusCode).toBe(201)
    expect((await register(auth.manager, 'sms_http', '127.0.0.1')).json()).toMatchObject({ code: 'destination_denied' })
    expect((await register(auth.manager, 'email', '2130706433')).json()).toMatchObject({ code: 'destination_denied' })
  })

  it('a host written as a placeholder is refused, and a stored channel aimed at loopback cannot be enabled again', async () => {
    const placeholder = await app.inject({ method: 'POST', url: '/api/v1/notify/channels', headers: auth.manager, payload: { companyId: 'co-a', kind: 'sms_http', name: 'sms', settings: { url: 'http://{{secret.host}}/sms' }, secrets: { host: '127.0.0.1' } } })
    expect(placeholder.json<{ code: string; message: string }>()).toMatchObject({ code: 'validation_failed' })
    expect(placeholder.json<{ message: string }>().message).toContain('body.settings.url')
    const id = crypto.randomUUID()
    await insertChannel(db, { id, companyId: 'co-a', kind: 'sms_http', name: 'old sms', settings: { url: `http://127.1:${trapPort}/sms` }, secrets: null, createdBy: 'fixture' })
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/notify/channels/${id}`, headers: auth.manager, payload: { enabled: false } })).statusCode).toBe(200)
    const again = await app.inject({ method: 'PATCH', url: `/api/v1/notify/channels/${id}`, headers: auth.manager, payload: { enabled: true } })
    expect(again.statusCode).toBe(400)
    expect(again.json<{ code: string; message: string }>()).toMatchObject({ code: 'destination_denied' })
    expect(again.json<{ message: string }>().message).toMatch(/^settings\.url: .*loopback/)
  })

  it("webhooks at delivery: each destination of the table, and the allow-listed redirect, fails without a connection to loopback", async () => {
    const dispatcher = new WebhookDispatcher(db, alerts.bus, { retryBaseMs: 60_000, retryMaxMs: 60_000, maxAttempts: 1, timeoutMs: 2000, pollMs: 50, destinations: ALLOW_GATEWAY }, silentLogger)
    const urls = [...TARGETS.map(([host]) => `http://${host}:${trapPort}/hook`), `http://${GATEWAY_HOST}:${redirectorPort}/hook`]
    // Registered past the API (as if a name had resolved elsewhere then).
    for (const url of urls) await insertWebhook(db, { id: crypto.randomUUID(), url, secret: 'x'.repeat(32), severities: null, communityIds: null, eventTypes: null, createdBy: 'test' })
    const before = redirected
    await dispatcher.start()
    try {
      await alerts.report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active' }, 'rules-engine')
      const rows = await eventually(async () => {
        const all = await db.query<{ url: string; status: string; lastError: string | null }>(
          'SELECT w.url, d.status, d.last_error AS "lastError" FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id',
        )
        return all.length === urls.length && all.every((r) => r.status === 'failed') ? all : undefined
      }, 10_000, 'every webhook delivery failed')
      for (const [host, range] of TARGETS) expect(rows.find((r) => r.url === `http://${host}:${trapPort}/hook`)?.lastError, host).toBe(`destination denied (${range})`)
      expect(rows.find((r) => r.url.includes(GATEWAY_HOST))?.lastError).toBe('redirect not followed')
      expect(redirected).toBe(before + 1)
      expect(trapped).toBe(0)
    } finally {
      await dispatcher.stop()
    }
  })

  describe('through the outbox, every channel kind', () => {
    /** Where each kind's stored channel (or the contact's Web Push endpoint) points: a spelling each, and one redirect. */
    const AIM: Record<ChannelKind, [string, number?]> = {
      wecom: ['127.0.0.1'],
      dingtalk: ['2130706433'],
      feishu: [GATEWAY_HOST, -1],
      sms_aliyun: ['[::ffff:7f00:1]'],
      sms_tencent: ['0x7f.0.0.1'],
      sms_http: ['localhost'],
      email: [hostsName ?? '127.1'],
      webpush: ['[::1]'],
    }
    const CONTACT: Partial<Record<ChannelKind, 'phone' | 'email' | 'webpush'>> = { sms_aliyun: 'phone', sms_tencent: 'phone', sms_http: 'phone', email: 'email', webpush: 'webpush' }

    beforeAll(async () => {
      // Only the channels each case stores: those registered above (and their queued pages) go.
      await db.query('DELETE FROM notify_deliveries')
      await db.query('DELETE FROM notify_channels')
      await upsertPolicy(db, 'co-a', 'critical', { steps: [{ rota: 'crew', bots: true }, { rota: 'duty' }] }, 'fixture')
      await provisionDevices(db, KINDS.map((kind) => ({ id: `el-${kind}`, kind: 'elevator', communityId: 'cm-a' })))
      await notifications.start()
    })

    it.each(KINDS)("%s: the company's people read failed, the office reads why; nothing reached loopback", async (kind) => {
      await db.query('DELETE FROM notify_channels')
      await db.query('DELETE FROM contact_points')
      const [host, port = trapPort] = AIM[kind]
      const target = port === -1 ? redirectorPort : port
      // Stored past the API (registered before the guard, or a name that resolved elsewhere then).
      const c = channelConfigSchema.parse(configOf(kind, host, target))
      const id = crypto.randomUUID()
      await insertChannel(db, { id, companyId: 'co-a', kind, name: `${kind} group`, settings: c.settings, secrets: seal(secretKey, JSON.stringify(c.secrets), id), createdBy: 'fixture' })
      const contact = CONTACT[kind]
      if (contact) await insertContact(db, { userId: crew, kind: contact, address: contact === 'phone' ? '+8613812341234' : (recipientOf(kind, host, target).address ?? ''), locale: 'zh-CN', position: 0 })
      const before = redirected
      const { alert } = await alerts.report({ ruleId: 'entrapment', deviceId: `el-${kind}`, condition: 'active' }, 'rules-engine')
      type Entry = { channel: { kind: string }; to: string; status: string; summary: string; log: { status: string; detail: string }[] }
      const read = async (headers: { authorization: string }) => (await app.inject({ url: `/api/v1/alerts/${alert?.id}/deliveries`, headers })).json<{ items: Entry[] }>().items
      const office = await eventually(async () => {
        const items = await read(auth.admin)
        return items.length === 1 && items[0]?.status === 'failed' ? items[0] : undefined
      }, 10_000, 'the attempt logged')
      // The office reads what happened: refused by the guard, or the redirect answered and not followed.
      expect(office.log.map((l) => l.status)).toEqual([port === -1 ? 'http 302' : 'destination denied'])
      expect(redirected).toBe(before + (port === -1 ? 1 : 0))
      const company = await read(auth.manager)
      expect(company).toHaveLength(1)
      expect(company[0]?.log.map((l) => [l.status, l.detail])).toEqual([['failed', 'not delivered']])
      expect(company[0]?.summary).toMatch(/: failed$/)
      expect(JSON.stringify(company)).not.toMatch(NETWORK_DETAIL)
      // A Web Push recipient is a subscription (endpoint and keys): never shown whole.
      if (kind === 'webpush') expect([office.to, company[0]?.to]).toEqual([`[::1]:${trapPort}`, 'browser'])
      const alertView = (await app.inject({ url: `/api/v1/alerts/${alert?.id}`, headers: auth.manager })).json<{ notifications: Entry[] }>()
      expect(JSON.stringify(alertView.notifications)).not.toMatch(NETWORK_DETAIL)
      expect(trapped).toBe(0)
    })
  })
})
