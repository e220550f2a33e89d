import { describe, expect, it } from 'vitest'
import { FailureThrottle } from '../../broker/auth.ts'

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
})
