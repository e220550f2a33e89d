// Who is connecting: a device (id + secret) or a service (API token of an admin/service user).
// Repeated failures from one address are slowed down, for that address only; password checks
// (scrypt, ~50 ms of a thread-pool thread each) are bounded in number; nothing secret is logged.
import type { Db } from '../core/db/client.ts'
import { checkDeviceSecret } from '../core/device-auth.ts'
import { resolveToken } from '../core/repos/tokens.ts'
import type { VerifiedSecrets } from '../core/verified-secrets.ts'
import type { Identity } from './acl.ts'

/** MQTT username that marks a service login; the password is then an API token. */
export const SERVICE_USERNAME = 'token'

export type AuthResult =
  | { ok: true; identity: Identity; /** The API token a service logged in with. */ tokenId?: string }
  | { ok: false; reason: 'unknown' | 'disabled' | 'bad_secret' | 'missing' | 'role' }

export async function authenticate(db: Db, username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
  if (!username || !password || password.length === 0) return { ok: false, reason: 'missing' }
  const secret = password.toString('utf8')
  if (username === SERVICE_USERNAME) {
    const principal = await resolveToken(db, secret)
    if (!principal) return { ok: false, reason: 'bad_secret' }
    if (principal.role !== 'service' && principal.role !== 'admin') return { ok: false, reason: 'role' }
    return { ok: true, identity: { type: 'service', name: principal.name }, tokenId: principal.tokenId }
  }
  const device = await checkDeviceSecret(db, username, secret)
  if (!device.ok) return device
  return { ok: true, identity: { type: 'device', deviceId: device.deviceId, kind: device.kind } }
}

/**
 * The throttle keys of a login attempt. Both name the remote address: failures from one address
 * slow down that address only, so nobody can aim the throttle at a device by failing logins
 * with its id from elsewhere (issue 7, item 3). The per-(username, address) key is the one a
 * success clears; the address key is not, so a valid login does not reset a guesser's count.
 */
export function throttleKeys(username: string | undefined, address: string | undefined): { all: string[]; onSuccess: string[] } {
  const pair = `user:${username ?? ''}@${address ?? '?'}`
  // Without the address (RabbitMQ's HTTP backend does not send it to the login check) only the
  // per-username key is kept: an address key shared by every device would let one guesser slow
  // down all logins. The price: failures with a device's id hold (never refuse) its own logins.
  if (address === undefined) return { all: [pair], onSuccess: [pair] }
  return { all: [`ip:${address}`, pair], onSuccess: [pair] }
}

/** Where a login comes from, as far as the broker in front knows. */
export interface LoginOrigin {
  /** The client's address; undefined when the broker does not tell it. */
  address: string | undefined
  /**
   * Many clients share this address (loopback: the all-in-one's simulators, a local proxy), so
   * it counts against the total bound of password checks only, not the per-address one.
   */
  shared: boolean
}

/** Loopback clients share one address (see LoginOrigin.shared). */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.')
}

/** `cached`: accepted from the verified-secret cache, without a scrypt. */
export type LoginResult = (AuthResult & { cached?: true }) | { ok: false; reason: 'busy' }

/**
 * The one device and service login check of every broker front (Aedes here, RabbitMQ through
 * its HTTP auth backend) and of the HTTP device API: failures slow down the next attempts
 * (FailureThrottle), password checks are bounded in number (ConcurrencyLimit, 'busy' when full),
 * then `authenticate`. With `verified` (core/verified-secrets.ts), a device secret proven right
 * within its TTL is accepted without a new scrypt, and so without taking a slot: a device that
 * authenticates on every request is not refused because strangers are guessing.
 */
export class LoginGate {
  private readonly throttle: FailureThrottle
  private readonly verifying: ConcurrencyLimit

  constructor(
    private readonly db: Db,
    limits: { max: number; maxPerKey: number },
    private readonly hooks: { onHeld?: (ms: number) => void } = {},
    throttle = new FailureThrottle(),
    private readonly verified?: VerifiedSecrets,
  ) {
    this.verifying = new ConcurrencyLimit(limits)
    this.throttle = throttle
  }

  async login(username: string | undefined, password: Buffer | undefined, origin: LoginOrigin): Promise<LoginResult> {
    const device = this.verified && username !== undefined && username !== SERVICE_USERNAME && password ? { id: username, secret: password.toString('utf8') } : undefined
    const kind = device && this.verified?.check(device.id, device.secret)
    if (device && kind) return { ok: true, identity: { type: 'device', deviceId: device.id, kind }, cached: true }
    const keys = throttleKeys(username, origin.address)
    const delay = this.throttle.delayFor(keys.all)
    if (delay > 0) {
      this.hooks.onHeld?.(delay)
      // Hold the answer, not the event loop: slows down guessing without costing the broker.
      await new Promise((r) => setTimeout(r, delay))
    }
    // Only device logins cost a scrypt; a service token is checked by one SHA-256.
    const release =
      username === SERVICE_USERNAME ? () => undefined : this.verifying.tryAcquire(origin.shared ? undefined : origin.address)
    if (!release) return { ok: false, reason: 'busy' }
    const result = await authenticate(this.db, username, password).finally(release)
    if (result.ok) {
      this.throttle.succeed(keys.onSuccess)
      if (device && result.identity.type === 'device') this.verified?.remember(device.id, device.secret, result.identity.kind)
    } else this.throttle.fail(keys.all)
    return result
  }

  get inFlight(): number {
    return this.verifying.inFlight
  }
}

/**
 * Bounds how many password verifications run at once, in total and per remote address. Each
 * scrypt holds a libuv thread-pool thread (4 by default) for tens of milliseconds; unbounded,
 * 300 concurrent bad logins made a legitimate login wait 26 s. When full the caller refuses at
 * once ("server unavailable", the client retries) instead of queueing: a queue would only move
 * the wait, and its length would be the attacker's to choose.
 */
export class ConcurrencyLimit {
  private total = 0
  private readonly perKey = new Map<string, number>()

  constructor(private readonly opts: { max: number; maxPerKey: number }) {}

  /**
   * A release function when a slot was free, undefined when full; release it once. Without a
   * key only the total bound applies.
   */
  tryAcquire(key: string | undefined): (() => void) | undefined {
    const mine = key === undefined ? 0 : (this.perKey.get(key) ?? 0)
    if (this.total >= this.opts.max || mine >= this.opts.maxPerKey) return undefined
    this.total++
    if (key !== undefined) this.perKey.set(key, mine + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      this.total--
      if (key === undefined) return
      const left = (this.perKey.get(key) ?? 1) - 1
      // Only keys with a check in flight are kept, so the map is bounded by `max`.
      if (left === 0) this.perKey.delete(key)
      else this.perKey.set(key, left)
    }
  }

  get inFlight(): number {
    return this.total
  }
}

/**
 * Counts recent failures per key (see throttleKeys) and tells how long to hold the
 * answer to the next attempt: nothing for the first few, then doubling up to `maxDelayMs`.
 * Bounded: the oldest keys are forgotten first.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; last: number }>()

  constructor(
    private readonly opts = { freeAttempts: 3, baseDelayMs: 250, maxDelayMs: 8000, forgetAfterMs: 15 * 60_000, maxKeys: 50_000 },
    private readonly now: () => number = Date.now,
  ) {}

  delayFor(keys: readonly string[]): number {
    const now = this.now()
    let worst = 0
    for (const key of keys) {
      const f = this.failures.get(key)
      if (!f || now - f.last > this.opts.forgetAfterMs) continue
      worst = Math.max(worst, f.count)
    }
    if (worst < this.opts.freeAttempts) return 0
    return Math.min(this.opts.baseDelayMs * 2 ** (worst - this.opts.freeAttempts), this.opts.maxDelayMs)
  }

  fail(keys: readonly string[]): void {
    const now = this.now()
    for (const key of keys) {
      const f = this.failures.get(key)
      const count = f && now - f.last <= this.opts.forgetAfterMs ? f.count + 1 : 1
      this.failures.delete(key)
      if (this.failures.size >= this.opts.maxKeys) {
        const oldest = this.failures.keys().next()
        if (!oldest.done) this.failures.delete(oldest.value)
      }
      this.failures.set(key, { count, last: now })
    }
  }

  succeed(keys: readonly string[]): void {
    for (const key of keys) this.failures.delete(key)
  }
}
