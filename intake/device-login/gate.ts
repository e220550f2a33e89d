// Who is connecting: a device (id + secret) or a service (API token of an admin/service user).
// Repeated failures slow down wrong secrets from their address, never a right secret for others'
// failures; password checks (scrypt, ~50 ms of a thread-pool thread each) are bounded in number;
// nothing secret is logged. README "At the MQTT edge" states the holds.
import type { Db } from '../../core/db/client.ts'
import { checkDeviceSecret } from './secret-check.ts'
import { resolveToken } from '../../core/repos/tokens.ts'
import type { VerifiedSecrets } from './verified-secrets.ts'
import type { Identity } from '../acl.ts'

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

/** The throttle keys of a login attempt (see throttleKeys). */
export interface ThrottleKeys {
  /** The username from this address: holds its attempts before the check; a success wipes it. */
  identity: string
  /** Every failure from the address: holds only the answer to a wrong secret. */
  address?: string | undefined
}

/**
 * Both keys name the remote address, so nobody can aim the throttle at a device by failing logins
 * with its id from elsewhere (issue 7, item 3). Without the address (RabbitMQ's HTTP backend does
 * not send it to the login check) only the identity key is kept: an address key shared by every
 * device would let one guesser slow down all logins. The price: failures with a device's id hold
 * its own logins.
 */
export function throttleKeys(username: string | undefined, address: string | undefined): ThrottleKeys {
  const identity = `user:${username ?? ''}@${address ?? '?'}`
  return address === undefined ? { identity } : { identity, address: `ip:${address}` }
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** `cached`: accepted from the verified-secret cache, without a scrypt. */
export type LoginResult = (AuthResult & { cached?: true }) | { ok: false; reason: 'busy' }

/**
 * The one device and service login check of every broker front (Aedes here, RabbitMQ through
 * its HTTP auth backend) and of the HTTP device API: failures slow down the next attempts
 * (FailureThrottle: an identity's own before its check, its address's on a wrong answer only),
 * password checks are bounded in number (ConcurrencyLimit, 'busy' when full), then `authenticate`.
 * With `verified` (intake/device-login/verified-secrets.ts), a device secret proven right within its TTL is
 * accepted without a new scrypt, and so without taking a slot: a device that authenticates on
 * every request is not refused because strangers are guessing.
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
    const keys = throttleKeys(username, origin.address)
    const device = this.verified && username !== undefined && username !== SERVICE_USERNAME && password ? { id: username, secret: password.toString('utf8') } : undefined
    const kind = device && this.verified?.check(device.id, device.secret)
    if (device && kind) {
      this.throttle.succeed(keys)
      return { ok: true, identity: { type: 'device', deviceId: device.id, kind }, cached: true }
    }
    const started = Date.now()
    // Only this identity's own failures hold the check (a guesser repeating one id); the
    // address's failures hold the answer to a wrong secret only, so a device behind a shared
    // address (NAT, 4G gateway) whose secret is right is answered once its check is done
    // (issue 18, item 7). Holding the answer, not the event loop, costs the broker nothing.
    const beforeCheck = this.throttle.delayFor(keys.identity)
    const wrongSecret = Math.max(beforeCheck, this.throttle.delayFor(keys.address))
    if (beforeCheck > 0) {
      this.hooks.onHeld?.(beforeCheck)
      await sleep(beforeCheck)
    }
    // Only device logins cost a scrypt; a service token is checked by one SHA-256.
    const release =
      username === SERVICE_USERNAME ? () => undefined : this.verifying.tryAcquire(origin.shared ? undefined : origin.address)
    if (!release) return { ok: false, reason: 'busy' }
    const result = await authenticate(this.db, username, password).finally(release)
    if (result.ok) {
      this.throttle.succeed(keys)
      if (device && result.identity.type === 'device') this.verified?.remember(device.id, device.secret, result.identity.kind)
      return result
    }
    this.throttle.fail(keys)
    // A wrong secret is answered no sooner than the address's hold: a flood is slowed as before.
    const rest = wrongSecret - (Date.now() - started)
    if (rest > 0) {
      if (beforeCheck === 0) this.hooks.onHeld?.(rest)
      await sleep(rest)
    }
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

  delayFor(key: string | undefined): number {
    const count = (key !== undefined && this.recent(key)?.count) || 0
    if (count < this.opts.freeAttempts) return 0
    return Math.min(this.opts.baseDelayMs * 2 ** (count - this.opts.freeAttempts), this.opts.maxDelayMs)
  }

  fail(keys: ThrottleKeys): void {
    const now = this.now()
    for (const key of keys.address === undefined ? [keys.identity] : [keys.identity, keys.address]) {
      const count = (this.recent(key)?.count ?? 0) + 1
      this.failures.delete(key)
      if (this.failures.size >= this.opts.maxKeys) {
        const oldest = this.failures.keys().next()
        if (!oldest.done) this.failures.delete(oldest.value)
      }
      this.failures.set(key, { count, last: now })
    }
  }

  /**
   * The identity logged in: its failures are forgotten, and taken off its address's count (they
   * were its own), so its next typo starts from nothing. Others' failures at the address stay: a
   * guesser cannot wipe its address's count by logging in with a secret it holds.
   */
  succeed(keys: ThrottleKeys): void {
    const own = this.recent(keys.identity)?.count ?? 0
    this.failures.delete(keys.identity)
    if (own === 0 || keys.address === undefined) return
    const at = this.recent(keys.address)
    if (!at) return
    if (at.count <= own) this.failures.delete(keys.address)
    else at.count -= own
  }

  private recent(key: string): { count: number; last: number } | undefined {
    const f = this.failures.get(key)
    return f && this.now() - f.last <= this.opts.forgetAfterMs ? f : undefined
  }
}
