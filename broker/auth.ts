// Who is connecting: a device (id + secret) or a service (API token of an admin/service user).
// Repeated failures from one address or for one username are slowed down, and nothing secret
// is logged.
import type { Db } from '../core/db/client.ts'
import { getCredentials } from '../core/repos/devices.ts'
import { resolveToken } from '../core/repos/tokens.ts'
import { verifySecret } from '../core/secrets.ts'
import type { Identity } from './acl.ts'

/** MQTT username that marks a service login; the password is then an API token. */
export const SERVICE_USERNAME = 'token'

export type AuthResult = { ok: true; identity: Identity } | { ok: false; reason: 'unknown' | 'disabled' | 'bad_secret' | 'missing' | 'role' }

export async function authenticate(db: Db, username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
  if (!username || !password || password.length === 0) return { ok: false, reason: 'missing' }
  const secret = password.toString('utf8')
  if (username === SERVICE_USERNAME) {
    const principal = await resolveToken(db, secret)
    if (!principal) return { ok: false, reason: 'bad_secret' }
    if (principal.role !== 'service' && principal.role !== 'admin') return { ok: false, reason: 'role' }
    return { ok: true, identity: { type: 'service', name: principal.name } }
  }
  const creds = await getCredentials(db, username)
  if (!creds) {
    // Same cost as a real check, so response time does not reveal which device ids exist.
    await verifySecret(secret, DUMMY_HASH)
    return { ok: false, reason: 'unknown' }
  }
  if (!(await verifySecret(secret, creds.secretHash))) return { ok: false, reason: 'bad_secret' }
  if (!creds.enabled) return { ok: false, reason: 'disabled' }
  return { ok: true, identity: { type: 'device', deviceId: creds.id, kind: creds.kind } }
}

/** A valid scrypt hash of a random string nobody knows. */
const DUMMY_HASH = 'scrypt$16384$8$1$FwtNPe3n-a4JbFrBeuFGBw$XHwzkqjyJW5SUQ8HGFJ6EJw0NDPVXT2-2rd4VLYN1_o'

/**
 * Counts recent failures per key (remote address, username) and tells how long to hold the
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
