// The broker's edge under attack (issue 7): client ids tied to identities (item 2), bounded
// password checks and a throttle that cannot be aimed at a device (item 3), the WebSocket packet
// limit (item 4), no retained telemetry (item 9), and service sessions that end with their
// token (item 7). Attackers connect from other loopback addresses (127.0.0.x) where it matters.
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import mqtt, { MqttClient, type IClientOptions } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { insertUser, issueToken, revokeTokens, setUserDisabled } from '../../core/repos/tokens.ts'
import { ACCEPTED, BAD_USERNAME_OR_PASSWORD, IDENTIFIER_REJECTED, loginFrom as login, SERVER_UNAVAILABLE } from '../helpers/mqtt-login.ts'
import { createTestDatabase, eventually, freePort, hasPostgres } from '../helpers/services.ts'
import { startStack, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

const counter = async (c: { get(): Promise<{ values: { value: number }[] }> }) => (await c.get()).values[0]?.value ?? 0

describe.skipIf(!pgUp)('broker edge', () => {
  let stack: TestStack
  /** Small limits and a fast token recheck, for the tests that need them. */
  let tight: TestStack
  const drops: (() => Promise<void>)[] = []
  const clients: MqttClient[] = []
  const secret = (s: TestStack, id: string) => s.creds.get(id)?.secret ?? ''

  async function service(s: TestStack, name: string, expiresAt?: Date) {
    const { token } = await issueToken(s.db, await insertUser(s.db, { name, role: 'service' }), { expiresAt: expiresAt ?? null })
    return token
  }

  async function accepted(s: TestStack, opts: IClientOptions, from?: string): Promise<MqttClient> {
    const result = await login(s.url, opts, from)
    expect(result.code).toBe(ACCEPTED)
    if (!result.client) throw new Error('not connected')
    clients.push(result.client)
    return result.client
  }

  beforeAll(async () => {
    const a = await createTestDatabase()
    const b = await createTestDatabase()
    drops.push(a.drop, b.drop)
    stack = await startStack(a.url, { MQTT_WS_PORT: String(await freePort()) })
    tight = await startStack(b.url, { MQTT_AUTH_MAX_CONCURRENT: '2', MQTT_TOKEN_RECHECK: '300ms' })
  })

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)))
    await stack.stop()
    await tight.stop()
    for (const drop of drops) await drop()
  })

  describe('item 2: client ids belong to one identity', () => {
    it("refuses a device's credentials under another identity's client id; the victim stays and its Last Will does not fire", async () => {
      const token = await service(stack, 'watcher')
      const watcher = await accepted(stack, { clientId: 'svc@watcher/status', username: 'token', password: token })
      const seen: string[] = []
      watcher.on('message', (_t, payload) => seen.push(payload.toString()))
      await watcher.subscribeAsync(topics.deviceStatus('el-1'), { qos: 1 })
      const victim = await accepted(stack, {
        clientId: 'el-1',
        username: 'el-1',
        password: secret(stack, 'el-1'),
        will: { topic: topics.deviceStatus('el-1'), payload: Buffer.from('offline'), qos: 1, retain: true },
      })

      for (const clientId of ['el-1', 'el-1/x', 'housing-brain-rules', 'svc@watcher', 'svc@watcher/status', '']) {
        const attempt = await login(stack.url, { clientId, username: 'mh-1', password: secret(stack, 'mh-1') }, '127.0.0.2')
        expect({ clientId, code: attempt.code }).toEqual({ clientId, code: IDENTIFIER_REJECTED })
      }
      // A service token cannot take a device's id (or another service's) either.
      expect((await login(stack.url, { clientId: 'el-1', username: 'token', password: token })).code).toBe(IDENTIFIER_REJECTED)

      // The victim is still connected: its next message is acknowledged and seen after nothing else.
      await victim.publishAsync(topics.deviceStatus('el-1'), 'online', { qos: 1 })
      await eventually(() => (seen.includes('online') ? true : undefined), 5000, 'status seen')
      expect(seen).toEqual(['online'])
      expect(victim.connected).toBe(true)
      expect(await counter(stack.metrics.takeovers)).toBe(0)
    })

    it('lets no other identity resume a persistent session', async () => {
      const own = { clientId: 'mh-1/session', username: 'mh-1', password: secret(stack, 'mh-1'), clean: false }
      const first = await accepted(stack, own)
      await first.subscribeAsync(topics.deviceTelemetry('mh-1'), { qos: 1 })
      await first.endAsync()
      // Queued for the offline session.
      const publisher = await accepted(stack, { clientId: 'mh-1/pub', username: 'mh-1', password: secret(stack, 'mh-1') })
      const payload = JSON.stringify({ values: { battery_pct: 41 } })
      await publisher.publishAsync(topics.deviceTelemetry('mh-1'), payload, { qos: 1 })

      const thief = await login(stack.url, { ...own, username: 'mh-2', password: secret(stack, 'mh-2') }, '127.0.0.2')
      expect(thief.code).toBe(IDENTIFIER_REJECTED)
      const serviceThief = await login(stack.url, { ...own, username: 'token', password: await service(stack, 'thief') }, '127.0.0.2')
      expect(serviceThief.code).toBe(IDENTIFIER_REJECTED)

      // The owner resumes it with the queued message still there.
      const got = new Promise<string>((resolve) => {
        const back = new MqttClient(() => net.createConnection({ host: '127.0.0.1', port: Number(new URL(stack.url).port) }), { ...own, reconnectPeriod: 0 })
        clients.push(back)
        back.on('message', (_t, p) => resolve(p.toString()))
      })
      expect(await got).toBe(payload)
    })

    it('counts a takeover by the same identity', async () => {
      const before = await counter(stack.metrics.takeovers)
      const a = await accepted(stack, { clientId: 'ft-1/x', username: 'ft-1', password: secret(stack, 'ft-1') })
      const closed = new Promise<void>((resolve) => a.once('close', () => resolve()))
      await accepted(stack, { clientId: 'ft-1/x', username: 'ft-1', password: secret(stack, 'ft-1') })
      await closed
      expect(await counter(stack.metrics.takeovers)).toBe(before + 1)
    })
  })

  describe('item 3: logins cannot exhaust the CPU or lock a device out', () => {
    it('refuses a login with "server unavailable" when the password checks are all busy, instead of queueing it', async () => {
      // Ten logins at once, with two checks allowed at a time. (The per-address bound is not seen
      // here: loopback counts against the total only; test/intake/device-login-throttle.test.ts covers it.)
      const ids = ['mh-1', 'mh-2', 'mh-3', 'ft-1', 'el-1', 'gw-1', 'mh-1', 'mh-2', 'mh-3', 'ft-1']
      const results = await Promise.all(
        ids.map((id, i) => login(tight.url, { clientId: `${id}/burst-${i}`, username: id, password: secret(tight, id) }, `127.0.1.${i + 1}`)),
      )
      for (const r of results) void r.client?.endAsync(true)
      const codes = results.map((r) => r.code)
      expect(codes.every((c) => c === ACCEPTED || c === SERVER_UNAVAILABLE)).toBe(true)
      expect(codes.filter((c) => c === SERVER_UNAVAILABLE).length).toBeGreaterThan(0)
      expect(codes.filter((c) => c === ACCEPTED).length).toBeGreaterThanOrEqual(2)
      // Once the burst is over, the same logins go through: nothing was left holding a slot.
      const later = await login(tight.url, { clientId: 'mh-1/after-burst', username: 'mh-1', password: secret(tight, 'mh-1') })
      expect(later.code).toBe(ACCEPTED)
      void later.client?.endAsync(true)
    })

    it('does not hold the logins of a device that others fail against from another address', async () => {
      const held = () => counter(stack.metrics.loginsHeld)
      const before = await held()
      for (let i = 0; i < 6; i++) {
        const r = await login(stack.url, { clientId: `el-1/guess-${i}`, username: 'el-1', password: 'guess' }, '127.0.3.1')
        expect(r.code).toBe(BAD_USERNAME_OR_PASSWORD)
      }
      // The attacker's own address is slowed down (attempts 4 to 6 were held)…
      expect(await held()).toBe(before + 3)
      // …the device, from its own address, is not.
      const real = await login(stack.url, { clientId: 'el-1/real', username: 'el-1', password: secret(stack, 'el-1') }, '127.0.3.2')
      expect(real.code).toBe(ACCEPTED)
      void real.client?.endAsync(true)
      expect(await held()).toBe(before + 3)
    })
  })

  describe('item 4: WebSocket frames obey the packet limit', () => {
    it('closes a WebSocket announcing an oversized frame from its header, and keeps serving others', async () => {
      const port = stack.unit.address?.wsPort ?? 0
      const sock = net.createConnection({ host: '127.0.0.1', port })
      let received = Buffer.alloc(0)
      let closed = false
      sock.on('data', (d: Buffer) => (received = Buffer.concat([received, d])))
      sock.on('close', () => (closed = true))
      sock.on('error', () => undefined)
      sock.write(
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`,
      )
      const headerEnd = await eventually(() => (received.includes('\r\n\r\n') ? received.indexOf('\r\n\r\n') + 4 : undefined), 5000, 'upgrade')
      expect(received.subarray(0, 12).toString()).toBe('HTTP/1.1 101')
      // A masked binary frame announcing 64 MiB (RFC 6455 §5.2), and not one byte of its payload:
      // the server can only refuse it from the header, before buffering anything.
      const frame = Buffer.alloc(14)
      frame[0] = 0x82
      frame[1] = 0x80 | 127
      frame.writeBigUInt64BE(64n * 1024n * 1024n, 2)
      sock.write(frame)
      await eventually(() => (closed ? true : undefined), 5000, 'connection closed')
      // The close frame says why: 1009, message too big.
      const close = received.subarray(headerEnd)
      expect(close[0]).toBe(0x88)
      expect(close.readUInt16BE(2)).toBe(1009)

      const device = await mqtt.connectAsync(`ws://127.0.0.1:${port}`, { clientId: 'el-1/ws', username: 'el-1', password: secret(stack, 'el-1'), reconnectPeriod: 0 })
      clients.push(device)
      await device.publishAsync(topics.deviceTelemetry('el-1'), JSON.stringify({ values: { vibration_mg: 7 } }), { qos: 1 })
    })
  })

  describe('item 9: telemetry is never retained', () => {
    it('stores retained telemetry as a reading but never replays it; retained status stays', async () => {
      const device = await accepted(stack, { clientId: 'mh-3/retain', username: 'mh-3', password: secret(stack, 'mh-3') })
      await device.publishAsync(topics.deviceTelemetry('mh-3'), JSON.stringify({ values: { water_level_cm: 99 } }), { qos: 1, retain: true })
      await device.publishAsync(topics.deviceStatus('mh-3'), 'online', { qos: 1, retain: true })
      const stored = await stack.db.query<{ value: number }>("SELECT value FROM readings WHERE device_id = 'mh-3' AND metric = 'water_level_cm'")
      expect(stored.map((r) => r.value)).toEqual([99])

      const reader = await accepted(stack, { clientId: 'svc@late-reader', username: 'token', password: await service(stack, 'late-reader') })
      const got: { topic: string; retain: boolean; payload: string }[] = []
      reader.on('message', (topic, payload, packet) => got.push({ topic, retain: packet.retain, payload: payload.toString() }))
      await reader.subscribeAsync([topics.deviceTelemetry('mh-3'), topics.deviceStatus('mh-3')], { qos: 1 })
      // A fresh reading after the subscription: whatever the broker replays arrives before it.
      const fresh = JSON.stringify({ values: { water_level_cm: 1 } })
      await device.publishAsync(topics.deviceTelemetry('mh-3'), fresh, { qos: 1 })
      await eventually(() => (got.some((m) => m.payload === fresh) ? true : undefined), 5000, 'fresh reading')
      expect(got.filter((m) => m.topic === topics.deviceTelemetry('mh-3'))).toEqual([{ topic: topics.deviceTelemetry('mh-3'), retain: false, payload: fresh }])
      expect(got.filter((m) => m.topic === topics.deviceStatus('mh-3'))).toEqual([{ topic: topics.deviceStatus('mh-3'), retain: true, payload: 'online' }])
      expect(await counter(stack.metrics.retainStripped)).toBe(1)
    })
  })

  describe('item 7: a service session ends with its token', () => {
    const closedSoon = (client: MqttClient) => eventually(() => (client.connected ? undefined : true), 5000, 'session closed')

    it('closes the session when the token is revoked, at once (announced revocation)', async () => {
      // The periodic recheck is 30 s here: only the announcement can close it within the wait.
      const token = await service(stack, 'revoked-svc')
      const client = await accepted(stack, { clientId: 'svc@revoked-svc', username: 'token', password: token })
      const tokenId = (await stack.db.query<{ id: string }>("SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.name = 'revoked-svc'"))[0]?.id ?? ''
      expect(await revokeTokens(stack.db, { tokenId })).toBe(1)
      await closedSoon(client)
      expect((await login(stack.url, { clientId: 'svc@revoked-svc', username: 'token', password: token })).code).toBe(BAD_USERNAME_OR_PASSWORD)
    })

    it('closes the session when its user is disabled, at once, and accepts it again once enabled', async () => {
      const token = await service(stack, 'disabled-svc')
      const client = await accepted(stack, { clientId: 'svc@disabled-svc', username: 'token', password: token })
      const userId = (await stack.db.query<{ id: string }>("SELECT id FROM users WHERE name = 'disabled-svc'"))[0]?.id ?? ''
      expect(await setUserDisabled(stack.db, userId, true)).toBe(true)
      await closedSoon(client)
      expect((await login(stack.url, { clientId: 'svc@disabled-svc', username: 'token', password: token })).code).toBe(BAD_USERNAME_OR_PASSWORD)
      await setUserDisabled(stack.db, userId, false)
      await accepted(stack, { clientId: 'svc@disabled-svc', username: 'token', password: token })
    })

    it('closes the session when the token expires', async () => {
      const token = await service(stack, 'expiring-svc', new Date(Date.now() + 1500))
      const client = await accepted(stack, { clientId: 'svc@expiring-svc', username: 'token', password: token })
      await closedSoon(client)
      expect(await counter(stack.metrics.servicesDropped)).toBeGreaterThanOrEqual(1)
    })

    it('closes the session on the periodic recheck when the revocation was not announced', async () => {
      const token = await service(tight, 'quiet-revoke')
      const client = await accepted(tight, { clientId: 'svc@quiet-revoke/x', username: 'token', password: token })
      // Another process with no NOTIFY, or a notification lost while the listener reconnected.
      await tight.db.query("UPDATE api_tokens SET revoked_at = now() WHERE user_id = (SELECT id FROM users WHERE name = 'quiet-revoke')")
      await closedSoon(client)
    })
  })
})
