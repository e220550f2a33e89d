// The egress guard (issue 7 item 12, issue 18 item 1): ranges in every spelling, the allow-list,
// the lookup that checks exactly the addresses the socket will use (so DNS rebinding cannot slip
// past), and the check at registration, which resolves names.
import type dns from 'node:dns'
import net from 'node:net'
import type { LookupAddress } from 'node:dns'
import { describe, expect, it } from 'vitest'
import { deniedRange, destinationDenial, destinationPolicy, guardedFetch, guardedLookup, hostDenial, literalDenial } from '../../core/egress.ts'

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

describe('the egress guard', () => {
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

  it('judges every spelling of an address by the address it is', () => {
    for (const [host, range] of [
      ['2130706433', 'loopback'],
      ['0177.0.0.1', 'loopback'],
      ['0x7f.0.0.1', 'loopback'],
      ['0x7f000001', 'loopback'],
      ['127.1', 'loopback'],
      ['[::ffff:7f00:1]', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::7f00:1', 'ipv4Compatible'],
      ['64:ff9b::7f00:1', 'loopback'],
      ['64:ff9b::a9fe:a9fe', 'linkLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['LOCALHOST.', 'loopback'],
      ['api.localhost', 'loopback'],
    ]) expect(hostDenial(host ?? '', none), host).toBe(range)
    // NAT64 of a public address is that public address (an IPv6-only network reaching a vendor).
    expect(deniedRange('64:ff9b::5db8:d822', none)).toBeUndefined()
    expect(hostDenial('qyapi.weixin.qq.com', none)).toBeUndefined()
  })

  it('at registration resolves a name and refuses one that resolves to a denied address; an unresolvable name waits for delivery', async () => {
    expect(await destinationDenial('rebind.example', none, resolverOf(['93.184.216.34', '10.0.0.1']))).toBe('private')
    expect(await destinationDenial('public.example', none, resolverOf(['93.184.216.34']))).toBeUndefined()
    expect(await destinationDenial('hooks.internal', destinationPolicy(['hooks.internal']), resolverOf(['10.0.0.7']))).toBeUndefined()
    const failing = ((_h: string, _o: unknown, cb: (err: Error) => void) => cb(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }))) as unknown as typeof dns.lookup
    expect(await destinationDenial('nowhere.example', none, failing)).toBeUndefined()
    expect(await destinationDenial('[::1]', none)).toBe('loopback')
  })

  it('a server answering a status fetch cannot represent (999) fails the request and leaves the process standing', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 999 Odd\r\ncontent-length: 0\r\n\r\n')))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as net.AddressInfo
    try {
      await expect(guardedFetch(destinationPolicy(['127.0.0.1']))(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ cause: { code: 'EBADSTATUS' } })
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
