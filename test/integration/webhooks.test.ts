// Webhooks against a real HTTP receiver: it verifies each signature, sees every event once per
// delivery attempt, and gets retries after answering 500. Silenced alerts notify nobody.
// The receiver listens on 127.0.0.1, which webhooks may only reach because the allow-list says
// so; without it, loopback, private, link-local and multicast destinations are refused.
import { createHmac, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { AlertService } from '../../alerts/service.ts'
import { destinationPolicy } from '../../core/egress.ts'
import { WebhookDispatcher, type DispatcherOptions } from '../../notify/webhook-dispatcher.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertWebhook } from '../../core/repos/webhooks.ts'
import { apiFor } from '../helpers/api.ts'
import { eventually } from '../helpers/services.ts'
import { seed } from '../helpers/stack.ts'

interface Received {
  event: string
  eventId: string
  attempt: string
  delivery: string
  valid: boolean
  body: { type: string; alert: { deviceId: string } }
}

let db: Db
let app: App
let alerts: AlertService
let admin: Record<string, string>
let dispatcher: WebhookDispatcher
const received: Received[] = []
let secret = ''
let failNext = 0
let receiver: http.Server
let receiverUrl = ''
let receiverPort = 0
let strictApp: App
const ALLOW_LOOPBACK = destinationPolicy(['127.0.0.1'])
const DISPATCH: DispatcherOptions = { retryBaseMs: 200, retryMaxMs: 1000, maxAttempts: 4, timeoutMs: 2000, pollMs: 50, destinations: ALLOW_LOOPBACK }

function verify(header: string, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)
  if (!m) return false
  const expected = createHmac('sha256', secret).update(`${m[1] ?? ''}.${body}`).digest()
  return timingSafeEqual(expected, Buffer.from(m[2] ?? '', 'hex'))
}

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  await seed(db)
  await upsertRule(db, { id: 'entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { name: 'Passenger trapped', severity: 'critical' } })
  await upsertRule(db, { id: 'low-battery', type: 'threshold', severity: 'minor', enabled: true, definition: { name: 'Low battery', severity: 'minor' } })
  const api = await apiFor(db, features, { egress: ALLOW_LOOPBACK })
  // The same database through an API with the default policy (no special destinations).
  strictApp = (await apiFor(db, features)).app
  app = api.app
  alerts = api.alerts
  admin = { authorization: `Bearer ${api.token}` }
  receiver = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => {
      received.push({
        event: String(req.headers['x-hb-event']),
        eventId: String(req.headers['x-hb-event-id']),
        attempt: String(req.headers['x-hb-attempt']),
        delivery: String(req.headers['x-hb-delivery']),
        valid: verify(String(req.headers['x-hb-signature']), body),
        body: JSON.parse(body) as Received['body'],
      })
      if (failNext > 0) {
        failNext--
        res.writeHead(500).end('try later')
      } else {
        res.writeHead(204).end()
      }
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const addr = receiver.address()
  receiverPort = typeof addr === 'object' && addr !== null ? addr.port : 0
  receiverUrl = `http://127.0.0.1:${receiverPort}/hooks/housing`
  dispatcher = new WebhookDispatcher(db, alerts.bus, DISPATCH, silentLogger)
  await dispatcher.start()
})

afterAll(async () => {
  await dispatcher.stop()
  receiver.close()
  await strictApp.close()
  await app.close()
  await db.close()
})

describe('webhooks', () => {
  it('register with filters; the secret is shown once', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: admin,
      payload: { url: receiverUrl, severities: ['critical', 'major'], events: ['raised', 'acknowledged', 'resolved', 'escalated'] },
    })
    expect(res.statusCode).toBe(201)
    const body = res.json<{ webhook: { id: string }; secret: string }>()
    secret = body.secret
    expect(secret.length).toBeGreaterThanOrEqual(32)
    const list = await app.inject({ url: '/api/v1/webhooks', headers: admin })
    expect(JSON.stringify(list.json())).not.toContain(secret)
    const bad = await app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: admin, payload: { url: 'ftp://x', severities: ['loud'] } })
    expect(bad.statusCode).toBe(400)
    expect(bad.json<{ message: string }>().message).toMatch(/http/)
  })

  it('delivers signed events that pass the filters, once each', async () => {
    const raised = await alerts.report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active', value: 1 }, 'rules')
    await alerts.report({ ruleId: 'low-battery', deviceId: 'mh-1', condition: 'active', value: 9 }, 'rules') // minor: filtered out
    await alerts.act(raised.alert?.id ?? 0, 'comment', 'op', 'looking') // commented: filtered out
    await alerts.act(raised.alert?.id ?? 0, 'acknowledge', 'crew-a', 'on my way')
    await eventually(() => (received.length >= 2 ? true : undefined), 5000, 'two deliveries')
    await new Promise((r) => setTimeout(r, 300))
    expect(received.map((r) => [r.event, r.attempt, r.valid, r.body.alert.deviceId])).toEqual([
      ['raised', '1', true, 'el-1'],
      ['acknowledged', '1', true, 'el-1'],
    ])
    expect(new Set(received.map((r) => r.eventId)).size).toBe(2)
  })

  it('retries after a 500 with backoff and logs every attempt', async () => {
    received.length = 0
    failNext = 2
    const r = await alerts.report({ ruleId: 'entrapment', deviceId: 'ft-1', condition: 'active' }, 'rules')
    await eventually(() => (received.length >= 3 ? true : undefined), 10_000, 'three attempts')
    expect(received.map((x) => [x.event, x.attempt, x.valid])).toEqual([
      ['raised', '1', true],
      ['raised', '2', true],
      ['raised', '3', true],
    ])
    // One delivery, three attempts of it, the same event each time.
    expect(new Set(received.map((x) => x.delivery)).size).toBe(1)
    expect(new Set(received.map((x) => x.eventId)).size).toBe(1)
    const hooks = (await app.inject({ url: '/api/v1/webhooks', headers: admin })).json<{ items: { id: string }[] }>()
    // The receiver has the third attempt a moment before the dispatcher records its answer: wait for the record.
    const entry = await eventually(async () => {
      const log = await app.inject({ url: `/api/v1/webhooks/${hooks.items[0]?.id ?? ''}/deliveries`, headers: admin })
      const found = log.json<{ items: { eventId: number; status: string; attempts: number; lastStatusCode: number }[] }>().items.find((d) => d.eventId === Number(received[0]?.eventId))
      return found?.status === 'delivered' ? found : undefined
    }, 10_000, 'the delivery recorded as delivered')
    expect(entry).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 204 })
    expect(r.outcome).toBe('raised')
  })

  it.each([
    'http://127.0.0.1:9/x',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:8080/',
    'http://[::ffff:127.0.0.1]/',
    'http://10.0.0.5/',
    'http://192.168.1.1/',
    'http://224.0.0.1/',
    'http://0.0.0.0:3000/',
    'http://localhost:3000/',
    'http://100.64.0.1/',
  ])('refuses to register a webhook to %s without an allow-list entry', async (url) => {
    const res = await strictApp.inject({ method: 'POST', url: '/api/v1/webhooks', headers: admin, payload: { url } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'destination_denied' })
  })

  it('refuses at delivery, after DNS resolution, what resolves to a denied address, and logs no oracle', async () => {
    // Registered when the name still pointed elsewhere (or through the repository): a name that
    // now resolves to loopback, and a literal loopback address.
    await dispatcher.stop()
    const strict = new WebhookDispatcher(db, alerts.bus, { ...DISPATCH, destinations: destinationPolicy([]) }, silentLogger)
    try {
      for (const url of [`http://localhost:${receiverPort}/hooks/rebound`, `http://127.0.0.1:${receiverPort}/hooks/literal`]) {
        await insertWebhook(db, { id: crypto.randomUUID(), url, secret: 'x'.repeat(32), severities: null, communityIds: null, eventTypes: null, createdBy: 'test' })
      }
      received.length = 0
      await strict.start()
      await alerts.report({ ruleId: 'entrapment', deviceId: 'mh-3', condition: 'active' }, 'rules')
      const hooks = (await app.inject({ url: '/api/v1/webhooks', headers: admin })).json<{ items: { id: string; url: string }[] }>().items
      const logs = async () =>
        Promise.all(
          hooks
            .filter((h) => h.url.includes('/hooks/rebound') || h.url.includes('/hooks/literal'))
            .map(async (h) => (await app.inject({ url: `/api/v1/webhooks/${h.id}/deliveries`, headers: admin })).json<{ items: { status: string; attempts: number; lastStatusCode: number | null; lastError: string | null }[] }>().items),
        )
      const entries = await eventually(async () => {
        const all = (await logs()).flat()
        return all.length === 2 && all.every((e) => e.status === 'failed') ? all : undefined
      }, 5000, 'both deliveries failed')
      // Refused once, not retried; the log names the policy, not what is listening there.
      for (const e of entries) expect(e).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null, lastError: 'destination denied (loopback)' })
      expect(received.filter((r) => r.body.alert.deviceId === 'mh-3')).toEqual([])
    } finally {
      await strict.stop()
      await dispatcher.start()
    }
  })

  it('notifies nobody of an alert raised in a maintenance window', async () => {
    received.length = 0
    await app.inject({ method: 'POST', url: '/api/v1/silences', headers: admin, payload: { communityId: 'cm-test', duration: '1h', reason: 'pump room works' } })
    const r = await alerts.report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active' }, 'rules')
    expect(r.outcome).toBe('updated') // el-1 already has an open entrapment alert
    const fresh = await alerts.report({ ruleId: 'entrapment', deviceId: 'mh-2', condition: 'active' }, 'rules')
    expect(fresh.alert?.silenced).toBe(true)
    await new Promise((res) => setTimeout(res, 500))
    expect(received).toEqual([])
  })
})
