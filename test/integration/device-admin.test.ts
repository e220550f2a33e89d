// Devices from the API against the real broker: a device created through the API connects with
// its secret; disabling it closes its connection within a second and refuses it again; rotating
// its secret refuses the old one.
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { topics } from '../../core/contract.ts'
import { apiFor } from '../helpers/api.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'
import { startStack, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('device administration', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let stack: TestStack
  let app: App
  let admin: Record<string, string>

  beforeAll(async () => {
    tdb = await createTestDatabase()
    stack = await startStack(tdb.url)
    const api = await apiFor(stack.db, { timescale: undefined })
    app = api.app
    admin = { authorization: `Bearer ${api.token}` }
  })

  afterAll(async () => {
    await app.close()
    await stack.stop()
    await tdb.drop()
  })

  const connect = (id: string, password: string) => mqtt.connectAsync(stack.url, { clientId: `${id}/${Math.random()}`, username: id, password, reconnectPeriod: 0 })

  it('creates a device whose secret is shown once and works at once', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/devices', headers: admin, payload: { id: 'el-new', kind: 'elevator', communityId: 'cm-test', name: 'Lift B2' } })
    expect(res.statusCode).toBe(201)
    const { secret } = res.json<{ secret: string }>()
    const client = await connect('el-new', secret)
    await client.publishAsync(topics.deviceTelemetry('el-new'), JSON.stringify({ values: { speed_mps: 1 } }), { qos: 1 })
    await client.endAsync()
    const again = await app.inject({ method: 'GET', url: '/api/v1/devices/el-new', headers: admin })
    expect(JSON.stringify(again.json())).not.toContain(secret)
    const dup = await app.inject({ method: 'POST', url: '/api/v1/devices', headers: admin, payload: { id: 'el-new', kind: 'elevator', communityId: 'cm-test' } })
    expect(dup.statusCode).toBe(409)
    const bad = await app.inject({ method: 'POST', url: '/api/v1/devices', headers: admin, payload: { id: 'x-1', kind: 'manhole', communityId: 'cm-test', gatewayId: 'el-1' } })
    expect(bad.json()).toEqual({ code: 'validation_failed', message: 'body.gatewayId: "el-1" is not a gateway (it is an elevator device)' })
  })

  it('keeps where a device is: created with a place, changed, cleared, read back', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/devices',
      headers: admin,
      payload: { id: 'el-placed', kind: 'elevator', communityId: 'cm-test', building: '3', unit: '2', floor: '12', location: '  东侧客梯 ', registrationCode: '31103101002012060001', rescueCode: 'SH-0451' },
    })
    expect(created.statusCode, created.body).toBe(201)
    const place = { building: '3', unit: '2', floor: '12', location: '东侧客梯', registrationCode: '31103101002012060001', rescueCode: 'SH-0451' }
    expect(created.json<{ device: unknown }>().device).toMatchObject(place)
    const patched = await app.inject({ method: 'PATCH', url: '/api/v1/devices/el-placed', headers: admin, payload: { floor: 'B1', location: '', rescueCode: null } })
    expect(patched.statusCode, patched.body).toBe(200)
    const read = await app.inject({ method: 'GET', url: '/api/v1/devices/el-placed', headers: admin })
    expect(read.json()).toMatchObject({ ...place, floor: 'B1', location: null, rescueCode: null })

    const long = await app.inject({ method: 'PATCH', url: '/api/v1/devices/el-placed', headers: admin, payload: { floor: 'x'.repeat(21) } })
    expect(long.statusCode).toBe(400)
    expect(long.json()).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('floor') as unknown })
    const badCode = await app.inject({ method: 'PATCH', url: '/api/v1/devices/el-placed', headers: admin, payload: { registrationCode: '3110 3101' } })
    expect(badCode.json()).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('registrationCode') as unknown })

    // The crew card's map link needs both coordinates: set together, cleared together.
    const at = await app.inject({ method: 'PATCH', url: '/api/v1/devices/el-placed', headers: admin, payload: { latitude: 31.1521, longitude: 121.4042 } })
    expect(at.json()).toMatchObject({ latitude: 31.1521, longitude: 121.4042, floor: 'B1' })
    const half = await app.inject({ method: 'PATCH', url: '/api/v1/devices/el-placed', headers: admin, payload: { latitude: 31 } })
    expect(half.json()).toEqual({ code: 'validation_failed', message: 'body.longitude: give latitude and longitude together (both null clears them)' })
    const cleared = await app.inject({ method: 'PATCH', url: '/api/v1/devices/el-placed', headers: admin, payload: { latitude: null, longitude: null } })
    expect(cleared.json()).toMatchObject({ latitude: null, longitude: null })
  })

  it("refuses an elevator's codes on another kind of device, saying which field and why", async () => {
    const created = await app.inject({ method: 'POST', url: '/api/v1/devices', headers: admin, payload: { id: 'mh-coded', kind: 'manhole', communityId: 'cm-test', registrationCode: '31103101002012060001' } })
    expect(created.statusCode).toBe(400)
    expect(created.json()).toEqual({ code: 'validation_failed', message: 'body.registrationCode: only an elevator has a registration code; "mh-coded" is a manhole device — leave registrationCode out' })
    expect((await app.inject({ method: 'GET', url: '/api/v1/devices/mh-coded', headers: admin })).statusCode).toBe(404)
    const patched = await app.inject({ method: 'PATCH', url: '/api/v1/devices/mh-1', headers: admin, payload: { building: '5', rescueCode: 'R-1' } })
    expect(patched.statusCode).toBe(400)
    expect(patched.json()).toEqual({ code: 'validation_failed', message: 'body.rescueCode: only an elevator has a rescue code; "mh-1" is a manhole device — leave rescueCode out' })
    // Nothing of a refused change is kept; clearing a code is fine on any kind.
    expect((await app.inject({ method: 'GET', url: '/api/v1/devices/mh-1', headers: admin })).json()).toMatchObject({ building: null, rescueCode: null })
    expect((await app.inject({ method: 'PATCH', url: '/api/v1/devices/mh-1', headers: admin, payload: { building: '5', rescueCode: null } })).json()).toMatchObject({ building: '5' })
  })

  it("moves a device to another community: its next alert goes to that community's company", async () => {
    const post = (url: string, payload: Record<string, unknown>) => app.inject({ method: 'POST', url, headers: admin, payload })
    expect((await post('/api/v1/companies', { id: 'co-moved', name: 'Moved-to Property Co.' })).statusCode).toBe(201)
    expect((await post('/api/v1/communities', { id: 'cm-moved', name: 'Moved-to Garden', companyId: 'co-moved' })).statusCode).toBe(201)
    expect((await post('/api/v1/devices', { id: 'el-moving', kind: 'elevator', communityId: 'cm-test' })).statusCode).toBe(201)
    const raise = async (ruleId: string) => {
      const res = await post('/api/v1/alerts', { ruleId, source: 'operator', severity: 'critical', title: 'Lift stuck', deviceId: 'el-moving', condition: 'active' })
      expect(res.statusCode, res.body).toBeLessThan(300)
      const alert = res.json<{ alert: { id: number; companyId: string | null } | null }>().alert
      if (!alert) throw new Error(`no alert raised: ${res.body}`)
      return alert
    }
    const before = await raise('lift-stuck')
    expect(before.companyId).toBe('co-test')
    const unknown = await app.inject({ method: 'PATCH', url: '/api/v1/devices/el-moving', headers: admin, payload: { communityId: 'cm-nowhere' } })
    expect(unknown.json()).toEqual({ code: 'validation_failed', message: 'body.communityId: no community "cm-nowhere"' })
    const moved = await app.inject({ method: 'PATCH', url: '/api/v1/devices/el-moving', headers: admin, payload: { communityId: 'cm-moved' } })
    expect(moved.json()).toMatchObject({ id: 'el-moving', communityId: 'cm-moved' })
    // The open alert stays with the company it was dispatched to; the next one goes to the new one.
    expect((await app.inject({ method: 'GET', url: `/api/v1/alerts/${before.id}`, headers: admin })).json()).toMatchObject({ companyId: 'co-test' })
    expect((await raise('lift-door-stuck')).companyId).toBe('co-moved')
  })

  it('disabling a device disconnects it within 1 s and refuses its reconnection', async () => {
    const client = await stack.connect('mh-1', { clientId: 'mh-1/disable' })
    const closed = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())))
    const started = Date.now()
    const res = await app.inject({ method: 'PATCH', url: '/api/v1/devices/mh-1', headers: admin, payload: { enabled: false } })
    expect(res.json()).toMatchObject({ enabled: false })
    expect((await closed) - started).toBeLessThan(1000)
    await expect(connect('mh-1', stack.creds.get('mh-1')?.secret ?? '')).rejects.toThrow(/Not authorized/i)
    // Enabled again, it may connect again.
    await app.inject({ method: 'PATCH', url: '/api/v1/devices/mh-1', headers: admin, payload: { enabled: true } })
    await (await connect('mh-1', stack.creds.get('mh-1')?.secret ?? '')).endAsync()
  })

  it('rotating a secret refuses the old one and accepts the new one', async () => {
    const old = stack.creds.get('ft-1')?.secret ?? ''
    const live = await stack.connect('ft-1', { clientId: 'ft-1/rotate' })
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()))
    const res = await app.inject({ method: 'POST', url: '/api/v1/devices/ft-1/secret', headers: admin })
    const { secret } = res.json<{ secret: string }>()
    expect(secret).not.toBe(old)
    await closed
    await expect(connect('ft-1', old)).rejects.toThrow(/Bad username or password/i)
    await (await connect('ft-1', secret)).endAsync()
  })
})
