// The OneNET HTTP push receiver through real HTTP requests, with the manual's message examples
// (test/fixtures/onenet, with their source): URL verification, signed data points and status
// messages stored and answered 200 after commit, resends stored once, unsigned and badly signed
// pushes refused with 401 bad_signature.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { onenetSignature, rawMember } from '../../intake/http/onenet.ts'
import { provisionDevices } from '../../core/provision.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { upsertProfile } from '../../core/repos/profiles.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { hasPostgres } from '../helpers/services.ts'
import { COMMUNITY, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()
const TOKEN = 'hb-test-push-token'
const fixture = (name: string) => readFileSync(new URL(`../fixtures/onenet/${name}`, import.meta.url), 'utf8').trim()

let pushes = 0
/** A push as OneNET sends it in plaintext mode, signed with `token`; each push has a nonce of its own. */
function push(msg: string, token = TOKEN, nonce = `abcdefgh${pushes++}`): string {
  return `{"msg":${msg},"msg_signature":"${onenetSignature(token, nonce, msg)}","nonce":"${nonce}"}`
}

describe('rawMember', () => {
  it('finds the exact text of a member, with nested braces, commas and quotes in strings', () => {
    const text = '{"nonce":"a,}b","msg":[{"v":"x\\"}"},{"n":1.50}] ,"msg_signature":"s"}'
    expect(rawMember(text, 'msg')).toBe('[{"v":"x\\"}"},{"n":1.50}]')
    expect(rawMember('{"a":{"msg":1},"msg":2}', 'msg')).toBe('2')
    expect(rawMember('{"a":1}', 'msg')).toBeUndefined()
  })
})

describe.skipIf(!pgUp)('OneNET HTTP push receiver', () => {
  let receivers: ReceiverStack
  let stack: TestStack
  let base: string

  beforeAll(async () => {
    receivers = await startReceivers({ onenetPushToken: TOKEN })
    stack = receivers.stack
    base = receivers.base
    // The manual's device 2016617 reports "temperature": a profile maps it to the catalogue.
    await provisionDevices(stack.db, [
      { id: '2016617', kind: 'fire_tank', communityId: COMMUNITY },
      { id: 'ft-nb', kind: 'fire_tank', communityId: COMMUNITY },
    ])
    const profile = { id: 'onenet-tank', name: 'Tank on OneNET', kind: 'fire_tank', decoder: { fields: [{ metric: 'water_temp_c', path: 'datapoints.temperature', optional: true }] } }
    await upsertProfile(stack.db, { id: profile.id, kind: 'fire_tank', definition: profile })
    // The manual's messages carry no IMEI: the device accepts pushes naming it by its OneNET dev_id.
    await updateDevice(stack.db, '2016617', { profileId: 'onenet-tank', platformIdFallback: true })
    await updateDevice(stack.db, 'ft-nb', { imei: '869975030012345' })
  })

  afterAll(() => receivers.stop())

  const post = (body: string) => fetch(`${base}/ingest/v1/onenet`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  const readings = (id: string) => stack.db.query<{ metric: string; value: number; ts: Date }>('SELECT metric, value, ts FROM readings WHERE device_id = $1 ORDER BY metric', [id])

  it('passes the URL verification with the right token and answers msg', async () => {
    const msg = 'hello-onenet'
    const nonce = 'Kb7yQ2'
    const signature = encodeURIComponent(onenetSignature(TOKEN, nonce, msg))
    const ok = await fetch(`${base}/ingest/v1/onenet?msg=${msg}&nonce=${nonce}&signature=${signature}`)
    expect(ok.status).toBe(200)
    expect(await ok.text()).toBe(msg)
    const wrong = await fetch(`${base}/ingest/v1/onenet?msg=${msg}&nonce=${nonce}&signature=${encodeURIComponent(onenetSignature('other-token', nonce, msg))}`)
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toMatchObject({ code: 'bad_signature' })
  })

  it('stores the manual data point through the device profile and answers 200 after commit; a resend stores nothing twice', async () => {
    const body = push(fixture('datapoint.json'))
    const first = await post(body)
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ stored: 1, rejected: 0, rejections: [] })
    expect(await readings('2016617')).toEqual([{ metric: 'water_temp_c', value: 42, ts: new Date(1466133706841) }])
    // OneNET resends what it did not see answered 200, signed anew: the reading's key makes it a no-op.
    expect((await post(push(fixture('datapoint.json')))).status).toBe(200)
    expect(await readings('2016617')).toHaveLength(1)
    // The very same push again (its nonce taken) is a replay: refused, nothing done.
    expect(await (await post(body)).json()).toMatchObject({ code: 'replayed_push' })
  })

  it('takes a batch of NB-IoT messages mapped by IMEI, numbers sent as text included, and the online message', async () => {
    const res = await post(push(fixture('batch-nb.json')))
    expect(await res.json()).toEqual({ stored: 2, rejected: 0, rejections: [] })
    expect((await readings('ft-nb')).map((r) => [r.metric, r.value])).toEqual([
      ['battery_pct', 81],
      ['water_level_m', 2.2],
    ])
    const [status] = await stack.db.query<{ status: string }>('SELECT status FROM device_status WHERE device_id = $1', ['ft-nb'])
    expect(status?.status).toBe('online')
  })

  it('records the offline message of the manual', async () => {
    expect((await post(push(fixture('status.json')))).status).toBe(200)
    const [status] = await stack.db.query<{ status: string }>('SELECT status FROM device_status WHERE device_id = $1', ['2016617'])
    expect(status?.status).toBe('offline')
  })

  it('refuses unsigned, wrongly signed and tampered pushes with 401 bad_signature and stores nothing', async () => {
    const msg = '{"at":1466133800000,"type":1,"ds_id":"temperature","value":99,"dev_id":2016617}'
    const unsigned = await post(`{"msg":${msg}}`)
    expect(unsigned.status).toBe(401)
    expect(await unsigned.json()).toMatchObject({ code: 'bad_signature' })
    expect((await post(push(msg, 'not-our-token'))).status).toBe(401)
    const tampered = push(msg).replace('"value":99', '"value":98')
    expect((await post(tampered)).status).toBe(401)
    expect((await readings('2016617')).map((r) => r.value)).toEqual([42])
  })

  it('dead-letters a data point for a device nobody registered, and still answers 200', async () => {
    const res = await post(push('{"at":1466133706841,"type":1,"ds_id":"water_level_m","value":1,"dev_id":999}'))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ stored: 0, rejected: 1, rejections: [{ reasonCode: 'unknown_device' }] })
  })
})
