// Web Push against a local push endpoint. The test plays the browser: it makes the subscription's
// P-256 key pair and auth secret, then DECRYPTS what arrives with its own code (RFC 8291 key
// derivation + RFC 8188 aes128gcm record, node:crypto HKDF and AES-GCM) and verifies the VAPID
// JWT (RFC 8292, ES256) with the application server's public key. Then the endpoint answers as
// push services do: 201, 404/410 gone, 429 with Retry-After, 5xx.
import { createDecipheriv, createECDH, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes, verify } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deniedRange, destinationPolicy } from '../../core/egress.ts'
import { channelConfigSchema, createChannel, type ChannelConfigInput } from '../../notify/channels/index.ts'
import { closedBase, expectOutcomes, message, NOW, vendorServer, type OutcomeCase, type VendorServer } from './vendor-server.ts'
import { ALLOW_LOOPBACK } from '../helpers/egress.ts'
import type { Alert } from '../../core/repos/alerts.ts'
import { render } from '../../notify/render.ts'

const b64url = (b: Buffer) => b.toString('base64url')

// The application server's VAPID key pair.
const vapid = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })
const vapidPublic = Buffer.concat([Buffer.from([4]), Buffer.from(vapid.x ?? '', 'base64url'), Buffer.from(vapid.y ?? '', 'base64url')])
const vapidPrivate = vapid.d ?? ''

// The browser's subscription keys.
const ua = createECDH('prime256v1')
ua.generateKeys()
const uaPublic = ua.getPublicKey()
const authSecret = randomBytes(16)

let server: VendorServer
let endpoint: string
beforeAll(async () => {
  server = await vendorServer()
  endpoint = `${server.base}/push/v2/fixture-subscription-token`
})
afterAll(async () => {
  await server.close()
})

const subscription = (ep: string) => JSON.stringify({ endpoint: ep, keys: { p256dh: b64url(uaPublic), auth: b64url(authSecret) } })
const config: ChannelConfigInput = {
  kind: 'webpush',
  settings: { vapidPublicKey: b64url(vapidPublic), subject: 'mailto:ops@hb.example', ttlSeconds: 3600, allowHttp: true },
  secrets: { vapidPrivateKey: vapidPrivate },
}
const channel = () => createChannel(channelConfigSchema.parse(config), { now: () => NOW, egress: ALLOW_LOOPBACK })

/** RFC 8291 §3.3–3.4 and RFC 8188 §2: one aes128gcm record, decrypted as the browser does. */
function decrypt(body: Buffer): string {
  const salt = body.subarray(0, 16)
  const rs = body.readUInt32BE(16)
  const idlen = body[20] ?? 0
  const asPublic = body.subarray(21, 21 + idlen)
  const record = body.subarray(21 + idlen)
  expect(rs).toBeGreaterThanOrEqual(record.length)
  const ecdhSecret = ua.computeSecret(asPublic)
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic])
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32))
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16))
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12))
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce)
  decipher.setAuthTag(record.subarray(record.length - 16))
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()])
  // The last record ends with the delimiter 0x02 followed by zero padding.
  let end = padded.length - 1
  while (end >= 0 && padded[end] === 0) end--
  expect(padded[end]).toBe(2)
  return padded.subarray(0, end).toString('utf8')
}

/** RFC 8292 §2–3: `vapid t=<JWT>, k=<public key>`, the JWT signed ES256 by the VAPID key. */
function verifyVapid(header: string | undefined): Record<string, unknown> {
  const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(header ?? '')
  expect(m, header).not.toBeNull()
  const [, jwt = '', k = ''] = m ?? []
  expect(k).toBe(b64url(vapidPublic))
  const [h = '', p = '', s = ''] = jwt.split('.')
  expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ typ: 'JWT', alg: 'ES256' })
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(vapidPublic.subarray(1, 33)), y: b64url(vapidPublic.subarray(33)) }, format: 'jwk' })
  expect(verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))).toBe(true)
  return JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
}

describe('Web Push (VAPID, aes128gcm)', () => {
  it('the push endpoint receives a payload only the subscription can decrypt, with a valid VAPID JWT', async () => {
    server.answer({ status: 201 })
    const before = server.received.length
    const outcome = await channel().send(message, { address: subscription(endpoint) })
    expect(outcome).toMatchObject({ ok: true, status: 'http 201' })
    const req = server.received[before]
    expect(req?.method).toBe('POST')
    expect(req?.url).toBe('/push/v2/fixture-subscription-token')
    expect(req?.headers).toMatchObject({ 'content-encoding': 'aes128gcm', 'content-type': 'application/octet-stream', ttl: '3600', urgency: 'high' })
    expect(JSON.parse(decrypt(req?.body ?? Buffer.alloc(0)))).toEqual({
      title: message.subject, body: message.text, url: message.link, alertId: message.alertId, severity: 'critical', locale: 'zh-CN',
    })
    const claims = verifyVapid(req?.headers.authorization)
    expect(claims.aud).toBe(server.base)
    expect(claims.sub).toBe('mailto:ops@hb.example')
    expect(typeof claims.exp).toBe('number')
  })

  it('an entrapment alert as the dispatcher renders it arrives readable in Chinese, title, place and link', async () => {
    const alert = { id: 42, ruleId: 'elevator-entrapment', severity: 'critical', title: 'Passengers trapped', reason: 'trapped = 1', reasonDetail: null, ackDeadline: new Date(NOW + 5 * 60_000) } as unknown as Alert
    const rendered = render('zh-CN', { alert, community: '莘庄花园', spot: '3号楼 1单元', device: '3号楼客梯', link: 'https://hb.example/n/abc', step: 1, timezone: 'Asia/Shanghai', now: new Date(NOW) })
    server.answer({ status: 201 })
    const before = server.received.length
    expect(await channel().send({ ...rendered, alertId: '42', severity: 'critical', locale: 'zh-CN' }, { address: subscription(endpoint) })).toMatchObject({ ok: true })
    const shown = JSON.parse(decrypt(server.received[before]?.body ?? Buffer.alloc(0))) as { title: string; body: string; url: string; alertId: string }
    expect(shown.title).toContain('【紧急】莘庄花园')
    expect(shown.title).toContain('困人')
    expect(shown.body).toContain('紧急告警：电梯困人')
    expect(shown.url).toBe('https://hb.example/n/abc')
    expect(shown.alertId).toBe('42')
  })

  it('a minor alert is sent with normal urgency', async () => {
    server.answer({ status: 201 })
    const before = server.received.length
    await channel().send({ ...message, severity: 'minor' }, { address: subscription(endpoint) })
    expect(server.received[before]?.headers.urgency).toBe('normal')
  })

  it('maps the push service\'s answers: gone is permanent, 429 and 5xx are retried', async () => {
    const cases: OutcomeCase[] = [
      { answer: { status: 410 }, expected: { ok: false, retryable: false, status: 'http 410' } },
      { answer: { status: 404 }, expected: { ok: false, retryable: false, status: 'http 404' } },
      { answer: { status: 429, headers: { 'retry-after': '30' } }, expected: { ok: false, retryable: true, retryAfterMs: 30_000 } },
      { answer: { status: 503 }, expected: { ok: false, retryable: true, status: 'http 503' } },
      { answer: { status: 413 }, expected: { ok: false, retryable: false, status: 'http 413' } },
    ]
    await expectOutcomes(server, () => channel().send(message, { address: subscription(endpoint) }), cases, [vapidPrivate, b64url(authSecret)])
    const refused = await channel().send(message, { address: subscription(`${await closedBase()}/push/x`) })
    expect(refused).toMatchObject({ ok: false, retryable: true, status: 'ECONNREFUSED' })
  })

  it('refuses plain-http endpoints unless allowed, and a malformed subscription, without a request', async () => {
    const before = server.received.length
    const strict = createChannel(channelConfigSchema.parse({ ...config, settings: { ...config.settings, allowHttp: false } }))
    expect(await strict.send(message, { address: subscription(endpoint) })).toMatchObject({ ok: false, retryable: false, status: 'insecure endpoint' })
    expect(await channel().send(message, { address: '{"endpoint":"nope"}' })).toMatchObject({ ok: false, retryable: false, status: 'no subscription' })
    expect(server.received.length).toBe(before)
  })

  it('sends only where the webhooks\' destination policy allows, on the addresses DNS returns', async () => {
    const guarded = (allow: string[]) => createChannel(channelConfigSchema.parse(config), { now: () => NOW, egress: destinationPolicy(allow) })
    const before = server.received.length
    const denied = { ok: false, retryable: false, status: 'destination denied' }
    expect(await guarded([]).send(message, { address: subscription(endpoint) })).toMatchObject(denied)
    // A name (not an address) that resolves to this host: refused at connect time, after DNS.
    const name = hostname()
    const resolved = await lookup(name).catch(() => undefined)
    if (resolved && deniedRange(resolved.address, destinationPolicy([])) !== undefined) {
      const byName = new URL(endpoint)
      byName.hostname = name
      expect(await guarded([]).send(message, { address: subscription(byName.toString()) })).toMatchObject(denied)
    }
    expect(server.received.length).toBe(before)
    // EGRESS_ALLOW lets it through, and the guarded request is the same request.
    server.answer({ status: 201 })
    expect(await guarded(['127.0.0.1']).send(message, { address: subscription(endpoint) })).toMatchObject({ ok: true, status: 'http 201' })
    expect(server.received.length).toBe(before + 1)
    expect(JSON.parse(decrypt(server.received[before]?.body ?? Buffer.alloc(0))) as unknown).toMatchObject({ alertId: message.alertId })
  })
})
