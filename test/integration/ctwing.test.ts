// The CTWing subscription push receiver through real HTTP requests, with published CTWing pushes
// (test/fixtures/ctwing, with their source): service data through a device profile, transparent
// APPdata through the profile's decoder (or a dead letter saying why not), online reports, 200
// after commit, resends stored once, pushes without the URL token refused with 401.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { provisionDevices } from '../../core/provision.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { upsertProfile } from '../../core/repos/profiles.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { eventually, hasPostgres } from '../helpers/services.ts'
import { COMMUNITY, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()
const TOKEN = 'hb-test-ctwing-token'
const fixture = (name: string) => readFileSync(new URL(`../fixtures/ctwing/${name}`, import.meta.url), 'utf8').trim()

describe.skipIf(!pgUp)('CTWing subscription push receiver', () => {
  let receivers: ReceiverStack
  let stack: TestStack
  let base: string

  beforeAll(async () => {
    receivers = await startReceivers({ ctwingPushToken: TOKEN })
    stack = receivers.stack
    base = receivers.base
    await provisionDevices(stack.db, [
      { id: 'mh-nb-1', kind: 'manhole', communityId: COMMUNITY },
      { id: 'mh-nb-2', kind: 'manhole', communityId: COMMUNITY },
      { id: 'd01308047f864601a821e02dc328eab4', kind: 'manhole', communityId: COMMUNITY },
    ])
    const profile = { id: 'ctwing-lwm2m', name: 'NB-IoT sensor on CTWing', kind: 'manhole', decoder: { fields: [{ metric: 'battery_pct', path: 'Battery_Level' }] } }
    await upsertProfile(stack.db, { id: profile.id, kind: 'manhole', definition: profile })
    await updateDevice(stack.db, 'mh-nb-1', { imei: '860374051096202', profileId: 'ctwing-lwm2m' })
    await updateDevice(stack.db, 'mh-nb-2', { imei: '862592051651472' })
    // The documented online report names the device by CTWing's deviceId only: this one opted in.
    await updateDevice(stack.db, 'd01308047f864601a821e02dc328eab4', { platformIdFallback: true })
  })

  afterAll(() => receivers.stop())

  const post = (body: string, token: string | null = TOKEN) =>
    fetch(`${base}/ingest/v1/ctwing${token === null ? '' : `?token=${token}`}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  const readings = (id: string) => stack.db.query<{ metric: string; value: number; ts: Date }>('SELECT metric, value, ts FROM readings WHERE device_id = $1', [id])

  it('stores service data through the device profile at the push time, once however often it is resent', async () => {
    const body = fixture('datareport-service.json')
    const res = await post(body)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ stored: 1, rejected: 0, rejections: [] })
    expect((await post(body)).status).toBe(200)
    expect(await readings('mh-nb-1')).toEqual([{ metric: 'battery_pct', value: 100, ts: new Date(1606982320277) }])
  })

  it('dead-letters transparent APPdata for a device without a decoder, and still answers 200 after commit', async () => {
    const res = await post(fixture('datareport-appdata.json'))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ stored: 0, rejected: 1, rejections: [{ reasonCode: 'malformed_json' }] })
    const [letter] = await stack.db.query<{ topic: string; client_id: string }>('SELECT topic, client_id FROM dead_letters WHERE device_id = $1', ['mh-nb-2'])
    expect(letter).toEqual({ topic: 'ctwing/40edca19b0124480864366de4621de99', client_id: 'ctwing' })
  })

  it('decodes transparent APPdata with the profile script when the device has one', async () => {
    const script = { id: 'ctwing-bytes', name: 'Bytes', kind: 'manhole', decoder: { script: 'function decodeUplink(input) { return { data: { rssi_dbm: -input.bytes[input.bytes.length - 1] / 2 } } }' } }
    await upsertProfile(stack.db, { id: script.id, kind: 'manhole', definition: script })
    await updateDevice(stack.db, 'mh-nb-2', { profileId: 'ctwing-bytes' })
    // The change reaches the receiver's decoder cache by NOTIFY, a moment after the commit: until
    // then CTWing's resends are refused as before; the first after it is decoded.
    const answer = await eventually(async () => {
      const body = (await (await post(fixture('datareport-appdata.json'))).json()) as { stored: number }
      return body.stored === 1 ? body : undefined
    }, 10_000, 'the push decoded by the profile the device was given')
    expect(answer).toEqual({ stored: 1, rejected: 0, rejections: [] })
    // The last byte of the APPdata is 0x83 = 131.
    expect((await readings('mh-nb-2')).map((r) => [r.metric, r.value])).toEqual([['rssi_dbm', -65.5]])
  })

  it('records the online report of the documented example', async () => {
    expect((await post(fixture('online.json'))).status).toBe(200)
    const [status] = await stack.db.query<{ status: string }>('SELECT status FROM device_status WHERE device_id = $1', ['d01308047f864601a821e02dc328eab4'])
    expect(status?.status).toBe('online')
  })

  it('refuses a push without the URL token, or with another, with 401 bad_signature', async () => {
    const none = await post(fixture('datareport-service.json'), null)
    expect(none.status).toBe(401)
    expect(await none.json()).toMatchObject({ code: 'bad_signature' })
    expect((await post(fixture('datareport-service.json'), 'guess')).status).toBe(401)
  })
})
