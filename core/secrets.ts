// Secrets: generated at random, stored only as hashes, compared in constant time.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** scrypt cost: N = 2^14, r = 8, p = 1 (the interactive-login parameters of RFC 7914 §2). */
const SCRYPT = { N: 16_384, r: 8, p: 1 } as const
const KEY_LEN = 32

/**
 * A new random secret, URL-safe, 192 bits. It starts with a letter or digit: one starting with
 * `-` is read as an option on a command line (`mosquitto_pub -P -x…`) and as a formula by a
 * spreadsheet opening the secrets CSV of an import. Redrawing those costs under 0.03 bits.
 */
export function generateSecret(bytes = 24): string {
  for (;;) {
    const secret = randomBytes(bytes).toString('base64url')
    if (/^[A-Za-z0-9]/.test(secret)) return secret
  }
}

/** `scrypt$N$r$p$salt$hash`, parameters stored so they can be raised later without breaking old hashes. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(secret, salt, KEY_LEN, SCRYPT)
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** scrypt jobs one registration runs at once: two of libuv's four threads, leaving the others to device logins. */
const HASHING_AT_ONCE = 2

/**
 * `count` new secrets with their hashes, for devices being registered. scrypt runs on libuv's
 * thread pool; two at a time hash as fast as all four on two cores (about 13 ms a secret, 26 ms
 * one at a time, measured on the project's machine), and a bulk import does not hold up the
 * broker's password checks in the same process behind hundreds of queued jobs.
 */
export async function newSecrets(count: number): Promise<{ secret: string; secretHash: string }[]> {
  const out = Array.from({ length: count }, () => ({ secret: generateSecret(), secretHash: '' }))
  let next = 0
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      const item = out[i]
      if (item) item.secretHash = await hashSecret(item.secret)
    }
  }
  await Promise.all(Array.from({ length: Math.min(HASHING_AT_ONCE, count) }, lane))
  return out
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string]
  const expected = Buffer.from(hash, 'base64url')
  const actual = await scrypt(secret, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** For high-entropy random tokens a plain SHA-256 is enough: there is no dictionary to try. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/**
 * A check of `Authorization: Bearer <token>` against one configured token (METRICS_TOKEN). Only
 * the token's SHA-256 is kept, and the comparison of digests of equal length takes the same time
 * whatever matches, so it leaks neither the token nor its length.
 */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = Buffer.from(sha256(token), 'hex')
  return (authorization) => {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')
    const same = timingSafeEqual(Buffer.from(sha256(match?.[1] ?? ''), 'hex'), expected)
    return match !== null && same
  }
}
