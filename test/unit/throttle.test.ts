import { describe, expect, it } from 'vitest'
import { ConcurrencyLimit, FailureThrottle, throttleKeys } from '../../broker/auth.ts'

describe('failed-login throttle', () => {
  const opts = { freeAttempts: 3, baseDelayMs: 250, maxDelayMs: 8000, forgetAfterMs: 60_000, maxKeys: 3 }

  it('lets the first attempts through, then doubles the hold up to a cap', () => {
    let now = 0
    const t = new FailureThrottle(opts, () => now)
    const delays: number[] = []
    for (let i = 0; i < 10; i++) {
      delays.push(t.delayFor(['ip:1']))
      t.fail(['ip:1'])
      now += 10
    }
    expect(delays).toEqual([0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, 8000])
  })

  it('takes the worst of the keys, forgets after a quiet period, and resets on success', () => {
    let now = 0
    const t = new FailureThrottle(opts, () => now)
    for (let i = 0; i < 4; i++) t.fail(['user:a'])
    expect(t.delayFor(['ip:2', 'user:a'])).toBe(500)
    now += 60_001
    expect(t.delayFor(['user:a'])).toBe(0)
    for (let i = 0; i < 4; i++) t.fail(['user:b'])
    t.succeed(['user:b'])
    expect(t.delayFor(['user:b'])).toBe(0)
  })

  it('keeps a bounded number of keys, forgetting the oldest', () => {
    const t = new FailureThrottle(opts, () => 0)
    for (const k of ['a', 'b', 'c', 'd']) for (let i = 0; i < 4; i++) t.fail([k])
    expect(t.delayFor(['a'])).toBe(0)
    expect(t.delayFor(['d'])).toBe(500)
  })

  it('cannot be aimed at a device: failures from one address do not delay its logins from another', () => {
    const t = new FailureThrottle(opts, () => 0)
    for (let i = 0; i < 10; i++) t.fail(throttleKeys('mh-1', '10.0.0.66').all)
    expect(t.delayFor(throttleKeys('mh-1', '10.0.0.66').all)).toBe(8000)
    expect(t.delayFor(throttleKeys('mh-1', '10.0.0.7').all)).toBe(0)
    // A valid login does not reset the guesser's address.
    t.succeed(throttleKeys('other', '10.0.0.66').onSuccess)
    expect(t.delayFor(throttleKeys('other', '10.0.0.66').all)).toBe(8000)
  })

  it('without an address (RabbitMQ does not send it) counts per username only, so one guesser cannot slow everyone', () => {
    const t = new FailureThrottle(opts, () => 0)
    for (let i = 0; i < 10; i++) t.fail(throttleKeys('mh-1', undefined).all)
    expect(t.delayFor(throttleKeys('mh-1', undefined).all)).toBe(8000)
    expect(t.delayFor(throttleKeys('mh-2', undefined).all)).toBe(0)
  })
})

describe('password-check concurrency limit', () => {
  it('refuses beyond the total and the per-address bound, and frees slots on release', () => {
    const limit = new ConcurrencyLimit({ max: 3, maxPerKey: 2 })
    const a1 = limit.tryAcquire('a')
    const a2 = limit.tryAcquire('a')
    expect(limit.tryAcquire('a')).toBeUndefined()
    const b1 = limit.tryAcquire('b')
    expect(limit.tryAcquire('c')).toBeUndefined()
    expect([a1, a2, b1].every((r) => r !== undefined)).toBe(true)
    a1?.()
    a1?.() // a second release of the same slot frees nothing more
    expect(limit.inFlight).toBe(2)
    expect(limit.tryAcquire('c')).toBeDefined()
    expect(limit.tryAcquire('a')).toBeUndefined()
  })
})
