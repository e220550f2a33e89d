// Issue 18, item 7: a device whose profile's decoder loops keeps sending, and a device of another
// profile is still decoded and stored within about one time budget — not after a queue of them —
// while every looping payload is dead-lettered with its reason. Real HTTP device API, real
// sandbox, real PostgreSQL; the bound is generous (2 × the budget) and the measured delay printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_SANDBOX_LIMITS } from '../../core/decoders/sandbox.ts'
import { provisionDevices } from '../../core/provision.ts'
import { assignProfile, startReceivers, testProfile, type ReceiverStack } from '../helpers/receivers.ts'
import { hasPostgres } from '../helpers/services.ts'
import { COMMUNITY, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

/** A time limit no good decoder reaches on a busy machine; the looping one always does. */
const BUDGET_MS = 1000
const BURST = 20
const LOOPS = 'function decodeUplink() { for (;;) {} }'

describe.skipIf(!pgUp)('decoders of different profiles (issue 18, item 7)', () => {
  let receivers: ReceiverStack
  let stack: TestStack

  beforeAll(async () => {
    receivers = await startReceivers({}, { ...DEFAULT_SANDBOX_LIMITS, timeLimitMs: BUDGET_MS, killAfterMs: BUDGET_MS })
    stack = receivers.stack
    await assignProfile(stack.db, testProfile('milesight-em320-tilt'), 'mh-2')
    await assignProfile(stack.db, testProfile('looping', LOOPS), 'mh-3')
  })

  afterAll(() => receivers.stop())

  const post = (id: string, body: Buffer, query = '') =>
    fetch(`${receivers.base}/ingest/v1/devices/${id}/telemetry${query}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream', authorization: `Basic ${Buffer.from(`${id}:${stack.creds.get(id)?.secret ?? ''}`).toString('base64')}` },
    })
  const TILT_UPLINK = Buffer.from('01756403D4000001005046', 'hex')

  it(`decodes and stores another profile's payload within 2 × the budget while a looping decoder's device sends ${BURST} at once; every looping payload is dead-lettered with its reason`, async () => {
    // Both devices' secrets checked once, so the burst is not held back by credential checks.
    expect((await post('mh-2', TILT_UPLINK, '?fPort=85')).status).toBe(200)
    expect((await post('mh-3', Buffer.from([0]))).status).toBe(422)

    const burst = Array.from({ length: BURST }, (_, i) => post('mh-3', Buffer.from([i + 1])))
    // The burst reaches the sandbox first; then the other device sends one.
    await new Promise((r) => setTimeout(r, 200))
    const sentAt = performance.now()
    const good = await post('mh-2', TILT_UPLINK, '?fPort=85')
    const delayMs = Math.round(performance.now() - sentAt)
    console.log(`[decoder fairness] another profile's payload decoded and stored in ${delayMs} ms while a looping decoder's device sent ${BURST} (budget ${BUDGET_MS} ms)`)
    expect(good.status).toBe(200)
    expect(delayMs).toBeLessThan(2 * BUDGET_MS)

    const answers = await Promise.all(burst)
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 422))
    const letters = await stack.db.query<{ reason_code: string; reason: string }>('SELECT reason_code, reason FROM dead_letters WHERE device_id = $1 ORDER BY id', ['mh-3'])
    // None silently dropped: the warm-up's and the burst's, each with its reason.
    expect(letters).toHaveLength(BURST + 1)
    for (const l of letters) {
      expect(l.reason_code).toBe('decoder_failed')
      expect(l.reason).toMatch(/profile "looping": (the decoder ran longer than 1000 ms and was stopped|decoder suspended until \d{4}-\d\d-\d\dT[\d:.]+Z)/)
    }
    // The breaker: three runs used their whole budget (the warm-up's and two of the burst's), then
    // the profile was suspended and the rest failed at once.
    expect(letters.filter((l) => l.reason.includes('ran longer than'))).toHaveLength(DEFAULT_SANDBOX_LIMITS.suspendAfter)
  }, 120_000)

  it('keeps the bound when more profiles loop at once than there are workers', async () => {
    const ids = ['mh-loop-a', 'mh-loop-b', 'mh-loop-c']
    expect(ids.length).toBeGreaterThan(DEFAULT_SANDBOX_LIMITS.workers)
    for (const c of await provisionDevices(stack.db, ids.map((id) => ({ id, kind: 'manhole' as const, communityId: COMMUNITY })))) stack.creds.set(c.id, c)
    for (const id of ids) await assignProfile(stack.db, testProfile(id, LOOPS), id)
    // Secrets checked once (each device's first payload is dead-lettered like the rest).
    await Promise.all(ids.map((id) => post(id, Buffer.from([0]))))
    const burst = ids.flatMap((id) => Array.from({ length: 10 }, (_, i) => post(id, Buffer.from([i + 1]))))
    await new Promise((r) => setTimeout(r, 200))
    const sentAt = performance.now()
    const good = await post('mh-2', TILT_UPLINK, '?fPort=85')
    const delayMs = Math.round(performance.now() - sentAt)
    console.log(`[decoder fairness] another profile's payload decoded and stored in ${delayMs} ms while ${ids.length} looping decoders' devices sent 10 each (budget ${BUDGET_MS} ms, ${DEFAULT_SANDBOX_LIMITS.workers} workers)`)
    expect(good.status).toBe(200)
    expect(delayMs).toBeLessThan(2 * BUDGET_MS)
    expect((await Promise.all(burst)).every((r) => r.status === 422)).toBe(true)
    // Each device's 11 dead-lettered: 3 stopped at the limit, then suspended.
    const letters = await stack.db.query<{ device_id: string; n: number; stopped: number }>(
      `SELECT device_id, count(*)::int AS n, count(*) FILTER (WHERE reason LIKE '%ran longer than%')::int AS stopped
         FROM dead_letters WHERE device_id = ANY($1) AND reason_code = 'decoder_failed' GROUP BY device_id ORDER BY device_id`,
      [ids],
    )
    expect(letters).toEqual(ids.map((id) => ({ device_id: id, n: 11, stopped: DEFAULT_SANDBOX_LIMITS.suspendAfter })))
  }, 120_000)
})
