// The webhook destination policy (issue 7, item 12): ranges, the allow-list, and the lookup that
// checks exactly the addresses the socket will use (so DNS rebinding cannot slip past).
import type dns from 'node:dns'
import type { LookupAddress } from 'node:dns'
import { describe, expect, it } from 'vitest'
import { deniedRange, destinationPolicy, guardedLookup, literalDenial } from '../../api/webhooks/destination.ts'

const none = destinationPolicy([])

/** A resolver that answers every name with the given addresses. */
function resolverOf(addresses: string[]): typeof dns.lookup {
  const fake = (_host: string, _opts: unknown, cb: (err: Error | null, list: LookupAddress[]) => void) => {
    cb(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))
  }
  return fake as unknown as typeof dns.lookup
}

function lookup(policy: ReturnType<typeof destinationPolicy>, host: string, answers: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    guardedLookup(policy, resolverOf(answers))(host, {}, (err, address) => (err ? reject(err) : resolve(address as string)))
  })
}

describe('webhook destinations', () => {
  it('denies every special range and allows public unicast', () => {
    for (const [ip, range] of [
      ['127.0.0.1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['169.254.169.254', 'linkLocal'],
      ['224.0.0.1', 'multicast'],
      ['::1', 'loopback'],
      ['fe80::1', 'linkLocal'],
      ['fd00::1', 'uniqueLocal'],
      ['::ffff:10.0.0.1', 'private'],
      ['0.0.0.0', 'unspecified'],
    ]) expect(deniedRange(ip ?? '', none), ip).toBe(range)
    expect(deniedRange('93.184.216.34', none)).toBeUndefined()
    expect(deniedRange('2606:2800:220:1:248:1893:25c8:1946', none)).toBeUndefined()
  })

  it('allows what the allow-list names: an address, a network, a host name', () => {
    const policy = destinationPolicy(['127.0.0.1', '10.20.0.0/16', 'hooks.internal'])
    expect(deniedRange('127.0.0.1', policy)).toBeUndefined()
    expect(deniedRange('127.0.0.2', policy)).toBe('loopback')
    expect(deniedRange('10.20.9.9', policy)).toBeUndefined()
    expect(deniedRange('10.21.0.1', policy)).toBe('private')
    expect(literalDenial(new URL('http://hooks.internal/x'), policy)).toBeUndefined()
    expect(literalDenial(new URL('http://localhost/x'), none)).toBe('loopback')
    expect(literalDenial(new URL('http://localhost./x'), none)).toBe('loopback')
    expect(literalDenial(new URL('http://2130706433/x'), none)).toBe('loopback')
    expect(literalDenial(new URL('http://[::1]/x'), none)).toBe('loopback')
    expect(literalDenial(new URL('http://example.com/x'), none)).toBeUndefined()
  })

  it('refuses a name when any address it resolves to is denied, and connects to the address it checked', async () => {
    await expect(lookup(none, 'rebind.example', ['93.184.216.34', '127.0.0.1'])).rejects.toMatchObject({ code: 'EDESTINATIONDENIED', range: 'loopback' })
    await expect(lookup(none, 'meta.example', ['169.254.169.254'])).rejects.toMatchObject({ range: 'linkLocal' })
    await expect(lookup(none, 'public.example', ['93.184.216.34'])).resolves.toBe('93.184.216.34')
    await expect(lookup(destinationPolicy(['hooks.internal']), 'hooks.internal', ['10.0.0.7'])).resolves.toBe('10.0.0.7')
  })
})
