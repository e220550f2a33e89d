// Maintenance windows end (issue 7, item 14): an alert raised inside a window that is still
// unresolved when the window ends enters the normal deadline and notification path from that
// moment; one resolved within the window stays silenced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Escalator } from '../../api/alerts/escalator.ts'
import type { CommittedEvent } from '../../api/alerts/service.ts'
import type { AlertService } from '../../api/alerts/service.ts'
import type { App } from '../../api/app.ts'
import type { Db } from '../../core/db/client.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { apiFor, embeddedDistrict } from '../helpers/api.ts'

let db: Db
let app: App
let alerts: AlertService
let admin: Record<string, string>
let escalator: Escalator
/** The alert service's clock. */
let now = Date.now()
const heard: CommittedEvent[] = []

beforeAll(async () => {
  const district = await embeddedDistrict()
  db = district.db
  const features = district.features
  await provisionDevices(db, [
    { id: 'el-1', kind: 'elevator', communityId: 'cm-a' },
    { id: 'el-2', kind: 'elevator', communityId: 'cm-a' },
  ])
  // Acknowledge within 1 s: the deadline is short enough to pass during the test.
  const definition = { id: 'stuck', name: 'Lift stuck', description: 'entrapment', severity: 'critical', autoResolve: false, ackDeadline: 1000, resolveDeadline: 60_000 }
  await upsertRule(db, { id: 'stuck', type: 'threshold', severity: 'critical', enabled: true, definition })
  const api = await apiFor(db, features, {}, undefined, () => new Date(now))
  app = api.app
  alerts = api.alerts
  admin = { authorization: `Bearer ${api.token}` }
  alerts.bus.on('event', (e) => heard.push(e))
  escalator = new Escalator(alerts, { checkEveryMs: 100, remindEveryMs: 60_000 }, silentLogger)
})

afterAll(async () => {
  await app.close()
  await db.close()
})

interface Detail {
  silenced: boolean
  state: string
  ackDeadline: string
  escalationLevel: number
  history: { type: string; at: string; note: string | null }[]
}
const detail = async (id: number) => (await app.inject({ url: `/api/v1/alerts/${id}`, headers: admin })).json<Detail>()
const raise = async (deviceId: string) => {
  const res = await app.inject({ method: 'POST', url: '/api/v1/alerts', headers: admin, payload: { ruleId: 'stuck', deviceId, condition: 'active' } })
  return res.json<{ alert: { id: number; silenced: boolean } }>().alert
}

describe('maintenance window', () => {
  it('hands an alert still unresolved at its end to the normal path, deadlines counted from the end', async () => {
    // The server's clock is the test's: the window ends when the test says so, however busy the machine.
    const endsAt = new Date(now + 60_000)
    const window = await app.inject({ method: 'POST', url: '/api/v1/silences', headers: admin, payload: { communityId: 'cm-a', startsAt: new Date(now).toISOString(), endsAt: endsAt.toISOString(), reason: 'lift service' } })
    expect(window.statusCode).toBe(201)
    const kept = await raise('el-1')
    const fixed = await raise('el-2')
    expect([kept.silenced, fixed.silenced]).toEqual([true, true])
    // Resolved within the window: it stays silenced for good.
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${fixed.id}/resolve`, headers: admin, payload: {} })).statusCode).toBe(200)

    // The window ends; the deadline checker's pass hands the alert over, and the 1 s acknowledge
    // deadline runs from the window's end, then escalates.
    now = endsAt.getTime() + 10
    await escalator.check(new Date(now))
    expect((await detail(kept.id)).escalationLevel).toBe(0)
    now = endsAt.getTime() + 1010
    await escalator.check(new Date(now))
    const escalated = await detail(kept.id)
    expect(escalated.silenced).toBe(false)
    expect(new Date(escalated.ackDeadline).getTime()).toBe(endsAt.getTime() + 1000)
    expect(escalated.history.map((e) => e.type)).toEqual(['raised', 'unsilenced', 'escalated'])
    // People hear of it: the live stream and the webhooks get the events after the window.
    expect(heard.filter((e) => e.alert.id === kept.id && !e.alert.silenced).map((e) => e.event.type)).toEqual(['unsilenced', 'escalated'])

    const done = await detail(fixed.id)
    expect(done).toMatchObject({ silenced: true, state: 'resolved', escalationLevel: 0 })
    expect(done.history.map((e) => e.type)).toEqual(['raised', 'resolved'])
  })
})
