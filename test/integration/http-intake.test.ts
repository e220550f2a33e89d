// The HTTP entry points under load and resends, through real HTTP requests: a device's secret is
// checked by scrypt once and then trusted from the cache until it changes; a flood of wrong
// secrets meets a bound (503 auth_busy + Retry-After) while devices already verified keep
// posting; a device's decoder is read once and re-read when its profile changes; a platform that
// resends a rejected push (OneNET, CTWing) or a device resending with an Idempotency-Key leaves
// one dead letter, and distinct bad messages each keep theirs.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { onenetSignature } from '../../intake/http/onenet.ts'
import { provisionDevices } from '../../core/provision.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { upsertProfile } from '../../core/repos/profiles.ts'
import { hashSecret } from '../../core/secrets.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { eventually, hasPostgres } from '../helpers/services.ts'
import { COMMUNITY, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()
const ONENET = 'hb-intake-onenet'
const CTWING = 'hb-intake-ctwing'
/** A OneNET push of `msg`, signed as OneNET signs it, each with a nonce of its own (a nonce is taken once). */
let pushes = 0
const sign = (msg: string, nonce = `n0nce${pushes++}`) => `{"msg":${msg},"msg_signature":"${onenetSignature(ONENET, nonce, msg)}","nonce":"${nonce}"}`
const ctwingFixture = (name: string) => readFileSync(new URL(`../fixtures/ctwing/${name}`, import.meta.url), 'utf8').trim()

describe.skipIf(!pgUp)('HTTP entry points: credential and profile caches, bounded checks, idempotent dead letters', () => {
  let receivers: ReceiverStack
  let stack: TestStack
  let base: string

  beforeAll(async () => {
    // Two secret checks at once: a flood of wrong secrets saturates it at once.
    receivers = await startReceivers({ onenetPushToken: ONENET, ctwingPushToken: CTWING, deviceLogins: { maxConcurrent: 2, maxConcurrentPerAddress: 2 } })
    stack = receivers.stack
    base = receivers.base
    for (const c of await provisionDevices(stack.db, ['ft-2', 'ft-3', 'ft-4'].map((id) => ({ id, kind: 'fire_tank' as const, communityId: COMMUNITY })))) stack.creds.set(c.id, c)
    const profile = { id: 'scaled-tank', name: 'Scaled tank', kind: 'fire_tank', decoder: { fields: [{ metric: 'water_level_m', path: 'level', scale: 1 }] } }
    await upsertProfile(stack.db, { id: profile.id, kind: 'fire_tank', definition: profile })
    await updateDevice(stack.db, 'ft-2', { profileId: profile.id })
  })

  afterAll(() => receivers.stop())

  const basic = (id: string, secret = stack.creds.get(id)?.secret ?? '') => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
  const post = (id: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/ingest/v1/devices/${id}/telemetry`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: basic(id), ...headers } })
  const letters = (id: string) => stack.db.query<{ reason_code: string }>('SELECT reason_code FROM dead_letters WHERE device_id = $1', [id])
  const level = async (id: string, ts: number) =>
    (await stack.db.query<{ value: number }>('SELECT value FROM readings WHERE device_id = $1 AND metric = $2 AND ts = $3', [id, 'water_level_m', new Date(ts)]))[0]?.value

  it('checks a posting device’s secret once, not on every request', async () => {
    const verified = receivers.app.deviceLogins.verified
    const before = verified.misses
    for (let i = 0; i < 10; i++) expect((await post('ft-1', JSON.stringify({ values: { battery_pct: 50 + i } }))).status).toBe(200)
    expect(verified.misses - before).toBe(1)
    expect(verified.hits).toBeGreaterThanOrEqual(9)
    // What an operator sees on /metrics.
    const text = await (await fetch(`${base}/metrics`)).text()
    expect(Number(/^hb_http_device_auth_total\{outcome="cached"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(9)
  })

  it('refuses a flood of wrong secrets beyond the bound with 503 auth_busy and Retry-After, while a verified device keeps posting', async () => {
    expect((await post('el-1', JSON.stringify({ values: { running: true } }))).status).toBe(200)
    const flood = Array.from({ length: 40 }, (_, i) => post(i % 2 === 0 ? 'mh-1' : `nobody-${i}`, '{"values":{}}', { authorization: basic(i % 2 === 0 ? 'mh-1' : `nobody-${i}`, 'wrong-secret') }))
    const mine = Array.from({ length: 5 }, (_, i) => post('el-1', JSON.stringify({ ts: Date.now() - i, values: { running: true } })))
    const answers = await Promise.all(flood)
    const busy = answers.filter((r) => r.status === 503)
    expect(busy.length).toBeGreaterThan(0)
    expect(answers.every((r) => r.status === 503 || r.status === 401)).toBe(true)
    expect(busy[0]?.headers.get('retry-after')).toBe('1')
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^hb_http_device_auth_total\{outcome="busy"\} [1-9]/m)
    expect(await busy[0]?.json()).toMatchObject({ code: 'auth_busy' })
    expect((await Promise.all(mine)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
  })

  it('refuses the old secret once the device is given a new one, and accepts the new one', async () => {
    expect((await post('ft-4', JSON.stringify({ values: { battery_pct: 70 } }))).status).toBe(200)
    const old = stack.creds.get('ft-4')?.secret ?? ''
    await updateDevice(stack.db, 'ft-4', { secretHash: await hashSecret('the-new-secret-of-ft-4') })
    await eventually(async () => ((await post('ft-4', JSON.stringify({ values: { battery_pct: 71 } }), { authorization: basic('ft-4', old) })).status === 401 ? true : undefined), 10_000, 'the old secret refused')
    expect((await post('ft-4', JSON.stringify({ values: { battery_pct: 72 } }), { authorization: basic('ft-4', 'the-new-secret-of-ft-4') })).status).toBe(200)
  })

  it('reads a device’s decoder once, and again when its profile is edited', async () => {
    const profiles = receivers.app.deps.intake?.profiles
    const before = profiles?.misses ?? 0
    const t0 = Date.now() - 60_000
    for (let i = 0; i < 5; i++) expect((await post('ft-2', JSON.stringify({ level: 2 }))).status).toBe(200)
    expect((profiles?.misses ?? 0) - before).toBe(1)
    // The manufacturer's unit was centimetres after all: the edit applies to the next payload.
    const edited = { id: 'scaled-tank', name: 'Scaled tank', kind: 'fire_tank', decoder: { fields: [{ metric: 'water_level_m', path: 'level', scale: 0.01 }], time: { path: 't', format: 'ms' } } }
    await upsertProfile(stack.db, { id: edited.id, kind: 'fire_tank', definition: edited })
    let ts = t0
    await eventually(async () => {
      ts++
      // Until the edit is announced the old scale makes this 250 m, refused (422): not stored.
      await post('ft-2', JSON.stringify({ level: 250, t: ts }))
      return (await level('ft-2', ts)) === 2.5 ? true : undefined
    }, 10_000, 'the edited profile applied')
  })

  it('records a dead letter once when OneNET resends a rejected push, and once per distinct bad message', async () => {
    const push = (body: string) => fetch(`${base}/ingest/v1/onenet`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    const msg = '{"at":1764403200000,"type":1,"ds_id":"water_level_m","value":1,"dev_id":"onenet-ghost"}'
    // Resent signed anew (a nonce is taken once; the very same push again is refused as a replay).
    for (let i = 0; i < 3; i++) expect((await push(sign(msg))).status).toBe(200)
    expect(await letters('onenet-ghost')).toEqual([{ reason_code: 'unknown_device' }])
    expect((await push(sign('{"at":1764403260000,"type":1,"ds_id":"water_level_m","value":1,"dev_id":"onenet-ghost"}'))).status).toBe(200)
    expect(await letters('onenet-ghost')).toHaveLength(2)
  })

  it('follows an IMEI moved to another device, though platform devices are cached', async () => {
    const push = (at: number) =>
      fetch(`${base}/ingest/v1/onenet`, { method: 'POST', body: sign(`{"at":${at},"imei":"869975030099999","type":1,"ds_id":"battery_pct","value":60,"dev_id":1}`), headers: { 'content-type': 'application/json' } })
    const batteries = (id: string) => stack.db.query('SELECT 1 FROM readings WHERE device_id = $1 AND metric = $2', [id, 'battery_pct'])
    await updateDevice(stack.db, 'ft-3', { imei: '869975030099999' })
    const t = Date.now() - 30_000
    expect((await push(t)).status).toBe(200)
    expect(await batteries('ft-3')).toHaveLength(1)
    // The module is fitted to another tank.
    await updateDevice(stack.db, 'ft-3', { imei: null })
    await updateDevice(stack.db, 'ft-4', { imei: '869975030099999' })
    let at = t
    await eventually(async () => {
      await push(++at)
      return (await batteries('ft-4')).length > 0 ? true : undefined
    }, 10_000, 'the push to reach the tank the IMEI moved to')
  })

  it('records a dead letter once when CTWing retries a rejected push three times', async () => {
    const body = ctwingFixture('datareport-appdata.json')
    const push = (text: string) => fetch(`${base}/ingest/v1/ctwing?token=${CTWING}`, { method: 'POST', body: text, headers: { 'content-type': 'application/json' } })
    for (let i = 0; i < 4; i++) expect((await push(body)).status).toBe(200)
    // Its IMEI is nobody's: the dead letter is the platform device's, recorded once.
    expect(await letters('imei:862592051651472')).toHaveLength(1)
    expect((await push(body.replace('1650554828842', '1650554888842'))).status).toBe(200)
    expect(await letters('imei:862592051651472')).toHaveLength(2)
  })

  it('records a device’s resend with the same Idempotency-Key once, and each request without one', async () => {
    const bad = JSON.stringify({ ts: Date.now(), values: { water_level_m: 999 } })
    for (let i = 0; i < 2; i++) expect((await post('ft-3', bad, { 'idempotency-key': 'frame-17' })).status).toBe(422)
    expect(await letters('ft-3')).toHaveLength(1)
    for (let i = 0; i < 2; i++) expect((await post('ft-3', bad)).status).toBe(422)
    expect(await letters('ft-3')).toHaveLength(3)
  })
})
