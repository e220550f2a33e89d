import { describe, expect, it } from 'vitest'
import { ConcurrencyLimit, FailureThrottle, throttleKeys } from '../../intake/device-login/gate.ts'

describe('failed-login throttle', () => {
  const opts = { freeAttempts: 3, baseDelayMs: 250, maxDelayMs: 8000, forgetAfterMs: 60_000, maxKeys: 6 }
  const keys = throttleKeys

  it('lets the first attempts through, then doubles the hold up to a cap', () => {
    let now = 0
    const t = new FailureThrottle(opts, () => now)
    const delays: number[] = []
    for (let i = 0; i < 10; i++) {
      delays.push(t.delayFor(keys('a', '10.0.0.1').identity))
      t.fail(keys('a', '10.0.0.1'))
      now += 10
    }
    expect(delays).toEqual([0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, 8000])
    expect(t.delayFor(keys('a', '10.0.0.1').address)).toBe(8000)
  })

  it('forgets after a quiet period', () => {
    let now = 0
    const t = new FailureThrottle(opts, () => now)
    for (let i = 0; i < 4; i++) t.fail(keys('a', '10.0.0.2'))
    expect(t.delayFor(keys('a', '10.0.0.2').identity)).toBe(500)
    now += 60_001
    expect(t.delayFor(keys('a', '10.0.0.2').identity)).toBe(0)
    expect(t.delayFor(keys('a', '10.0.0.2').address)).toBe(0)
  })

  it('keeps a bounded number of keys, forgetting the oldest', () => {
    const t = new FailureThrottle(opts, () => 0)
    for (const u of ['a', 'b', 'c', 'd']) for (let i = 0; i < 4; i++) t.fail(keys(u, `10.0.1.${u.charCodeAt(0)}`))
    expect(t.delayFor(keys('a', '10.0.1.97').identity)).toBe(0)
    expect(t.delayFor(keys('d', '10.0.1.100').identity)).toBe(500)
  })

  it('cannot be aimed at a device: failures from one address do not count against its logins from another', () => {
    const t = new FailureThrottle(opts, () => 0)
    for (let i = 0; i < 10; i++) t.fail(keys('mh-1', '10.0.0.66'))
    expect(t.delayFor(keys('mh-1', '10.0.0.66').identity)).toBe(8000)
    expect(t.delayFor(keys('mh-1', '10.0.0.7').identity)).toBe(0)
    expect(t.delayFor(keys('mh-1', '10.0.0.7').address)).toBe(0)
  })

  it('wipes an identity on success, with its share of its address, and no one else’s (issue 18, item 7)', () => {
    const t = new FailureThrottle(opts, () => 0)
    for (let i = 0; i < 5; i++) t.fail(keys('mh-1', '10.0.0.8'))
    for (let i = 0; i < 4; i++) t.fail(keys('mh-2', '10.0.0.8'))
    expect(t.delayFor(keys('mh-1', '10.0.0.8').address)).toBe(8000)
    t.succeed(keys('mh-1', '10.0.0.8'))
    expect(t.delayFor(keys('mh-1', '10.0.0.8').identity)).toBe(0)
    // mh-2's four failures stay on the address.
    expect(t.delayFor(keys('mh-1', '10.0.0.8').address)).toBe(500)
    // A guesser logging in with a secret it holds does not wipe its address's count.
    t.succeed(keys('other', '10.0.0.8'))
    expect(t.delayFor(keys('other', '10.0.0.8').address)).toBe(500)
    t.succeed(keys('mh-2', '10.0.0.8'))
    expect(t.delayFor(keys('mh-2', '10.0.0.8').address)).toBe(0)
  })

  it('without an address (RabbitMQ does not send it) counts per username only, so one guesser cannot slow everyone', () => {
    const t = new FailureThrottle(opts, () => 0)
    for (let i = 0; i < 10; i++) t.fail(keys('mh-1', undefined))
    expect(keys('mh-1', undefined).address).toBeUndefined()
    expect(t.delayFor(keys('mh-1', undefined).identity)).toBe(8000)
    expect(t.delayFor(keys('mh-2', undefined).identity)).toBe(0)
    t.succeed(keys('mh-1', undefined))
    expect(t.delayFor(keys('mh-1', undefined).identity)).toBe(0)
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
