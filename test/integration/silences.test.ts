// Maintenance windows end (issue 7, item 14): an alert raised inside a window that is still
// unresolved when the window ends enters the normal deadline and notification path from that
// moment; one resolved within the window stays silenced. A window that has not ended can be
// changed in place (PATCH), and alerts follow the changed window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Escalator } from '../../alerts/escalator.ts'
import type { CommittedEvent } from '../../alerts/events.ts'
import type { AlertService } from '../../alerts/service.ts'
import type { App } from '../../api/app.ts'
import type { Db } from '../../core/db/client.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { apiFor, embeddedDistrict } from '../helpers/api.ts'

let db: Db
let app: App
let alerts: AlertService
let admin: Record<string, string>
let crew: Record<string, string>
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
    { id: 'el-3', kind: 'elevator', communityId: 'cm-a' },
    { id: 'el-4', kind: 'elevator', communityId: 'cm-a' },
    { id: 'el-5', kind: 'elevator', communityId: 'cm-a' },
  ])
  // Acknowledge within 1 s: the deadline is short enough to pass during the test.
  const definition = { id: 'stuck', name: 'Lift stuck', description: 'entrapment', severity: 'critical', autoResolve: false, ackDeadline: 1000, resolveDeadline: 60_000 }
  await upsertRule(db, { id: 'stuck', type: 'threshold', severity: 'critical', enabled: true, definition })
  const api = await apiFor(db, features, {}, undefined, () => new Date(now))
  app = api.app
  alerts = api.alerts
  admin = { authorization: `Bearer ${api.token}` }
  // A crew member of the company that looks after cm-a.
  crew = { authorization: `Bearer ${(await issueToken(db, await insertUser(db, { name: 'crew-a', role: 'crew', companyId: 'co-a' }))).token}` }
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

interface Window {
  id: number
  deviceId: string | null
  communityId: string | null
  startsAt: string
  endsAt: string
  reason: string
}
const open = async (payload: Record<string, unknown>) => {
  const res = await app.inject({ method: 'POST', url: '/api/v1/silences', headers: admin, payload })
  expect(res.statusCode).toBe(201)
  return res.json<Window>()
}
const patch = (id: number, payload: Record<string, unknown>, headers = admin) => app.inject({ method: 'PATCH', url: `/api/v1/silences/${id}`, headers, payload })

describe('changing a maintenance window', () => {
  it('changes its times and reason in place, keeping the rest', async () => {
    const w = await open({ deviceId: 'el-3', duration: '2h', reason: 'rope' })
    const startsAt = new Date(Date.now() + 3_600_000).toISOString()
    const endsAt = new Date(Date.now() + 7_200_000).toISOString()
    const res = await patch(w.id, { startsAt, endsAt, reason: 'new rope' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: w.id, deviceId: 'el-3', startsAt, endsAt, reason: 'new rope' })
    // The list shows the changed window, not a second one.
    const listed = (await app.inject({ url: '/api/v1/silences', headers: admin })).json<{ items: Window[] }>().items.filter((s) => s.id === w.id || s.reason === 'rope')
    expect(listed).toMatchObject([{ id: w.id, startsAt, endsAt, reason: 'new rope' }])
    // A duration counts from the kept start.
    expect((await patch(w.id, { duration: '30m' })).json<Window>().endsAt).toBe(new Date(Date.parse(startsAt) + 1_800_000).toISOString())
  })

  it('refuses an end before the start, naming the field, and validates as create does', async () => {
    const w = await open({ deviceId: 'el-3', duration: '2h', reason: 'range' })
    const before = await patch(w.id, { endsAt: new Date(Date.parse(w.startsAt) - 60_000).toISOString() })
    expect(before.statusCode).toBe(400)
    expect(before.json()).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('body.endsAt') as string })
    expect((await patch(w.id, { reason: '  ' })).json()).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('reason') as string })
    expect((await patch(w.id, { deviceId: null })).json()).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('deviceId, communityId or ruleId') as string })
    expect((await patch(w.id, {})).statusCode).toBe(400)
    // Nothing was changed by the refused edits.
    const listed = (await app.inject({ url: '/api/v1/silences', headers: admin })).json<{ items: Window[] }>().items.find((s) => s.id === w.id)
    expect(listed).toMatchObject({ deviceId: 'el-3', startsAt: w.startsAt, endsAt: w.endsAt, reason: 'range' })
  })

  it('refuses to change a window that has ended, and an unknown one', async () => {
    const w = await open({ deviceId: 'el-3', duration: '2h', reason: 'ended' })
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/silences/${w.id}`, headers: admin })).statusCode).toBe(200)
    const res = await patch(w.id, { endsAt: new Date(Date.now() + 3_600_000).toISOString() })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'silence_ended' })
    expect((await patch(999_999, { reason: 'x' })).json()).toMatchObject({ code: 'not_found' })
  })

  it('is the office\'s: a crew member is refused', async () => {
    const w = await open({ deviceId: 'el-3', duration: '2h', reason: 'crew' })
    const res = await patch(w.id, { reason: 'mine now' }, crew)
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ code: 'forbidden' })
  })

  it('silences and unsilences alerts as changed', async () => {
    // The window covers el-4 for a minute by the alert service's clock; el-5 is outside it.
    const start = now
    const w = await open({ deviceId: 'el-4', startsAt: new Date(start).toISOString(), endsAt: new Date(start + 60_000).toISOString(), reason: 'scope' })
    // Moved to el-5: an alert of el-5 is now silenced, one of el-4 no longer.
    expect((await patch(w.id, { deviceId: 'el-5' })).statusCode).toBe(200)
    const silenced = await raise('el-5')
    expect(silenced.silenced).toBe(true)
    expect((await raise('el-4')).silenced).toBe(false)

    // Five seconds in, the minute-long window still holds the alert.
    now = start + 5_010
    await escalator.check(new Date(now))
    expect((await detail(silenced.id)).silenced).toBe(true)
    // Shortened to end at five seconds: the next check hands the alert over, deadlines from the new end.
    expect((await patch(w.id, { endsAt: new Date(start + 5_000).toISOString() })).statusCode).toBe(200)
    await escalator.check(new Date(now))
    const released = await detail(silenced.id)
    expect(released.silenced).toBe(false)
    expect(released.history.map((e) => e.type)).toEqual(['raised', 'unsilenced'])
    expect(new Date(released.ackDeadline).getTime()).toBe(start + 5_000 + 1000)
  })
})
