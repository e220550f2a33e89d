// Issue 18 (items 2, 5 and the receivers' part of 7), one test per finding, through real HTTP
// requests and a real MQTT client on PostgreSQL: a OneNET signature covers exactly what is
// processed (a second `msg` key is refused), a processed nonce is refused by every API process, a
// platform token writes only to devices registered for platform pushes, no input gets a 5xx, and
// nothing vanishes — an empty message and a (metric, ts) given twice are dead-lettered with their
// reason, and the answer counts what was stored and what was refused.
// Signatures are computed here with OneNET's documented algorithm, Base64(MD5(token + nonce + msg)).
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { topics } from '../../core/contract.ts'
import { DEFAULT_SANDBOX_LIMITS, DecoderSandbox } from '../../core/decoders/sandbox.ts'
import { receiverCaches } from '../../intake/receiver.ts'
import { provisionDevices } from '../../core/provision.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { apiFor } from '../helpers/api.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { hasPostgres } from '../helpers/services.ts'
import { COMMUNITY, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()
const ONENET = 'hb-test-onenet-token'
const CTWING = 'hb-test-ctwing-token'
const IMEI = '869975030099901'

/** OneNET's signature (HTTP推送 开发指南): MD5 over token, nonce and the msg text, Base64. */
const md5b64 = (text: string) => createHash('md5').update(text, 'utf8').digest('base64')
let nonces = 0
const freshNonce = () => `n${Date.now().toString(36)}${(nonces++).toString(36)}`
/** A push as OneNET sends it, the msg text signed byte for byte. */
const signedPush = (msg: string, nonce = freshNonce()) => `{"msg":${msg},"msg_signature":"${md5b64(ONENET + nonce + msg)}","nonce":"${nonce}"}`

describe.skipIf(!pgUp)('receivers: signatures, replays, platform devices, hostile bodies, nothing vanishes (issue 18)', () => {
  let receivers: ReceiverStack
  let stack: TestStack
  let base: string
  let second: App
  let sandbox: DecoderSandbox

  beforeAll(async () => {
    receivers = await startReceivers({ onenetPushToken: ONENET, ctwingPushToken: CTWING })
    stack = receivers.stack
    base = receivers.base
    await provisionDevices(stack.db, [{ id: 'mh-nb', kind: 'manhole', communityId: COMMUNITY }])
    await updateDevice(stack.db, 'mh-nb', { imei: IMEI })
    // A second API process on the same database: what one saw, the other must know.
    sandbox = new DecoderSandbox(DEFAULT_SANDBOX_LIMITS)
    await sandbox.start()
    second = (await apiFor(stack.db, { timescale: undefined }, { onenetPushToken: ONENET }, undefined, undefined, { db: stack.db, sink: stack.unit.ingest.pipeline, sandbox, ...receiverCaches() })).app
  })

  afterAll(async () => {
    await second.close()
    await sandbox.stop()
    await receivers.stop()
  })

  const onenet = (body: string) => fetch(`${base}/ingest/v1/onenet`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  const ctwing = (body: string) => fetch(`${base}/ingest/v1/ctwing?token=${CTWING}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  const readings = (id: string, metric: string) => stack.db.query<{ value: number }>('SELECT value FROM readings WHERE device_id = $1 AND metric = $2 ORDER BY ts', [id, metric])
  const letters = (id: string, reason: string) => stack.db.query<{ reason: string; topic: string }>('SELECT reason, topic FROM dead_letters WHERE device_id = $1 AND reason_code = $2 ORDER BY id', [id, reason])
  const status = async (id: string) => (await stack.db.query<{ status: string }>('SELECT status FROM device_status WHERE device_id = $1', [id]))[0]?.status

  describe('OneNET: the signature covers what is processed', () => {
    it('refuses a push with a second `msg` key (a forged tilt riding on a captured signature): 400, nothing stored, no alert', async () => {
      const at = Date.now()
      const captured = `{"at":${at},"imei":"${IMEI}","type":1,"ds_id":"battery_pct","value":90,"dev_id":51}`
      const forged = `{"at":${at},"imei":"${IMEI}","type":1,"ds_id":"cover_tilt_deg","value":77,"dev_id":51}`
      const nonce = freshNonce()
      const body = `{"msg":${captured},"msg":${forged},"msg_signature":"${md5b64(ONENET + nonce + captured)}","nonce":"${nonce}"}`
      const res = await onenet(body)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('"msg" given more than once') as string })
      expect(await readings('mh-nb', 'cover_tilt_deg')).toEqual([])
      expect(await readings('mh-nb', 'battery_pct')).toEqual([])
      expect(await stack.db.query('SELECT id FROM alerts')).toEqual([])
    })

    it('refuses a replayed nonce with 409 replayed_push, in this API process and in another one, and does nothing again', async () => {
      const online = signedPush(`{"at":${Date.now()},"imei":"${IMEI}","type":2,"status":1,"dev_id":51}`)
      const offline = signedPush(`{"at":${Date.now() + 1},"imei":"${IMEI}","type":2,"status":0,"dev_id":51}`)
      expect((await onenet(online)).status).toBe(200)
      expect(await status('mh-nb')).toBe('online')
      expect((await onenet(offline)).status).toBe(200)
      expect(await status('mh-nb')).toBe('offline')
      // The captured "online" push, replayed: to the same process and to the other one.
      const again = await onenet(online)
      expect(again.status).toBe(409)
      expect(await again.json()).toMatchObject({ code: 'replayed_push' })
      const elsewhere = await second.inject({ method: 'POST', url: '/ingest/v1/onenet', payload: online, headers: { 'content-type': 'application/json' } })
      expect(elsewhere.statusCode).toBe(409)
      expect(await status('mh-nb')).toBe('offline')
    })

    it("refuses a platform token's data for an MQTT-only device (the dev_id fallback) unless that device opted in", async () => {
      const at = Date.now()
      const res = await onenet(signedPush(`{"at":${at},"type":1,"ds_id":"cover_tilt_deg","value":77,"dev_id":"mh-1"}`))
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ stored: 0, rejected: 1, rejections: [{ reasonCode: 'unknown_device', reason: expect.stringContaining('not registered for platform pushes') as string }] })
      expect(await readings('mh-1', 'cover_tilt_deg')).toEqual([])
      // The same through CTWing.
      const viaCtwing = await ctwing(JSON.stringify({ messageType: 'dataReport', deviceId: 'mh-1', timestamp: at, payload: { serviceData: { cover_tilt_deg: 77 } } }))
      expect(await viaCtwing.json()).toMatchObject({ stored: 0, rejected: 1, rejections: [{ reasonCode: 'unknown_device' }] })
      expect(await readings('mh-1', 'cover_tilt_deg')).toEqual([])
      // The device opts in through the API; then pushes may name it by id.
      const patched = await fetch(`${base}/api/v1/devices/mh-1`, { method: 'PATCH', body: JSON.stringify({ platformIdFallback: true }), headers: { 'content-type': 'application/json', authorization: `Bearer ${receivers.token}` } })
      expect(await patched.json()).toMatchObject({ id: 'mh-1', platformIdFallback: true })
      const accepted = await onenet(signedPush(`{"at":${at},"type":1,"ds_id":"cover_tilt_deg","value":12,"dev_id":"mh-1"}`))
      expect(await accepted.json()).toEqual({ stored: 1, rejected: 0, rejections: [] })
      expect(await readings('mh-1', 'cover_tilt_deg')).toEqual([{ value: 12 }])
      // A device registered for platform pushes from the start.
      const created = await fetch(`${base}/api/v1/devices`, { method: 'POST', body: JSON.stringify({ id: 'mh-onenet', kind: 'manhole', communityId: COMMUNITY, platformIdFallback: true }), headers: { 'content-type': 'application/json', authorization: `Bearer ${receivers.token}` } })
      expect(await created.json()).toMatchObject({ device: { id: 'mh-onenet', platformIdFallback: true } })
    })
  })

  describe('no 5xx for hostile bodies', () => {
    it('answers `null` to OneNET with 400 validation_failed saying what a push is, without any credential', async () => {
      const res = await onenet('null')
      expect(res.status).toBe(400)
      expect(await res.json()).toEqual({ code: 'validation_failed', message: 'body: null; expected the JSON object of a OneNET push { msg, msg_signature, nonce }' })
    })

    it('answers 10,000 levels of JSON to CTWing with 400', async () => {
      const res = await ctwing(`${'['.repeat(10_000)}${']'.repeat(10_000)}`)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('nested deeper than') as string })
    })

    it('answers a CTWing body that is a JSON array with 400, nothing stored', async () => {
      const res = await ctwing(JSON.stringify([{ messageType: 'dataReport', deviceId: 'x', IMEI, timestamp: Date.now(), payload: { serviceData: { battery_pct: 50 } } }]))
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('an array') as string })
    })
  })

  describe('nothing vanishes', () => {
    it('dead-letters `[]` with its reason on MQTT and on the HTTP device API (422)', async () => {
      const client = await stack.connect('ft-1')
      await client.publishAsync(topics.deviceTelemetry('ft-1'), '[]', { qos: 1 })
      await client.endAsync()
      expect(await letters('ft-1', 'empty_message')).toEqual([{ topic: 'hb/v1/devices/ft-1/telemetry', reason: expect.stringContaining('an empty array') as string }])
      const secret = stack.creds.get('el-1')?.secret ?? ''
      const res = await fetch(`${base}/ingest/v1/devices/el-1/telemetry`, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`el-1:${secret}`).toString('base64')}` } })
      expect(res.status).toBe(422)
      expect(await res.json()).toMatchObject({ code: 'telemetry_rejected', details: { stored: 0, rejected: 1, rejections: [{ reasonCode: 'empty_message' }] } })
      expect(await letters('el-1', 'empty_message')).toHaveLength(1)
    })

    it('dead-letters duplicate (metric, ts) entries of one message, and the HTTP answer counts what was stored and refused', async () => {
      const ts = Date.now() - 1000
      const entries = Array.from({ length: 1000 }, (_, i) => ({ ts, values: { car_load_kg: i } }))
      const secret = stack.creds.get('el-1')?.secret ?? ''
      const res = await fetch(`${base}/ingest/v1/devices/el-1/telemetry`, { method: 'POST', body: JSON.stringify(entries), headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`el-1:${secret}`).toString('base64')}` } })
      expect(res.status).toBe(200)
      const body = (await res.json()) as { stored: number; rejected: number; rejections: { reasonCode: string }[] }
      expect({ stored: body.stored, rejected: body.rejected, first: body.rejections[0]?.reasonCode }).toEqual({ stored: 1, rejected: 999, first: 'duplicate_reading' })
      expect(await readings('el-1', 'car_load_kg')).toEqual([{ value: 0 }])
      const recorded = await letters('el-1', 'duplicate_reading')
      expect(recorded.length).toBeGreaterThan(0)
      expect(recorded[0]?.reason).toContain('[1].values.car_load_kg')
    })
  })
})
