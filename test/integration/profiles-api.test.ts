// Device profiles through the API: validated whole, assigned to devices of their kind (whose
// expected interval they set), guarded against deletion while in use; DevEUI and IMEI each name
// one device.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHIPPED_PROFILES } from '../../core/profiles/catalogue.ts'
import { apiOnPostgres } from '../helpers/api.ts'
import { hasPostgres } from '../helpers/services.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('device profiles API', () => {
  let api: Awaited<ReturnType<typeof apiOnPostgres>>
  let admin: Record<string, string>

  beforeAll(async () => {
    api = await apiOnPostgres()
    admin = { authorization: `Bearer ${api.token}` }
  })
  afterAll(() => api.close())

  const request = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = admin) =>
    api.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) })

  const tank = {
    id: 'dtu-tank',
    name: 'Tank DTU posting JSON',
    kind: 'fire_tank',
    reportInterval: '10m',
    decoder: { fields: [{ metric: 'water_level_m', path: 'data.level_mm', convert: 'mm_to_m' }] },
  }

  it('creates, lists and reads a profile; a second create of the same id is a conflict', async () => {
    const created = await request('POST', '/api/v1/profiles', tank)
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({ id: 'dtu-tank', kind: 'fire_tank', builtin: false, devices: 0, definition: { reportInterval: 600_000 } })
    const list = await request('GET', '/api/v1/profiles')
    expect(list.json<{ items: { id: string }[] }>().items.map((p) => p.id)).toContain('dtu-tank')
    expect((await request('POST', '/api/v1/profiles', tank)).json()).toMatchObject({ code: 'conflict' })
  })

  it('stores a shipped profile with its script as it is', async () => {
    const shipped = SHIPPED_PROFILES.find((p) => p.id === 'milesight-em320-tilt')
    const res = await request('POST', '/api/v1/profiles', shipped)
    expect(res.statusCode).toBe(201)
    expect(res.json<{ definition: { decoder: { script: string } } }>().definition.decoder.script).toContain('function decodeUplink')
  })

  it('refuses an invalid profile with every problem and where it is', async () => {
    const res = await request('POST', '/api/v1/profiles', {
      ...tank,
      id: 'bad',
      reportInterval: 'often',
      decoder: { fields: [{ metric: 'speed_mps', path: 'data..x' }] },
    })
    expect(res.statusCode).toBe(400)
    const { code, message } = res.json<{ code: string; message: string }>()
    expect(code).toBe('validation_failed')
    expect(message).toContain('body.reportInterval: expected a duration')
    expect(message).toContain('body.decoder.fields.0.path: expected a path')
    // Whether a metric fits the kind is checked once the shape is right.
    const metric = await request('POST', '/api/v1/profiles', { ...tank, id: 'bad', decoder: { fields: [{ metric: 'speed_mps', path: 'data.x' }] } })
    expect(metric.json()).toEqual({ code: 'validation_failed', message: 'body.decoder.fields.0.metric: "speed_mps" is not a metric of a fire_tank device' })
  })

  it('gives a device a profile of its kind, which sets its expected interval', async () => {
    const res = await request('PATCH', '/api/v1/devices/ft-1', { profileId: 'dtu-tank', imei: '861234567890123' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ profileId: 'dtu-tank', expectedIntervalS: 600, imei: '861234567890123' })
    const wrongKind = await request('PATCH', '/api/v1/devices/el-1', { profileId: 'dtu-tank' })
    expect(wrongKind.json()).toEqual({ code: 'validation_failed', message: 'body.profileId: "dtu-tank" is a profile for fire_tank devices, this is an elevator device' })
    expect((await request('PATCH', '/api/v1/devices/ft-1', { profileId: 'nope' })).json()).toMatchObject({ code: 'validation_failed' })
  })

  it('lets a DevEUI or IMEI name one device only, and refuses malformed ones', async () => {
    const first = await request('PATCH', '/api/v1/devices/mh-1', { devEui: '24E124710C408089' })
    expect(first.json()).toMatchObject({ devEui: '24e124710c408089' })
    const taken = await request('PATCH', '/api/v1/devices/mh-2', { devEui: '24e124710c408089' })
    expect(taken.statusCode).toBe(409)
    expect(taken.json<{ message: string }>().message).toBe('body.devEui: 24e124710c408089 already names device "mh-1"')
    const bad = await request('PATCH', '/api/v1/devices/mh-2', { devEui: '24e1', imei: '12' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json<{ message: string }>().message).toMatch(/16 hexadecimal digits[\s\S]*15 digits/)
  })

  it('refuses to delete a profile in use; deletes it once no device uses it', async () => {
    const inUse = await request('DELETE', '/api/v1/profiles/dtu-tank')
    expect(inUse.statusCode).toBe(409)
    await request('PATCH', '/api/v1/devices/ft-1', { profileId: null })
    expect((await request('DELETE', '/api/v1/profiles/dtu-tank')).statusCode).toBe(204)
    expect((await request('GET', '/api/v1/profiles/dtu-tank')).statusCode).toBe(404)
  })

  it('is for admins and operators to change; a service may read', async () => {
    const service = { authorization: `Bearer ${await api.tokenFor('service')}` }
    expect((await request('POST', '/api/v1/profiles', { ...tank, id: 'service-made' }, service)).json()).toMatchObject({ code: 'forbidden' })
    expect((await request('GET', '/api/v1/profiles', undefined, service)).statusCode).toBe(200)
  })
})
