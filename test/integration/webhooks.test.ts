// Webhooks against a real HTTP receiver: it verifies each signature, sees every event once per
// delivery attempt, and gets retries after answering 500. Silenced alerts notify nobody.
import { createHmac, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { AlertService } from '../../api/alerts/service.ts'
import { WebhookDispatcher } from '../../api/webhooks/dispatcher.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { upsertRule } from '../../core/repos/rules.ts'
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

function verify(header: string, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)
  if (!m) return false
  const expected = createHmac('sha256', secret).update(`${m[1] ?? ''}.${body}`).digest()
  return timingSafeEqual(expected, Buffer.from(m[2] ?? '', 'hex'))
}

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger, retentionDays: 30, compressAfterDays: 7 })
  await seed(db)
  await upsertRule(db, { id: 'entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { name: 'Passenger trapped', severity: 'critical' } })
  await upsertRule(db, { id: 'low-battery', type: 'threshold', severity: 'minor', enabled: true, definition: { name: 'Low battery', severity: 'minor' } })
  const api = await apiFor(db, features)
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
  receiverUrl = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/hooks/housing`
  dispatcher = new WebhookDispatcher(db, alerts.bus, { retryBaseMs: 200, retryMaxMs: 1000, maxAttempts: 4, timeoutMs: 2000, pollMs: 50 }, silentLogger)
  await dispatcher.start()
})

afterAll(async () => {
  await dispatcher.stop()
  receiver.close()
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
    await eventually(() => (received.length >= 3 ? true : undefined), 5000, 'three attempts')
    expect(received.map((x) => [x.event, x.attempt, x.valid])).toEqual([
      ['raised', '1', true],
      ['raised', '2', true],
      ['raised', '3', true],
    ])
    // One delivery, three attempts of it, the same event each time.
    expect(new Set(received.map((x) => x.delivery)).size).toBe(1)
    expect(new Set(received.map((x) => x.eventId)).size).toBe(1)
    const hooks = (await app.inject({ url: '/api/v1/webhooks', headers: admin })).json<{ items: { id: string }[] }>()
    const log = await app.inject({ url: `/api/v1/webhooks/${hooks.items[0]?.id ?? ''}/deliveries`, headers: admin })
    const entry = log.json<{ items: { eventId: number; status: string; attempts: number; lastStatusCode: number }[] }>().items.find((d) => d.eventId === Number(received[0]?.eventId))
    expect(entry).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 204 })
    expect(r.outcome).toBe('raised')
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
