// The HTTP device API through real HTTP requests: a device posts with its own id and secret and
// is answered after the commit; the contract, or its vendor payload decoded by its profile; the
// same dead letters as MQTT; a hostile decoder is stopped while other devices keep posting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_SANDBOX_LIMITS } from '../../core/decoders/sandbox.ts'
import { provisionDevices } from '../../core/provision.ts'
import { assignProfile, startReceivers, testProfile, type ReceiverStack } from '../helpers/receivers.ts'
import { hasPostgres } from '../helpers/services.ts'
import { COMMUNITY, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('HTTP device API', () => {
  let receivers: ReceiverStack
  let stack: TestStack
  let base: string

  beforeAll(async () => {
    // A decoder time limit no good decoder reaches on a busy machine; a bad one is what stops.
    receivers = await startReceivers({}, { ...DEFAULT_SANDBOX_LIMITS, timeLimitMs: 1000, killAfterMs: 1000 })
    stack = receivers.stack
    base = receivers.base
    await assignProfile(stack.db, testProfile('milesight-em320-tilt'), 'mh-2')
    await assignProfile(stack.db, testProfile('looping', 'function decodeUplink() { for (;;) {} }'), 'mh-3')
  })

  afterAll(() => receivers.stop())

  const basic = (id: string, secret = stack.creds.get(id)?.secret ?? '') => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
  const post = (id: string, body: string | Buffer, headers: Record<string, string> = {}, query = '') =>
    fetch(`${base}/ingest/v1/devices/${id}/telemetry${query}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: basic(id), ...headers } })
  const readings = (id: string) => stack.db.query<{ metric: string; value: number }>('SELECT metric, value FROM readings WHERE device_id = $1 ORDER BY metric', [id])
  const letters = (id: string) => stack.db.query<{ topic: string; reason_code: string; reason: string }>('SELECT topic, reason_code, reason FROM dead_letters WHERE device_id = $1 ORDER BY id', [id])

  it('stores the telemetry contract and answers 200 once it is committed', async () => {
    const res = await post('ft-1', JSON.stringify([{ ts: Date.now() - 5000, values: { water_level_m: 3.1 } }, { values: { battery_pct: 64 } }]))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ stored: 2, rejected: 0, rejections: [] })
    // Committed before the answer: visible at once.
    expect(await readings('ft-1')).toEqual([
      { metric: 'battery_pct', value: 64 },
      { metric: 'water_level_m', value: 3.1 },
    ])
  })

  it('takes the credentials as a bearer id:secret too', async () => {
    const res = await post('el-1', JSON.stringify({ values: { running: true } }), { authorization: `Bearer el-1:${stack.creds.get('el-1')?.secret ?? ''}` })
    expect(res.status).toBe(200)
  })

  it('refuses missing, wrong and borrowed credentials with 401 and a challenge', async () => {
    const none = await fetch(`${base}/ingest/v1/devices/ft-1/telemetry`, { method: 'POST', body: '{"values":{"battery_pct":1}}', headers: { 'content-type': 'application/json' } })
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /)
    expect(await none.json()).toMatchObject({ code: 'unauthorized' })
    expect((await post('ft-1', '{"values":{"battery_pct":1}}', { authorization: basic('ft-1', 'not-the-secret') })).status).toBe(401)
    const borrowed = await post('ft-1', '{"values":{"battery_pct":1}}', { authorization: basic('el-1') })
    expect(await borrowed.json()).toEqual({ code: 'unauthorized', message: 'These credentials are not those of device "ft-1"' })
  })

  it('answers 422 with the reasons when every part went to dead letters, recorded as MQTT ones are', async () => {
    const res = await post('el-1', JSON.stringify({ values: { water_level_m: 2 } }))
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ code: 'telemetry_rejected', details: { stored: 0, rejected: 1, rejections: [{ reasonCode: 'unknown_metric' }] } })
    expect(await letters('el-1')).toEqual([{ topic: 'http/devices/el-1', reason_code: 'unknown_metric', reason: expect.stringContaining('water_level_m') as string }])
    const bad = await post('el-1', '{"values":')
    expect(await bad.json()).toMatchObject({ code: 'telemetry_rejected', details: { rejections: [{ reasonCode: 'malformed_json' }] } })
  })

  it('decodes the vendor payload of a device with a profile (Milesight EM320-TILT bytes)', async () => {
    const res = await post('mh-2', Buffer.from('017564 03D400000100 5046'.replace(/\s/g, ''), 'hex'), { 'content-type': 'application/octet-stream' }, '?fPort=85')
    expect(await res.json()).toEqual({ stored: 2, rejected: 0, rejections: [] })
    expect(await readings('mh-2')).toEqual([
      { metric: 'battery_pct', value: 100 },
      { metric: 'cover_tilt_deg', value: 0 },
    ])
  })

  it('dead-letters the payload of a device whose decoder loops, while another device keeps posting', async () => {
    const [looping, other] = await Promise.all([post('mh-3', Buffer.from([1, 2, 3]), { 'content-type': 'application/octet-stream' }), post('mh-1', JSON.stringify({ values: { cover_tilt_deg: 4 } }))])
    expect(looping.status).toBe(422)
    expect(other.status).toBe(200)
    const [letter] = await letters('mh-3')
    expect(letter).toMatchObject({ topic: 'http/devices/mh-3', reason_code: 'decoder_failed' })
    expect(letter?.reason).toContain('profile "looping": the decoder ran longer than 1000 ms and was stopped')
  })

  // The issue's sandbox list, each through the real path: stopped, dead-lettered with its reason,
  // while a device with a good decoder posts alongside and is stored.
  const HOSTILE = [
    ['allocates', 'var hoard = []; for (;;) hoard.push(new Array(100000).fill(input.bytes[0]))', /out of memory|ran longer than 1000 ms and was stopped/],
    ['reads-process', 'return { data: { cover_tilt_deg: process.memoryUsage().rss } }', /ReferenceError: 'process' is not defined/],
    ['calls-require', "var fs = require('fs'); return { data: { cover_tilt_deg: fs.readFileSync('/etc/passwd').length } }", /ReferenceError: 'require' is not defined/],
    ['returns-garbage', "return { data: { cover_tilt_deg: 'tilted', battery_pct: { pct: 3 } } }", /returned "tilted" for "cover_tilt_deg", not a number or boolean/],
  ] as const

  it('dead-letters the payloads of decoders that allocate without end, reach for process or require, or return non-numbers, while another device keeps posting', async () => {
    const ids = HOSTILE.map(([name]) => `mh-${name}`)
    for (const c of await provisionDevices(stack.db, ids.map((id) => ({ id, kind: 'manhole' as const, communityId: COMMUNITY })))) stack.creds.set(c.id, c)
    for (const [name, body] of HOSTILE) await assignProfile(stack.db, testProfile(name, `function decodeUplink(input) { ${body} }`), `mh-${name}`)
    const bytes = Buffer.from([1, 2, 3])
    const hostile = ids.map((id) => post(id, bytes, { 'content-type': 'application/octet-stream' }))
    const good = post('mh-2', Buffer.from('01756403D4000001005046', 'hex'), { 'content-type': 'application/octet-stream' }, '?fPort=85')
    expect((await good).status).toBe(200)
    expect((await Promise.all(hostile)).map((r) => r.status)).toEqual(ids.map(() => 422))
    for (const [name, , reason] of HOSTILE) {
      const [letter] = await letters(`mh-${name}`)
      expect(letter).toMatchObject({ topic: `http/devices/mh-${name}`, reason_code: 'decoder_failed' })
      expect(letter?.reason).toMatch(reason)
    }
  })
})
