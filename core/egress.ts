// The one egress guard (issue 7 item 12, issue 18 item 1): every connection to a destination
// someone configured — webhooks, every notification channel, e-mail's SMTP host, Web Push — opens
// here. Without it whoever configures a destination reaches loopback, the private network and the
// metadata service from inside, and the delivery log becomes a port scanner. Only public unicast
// addresses pass (any spelling, judged after ipaddr.js or the resolver normalises it), unless
// EGRESS_ALLOW names them; the check runs in the socket's `lookup` on the address connected to
// (one resolution: no DNS rebinding), literals before connecting, and redirects are never followed.
// README "What leaves the process" has the ranges and the tests.
import dns from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import net, { type LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'

export interface DestinationPolicy {
  /** Networks allowed despite their range, e.g. 127.0.0.0/8 for a receiver on this host. */
  networks: [ipaddr.IPv4 | ipaddr.IPv6, number][]
  /** Host names allowed whatever they resolve to (lower case). */
  hosts: Set<string>
}

export const DENY_ALL_SPECIAL: DestinationPolicy = { networks: [], hosts: new Set() }

/** The policy from EGRESS_ALLOW entries: addresses, CIDR networks or host names. */
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

const NAT64 = ipaddr.parseCIDR('64:ff9b::/96')

/** The range an address belongs to, `unicast` for a public one. */
function rangeOf(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6
    // RFC 6052 well-known prefix: the last 32 bits are the IPv4 address the NAT64 gateway reaches.
    if (v6.match(NAT64)) return rangeOf(ipaddr.fromByteArray(v6.toByteArray().slice(12)))
    // RFC 4291 §2.5.5.1: IPv4-compatible addresses (::a.b.c.d, beside :: and ::1) are deprecated; some stacks still route them.
    if (v6.range() === 'unicast' && v6.parts.slice(0, 6).every((p) => p === 0)) return 'ipv4Compatible'
  }
  return addr.range()
}

/** Why an address is refused (its range, e.g. `loopback`), or undefined when it may be reached. */
export function deniedRange(address: string, policy: DestinationPolicy): string | undefined {
  if (!ipaddr.isValid(address)) return 'invalid'
  const addr = ipaddr.process(address)
  const range = rangeOf(addr)
  if (range === 'unicast') return undefined
  if (policy.networks.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits))) return undefined
  return range
}

/** A host without IPv6 brackets or the root label's trailing dot (`localhost.`), lower case. */
export function normalHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase()
}

/** Refusal of a host that is a denied address in any spelling, or `localhost`; undefined for other names. */
export function hostDenial(host: string, policy: DestinationPolicy): string | undefined {
  const h = normalHost(host)
  if (policy.hosts.has(h)) return undefined
  if (h === 'localhost' || h.endsWith('.localhost')) return deniedRange('127.0.0.1', policy)
  return ipaddr.isValid(h) ? deniedRange(h, policy) : undefined
}

/** Refusal of a URL whose host is a denied address literally (or `localhost`). */
export function literalDenial(url: URL, policy: DestinationPolicy): string | undefined {
  return hostDenial(url.hostname, policy)
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
    const allowedHost = policy.hosts.has(normalHost(hostname))
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

/** How long a registration waits for DNS before accepting the name (every delivery checks again). */
const REGISTRATION_DNS_MS = 3000

/**
 * For the moment a destination is registered: refusal of a host that is a denied address, or a
 * name that resolves to one now. A name that does not resolve (yet) is accepted: delivery checks
 * every connection anyway, and a vendor's name must be registrable on a host without DNS.
 */
export async function destinationDenial(host: string, policy: DestinationPolicy, resolve: typeof dns.lookup = dns.lookup): Promise<string | undefined> {
  const h = normalHost(host)
  const literal = hostDenial(h, policy)
  if (literal !== undefined || policy.hosts.has(h) || ipaddr.isValid(h)) return literal
  const addresses = await new Promise<dns.LookupAddress[]>((done) => {
    const timer = setTimeout(() => done([]), REGISTRATION_DNS_MS)
    resolve(h, { all: true }, (err, list) => {
      clearTimeout(timer)
      done(err ? [] : list)
    })
  })
  return addresses.map((a) => deniedRange(a.address, policy)).find((r) => r !== undefined)
}

/** Bytes of an answer kept; vendors and push services answer with a few words at most. */
const GUARDED_BODY_MAX = 64 * 1024

/**
 * A fetch that connects only where `policy` allows: IP literals checked before connecting, names
 * checked on every address DNS returned, the connection made to the address that was checked, a
 * fresh connection per request (no pooled socket outlives a check). Never follows a redirect.
 */
export function guardedFetch(policy: DestinationPolicy): typeof fetch {
  return (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const literal = literalDenial(url, policy)
    if (literal !== undefined) return Promise.reject(new TypeError('fetch failed', { cause: new DestinationDenied(literal) }))
    const client = url.protocol === 'https:' ? https : http
    return new Promise((resolve, reject) => {
      const req = client.request(
        url,
        { method: init.method ?? 'GET', headers: init.headers as Record<string, string>, lookup: guardedLookup(policy), agent: false, ...(init.signal ? { signal: init.signal } : {}) },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            if (size < GUARDED_BODY_MAX) chunks.push(chunk)
            size += chunk.length
          })
          res.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })))
          res.on('end', () => {
            const status = res.statusCode ?? 0
            // `new Response` throws on a status outside 200–599, and a throw here would end the
            // process: a server that answers `HTTP/1.1 999` is a failed attempt, nothing more.
            if (status < 200 || status > 599) return reject(new TypeError('fetch failed', { cause: Object.assign(new Error(`HTTP status ${status}`), { code: 'EBADSTATUS' }) }))
            const headers = new Headers()
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v)
            const body = [204, 205, 304].includes(status) ? null : Buffer.concat(chunks).subarray(0, GUARDED_BODY_MAX)
            resolve(new Response(body, { status, headers }))
          })
        },
      )
      req.on('error', (err) => reject(err.name === 'TimeoutError' || err.name === 'AbortError' ? err : new TypeError('fetch failed', { cause: err })))
      req.end(init.body as string | Buffer | undefined)
    })
  }
}

/**
 * A TCP connection (for SMTP) that opens only where `policy` allows, with the same checks as
 * guardedFetch; resolves once connected. TLS, if any, is the caller's to start over it.
 */
export function guardedSocket(policy: DestinationPolicy, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  const literal = hostDenial(host, policy)
  if (literal !== undefined) return Promise.reject(new DestinationDenied(literal))
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: normalHost(host), port, lookup: guardedLookup(policy) })
    const fail = (err: Error) => {
      socket.destroy()
      reject(err)
    }
    socket.setTimeout(timeoutMs, () => fail(Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' })))
    socket.once('error', fail)
    socket.once('connect', () => {
      socket.setTimeout(0)
      socket.off('error', fail)
      resolve(socket)
    })
  })
}
