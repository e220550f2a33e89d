// The one delivery pipeline's shared parts (notify/pump.ts): the retry decision both kinds of
// delivery settle by, and the pass that claims a batch and sends it — in parallel, except rows of
// one serial key (a rate-limited channel), which go one after the other.
import { describe, expect, it } from 'vitest'
import { AlertBus } from '../../alerts/events.ts'
import { silentLogger } from '../../core/log.ts'
import { DeliveryPump, settle } from '../../notify/pump.ts'

const policy = { retryBaseMs: 1000, retryMaxMs: 5000, maxAttempts: 4 }
const at = new Date('2026-03-02T00:00:00Z')
const later = (ms: number) => new Date(at.getTime() + ms)

describe('settle', () => {
  it('delivers, retries with capped doubling backoff, and gives up after the last attempt', () => {
    expect(settle(policy, 1, at, { ok: true, retryable: true })).toEqual({ outcome: 'delivered', retryAt: null })
    expect(settle(policy, 1, at, { ok: false, retryable: true })).toEqual({ outcome: 'retry', retryAt: later(1000) })
    expect(settle(policy, 3, at, { ok: false, retryable: true })).toEqual({ outcome: 'retry', retryAt: later(4000) })
    expect(settle({ ...policy, maxAttempts: 10 }, 5, at, { ok: false, retryable: true })).toEqual({ outcome: 'retry', retryAt: later(5000) })
    expect(settle(policy, 4, at, { ok: false, retryable: true })).toEqual({ outcome: 'failed', retryAt: null })
    expect(settle(policy, 1, at, { ok: false, retryable: false })).toEqual({ outcome: 'failed', retryAt: null })
  })

  it("waits for the receiver's Retry-After when it is longer than the backoff", () => {
    expect(settle(policy, 1, at, { ok: false, retryable: true, retryAfterMs: 60_000 })).toEqual({ outcome: 'retry', retryAt: later(60_000) })
    expect(settle(policy, 2, at, { ok: false, retryable: true, retryAfterMs: 500 })).toEqual({ outcome: 'retry', retryAt: later(2000) })
  })
})

describe('DeliveryPump', () => {
  it('claims with its lease, sends a serial key one at a time and the rest at once, and stops after the pass', async () => {
    const claims: { leaseMs: number; limit: number }[] = []
    const rows = [
      { id: 1, key: 'limited' },
      { id: 2, key: 'limited' },
      { id: 3, key: undefined },
      { id: 4, key: undefined },
    ]
    let inFlight = 0
    let limitedInFlight = 0
    let most = 0
    let mostLimited = 0
    const sent: number[] = []
    let allSent = () => {}
    const done = new Promise<void>((resolve) => (allSent = resolve))
    const pump = new DeliveryPump(
      'test',
      new AlertBus(),
      {
        claim: (_now, leaseMs, limit) => {
          claims.push({ leaseMs, limit })
          return Promise.resolve(claims.length === 1 ? rows : [])
        },
        deliver: async (row) => {
          inFlight++
          if (row.key) limitedInFlight++
          most = Math.max(most, inFlight)
          mostLimited = Math.max(mostLimited, limitedInFlight)
          await new Promise((resolve) => setTimeout(resolve, 10))
          sent.push(row.id)
          inFlight--
          if (row.key) limitedInFlight--
          if (sent.length === rows.length) allSent()
        },
        serialKey: (row) => row.key,
      },
      { pollMs: 60_000, leaseMs: 30_000, what: 'test dispatch' },
      silentLogger,
    )
    await pump.start()
    await done
    await pump.stop()
    expect(claims[0]).toEqual({ leaseMs: 30_000, limit: 50 })
    expect(sent.toSorted()).toEqual([1, 2, 3, 4])
    expect(sent.indexOf(1)).toBeLessThan(sent.indexOf(2))
    expect(mostLimited).toBe(1)
    expect(most).toBe(3)
  })
})
