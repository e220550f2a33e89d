// Where a webhook may point (issue 7, item 12). Whoever can register a webhook makes this server
// send requests; without a policy that reaches the loopback interface, the private network and
// the cloud metadata service (169.254.169.254) from inside. So only public unicast addresses
// are allowed by default: loopback, private, link-local, carrier-grade NAT, multicast, broadcast,
// unspecified, documentation and translation ranges (everything ipaddr.js does not classify as
// `unicast`) are denied, unless WEBHOOK_ALLOW_DESTINATIONS names the address, its network or the
// host name.
//
// The check runs where the address is final: in the socket's `lookup`, on the addresses DNS
// returned, and the connection goes to the address that was checked. A name that resolves to a
// public address for the check and a private one for the connection (DNS rebinding) gets
// nowhere, because there is one resolution. IP literals (which Node connects to without a
// lookup) are checked before connecting. Redirects are never followed: a 3xx is a failed attempt.
import dns from 'node:dns'
import type { LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'

export interface DestinationPolicy {
  /** Networks allowed despite their range, e.g. 127.0.0.0/8 for a receiver on this host. */
  networks: [ipaddr.IPv4 | ipaddr.IPv6, number][]
  /** Host names allowed whatever they resolve to (lower case). */
  hosts: Set<string>
}

export const DENY_ALL_SPECIAL: DestinationPolicy = { networks: [], hosts: new Set() }

/** The policy from WEBHOOK_ALLOW_DESTINATIONS entries: addresses, CIDR networks or host names. */
export function destinationPolicy(entries: readonly string[]): DestinationPolicy {
  const policy: DestinationPolicy = { networks: [], hosts: new Set() }
  for (const entry of entries) {
    if (entry.includes('/')) policy.networks.push(ipaddr.parseCIDR(entry))
    else if (ipaddr.isValid(entry)) {
      const addr = ipaddr.process(entry)
      policy.networks.push([addr, addr.kind() === 'ipv4' ? 32 : 128])
    } else policy.hosts.add(entry.toLowerCase())
  }
  return policy
}

/** Why an address is refused (its range, e.g. `loopback`), or undefined when it may be reached. */
export function deniedRange(address: string, policy: DestinationPolicy): string | undefined {
  if (!ipaddr.isValid(address)) return 'invalid'
  const addr = ipaddr.process(address)
  const range = addr.range()
  if (range === 'unicast') return undefined
  if (policy.networks.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits))) return undefined
  return range
}

/** A URL's host without IPv6 brackets or the root label's trailing dot (`localhost.`). */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase()
}

/**
 * Refusal of a URL that names a denied address literally (or `localhost`), for the moment a
 * webhook is registered; names that need DNS are checked again at every delivery.
 */
export function literalDenial(url: URL, policy: DestinationPolicy): string | undefined {
  const host = hostOf(url)
  if (policy.hosts.has(host)) return undefined
  if (host === 'localhost' || host.endsWith('.localhost')) return deniedRange('127.0.0.1', policy)
  return ipaddr.isValid(host) ? deniedRange(host, policy) : undefined
}

export class DestinationDenied extends Error {
  readonly code = 'EDESTINATIONDENIED'
  constructor(readonly range: string) {
    super(`destination denied: the address is ${range}`)
    this.name = 'DestinationDenied'
  }
}

/**
 * A socket `lookup` that resolves the name, refuses it when any address it resolves to is denied
 * (a name with one private address among public ones is not a public name), and hands the
 * socket the address it checked.
 */
export function guardedLookup(policy: DestinationPolicy, resolve: typeof dns.lookup = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    const allowedHost = policy.hosts.has(hostname.toLowerCase())
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0)
      const list = addresses
      const denied = allowedHost ? undefined : list.map((a) => deniedRange(a.address, policy)).find((r) => r !== undefined)
      const first = list[0]
      if (denied !== undefined || !first) return callback(new DestinationDenied(denied ?? 'unresolved'), '', 0)
      if (options.all) return callback(null, list)
      callback(null, first.address, first.family)
    })
  }
}
