// The verified-secret cache of the HTTP entry points: a secret proven right is trusted until its
// TTL, for its own device only, never a wrong one; the cache stays within its size.
import { describe, expect, it } from 'vitest'
import { VerifiedSecrets } from '../../intake/device-login/verified-secrets.ts'

describe('VerifiedSecrets', () => {
  const at = (clock: { now: number }) => ({ ttlMs: 60_000, maxEntries: 3, now: () => clock.now })

  it('trusts a verified secret until its TTL, and only that secret', () => {
    const clock = { now: 0 }
    const cache = new VerifiedSecrets(at(clock))
    cache.remember('ft-1', 's3cret', 'fire_tank')
    expect(cache.check('ft-1', 's3cret')).toBe('fire_tank')
    expect(cache.check('ft-1', 's3cret ')).toBeUndefined()
    expect(cache.check('ft-1', '')).toBeUndefined()
    clock.now = 59_999
    expect(cache.check('ft-1', 's3cret')).toBe('fire_tank')
    clock.now = 60_000
    expect(cache.check('ft-1', 's3cret')).toBeUndefined()
  })

  it('never lets one device’s entry vouch for another device with the same secret', () => {
    const cache = new VerifiedSecrets(at({ now: 0 }))
    cache.remember('ft-1', 'shared', 'fire_tank')
    expect(cache.check('ft-2', 'shared')).toBeUndefined()
  })

  it('forgets a device when told, and the oldest device when full', () => {
    const cache = new VerifiedSecrets(at({ now: 0 }))
    for (const id of ['a', 'b', 'c']) cache.remember(id, 'x', 'manhole')
    cache.forget('b')
    expect(cache.check('b', 'x')).toBeUndefined()
    cache.remember('d', 'x', 'manhole')
    cache.remember('e', 'x', 'manhole')
    expect(cache.check('a', 'x')).toBeUndefined()
    expect(['c', 'd', 'e'].map((id) => cache.check(id, 'x'))).toEqual(['manhole', 'manhole', 'manhole'])
  })
})
