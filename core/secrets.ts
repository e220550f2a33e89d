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

/** A new random secret, URL-safe, 192 bits. */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url')
}

/** `scrypt$N$r$p$salt$hash`, parameters stored so they can be raised later without breaking old hashes. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(secret, salt, KEY_LEN, SCRYPT)
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/**
 * `count` new secrets with their hashes, for devices being registered. scrypt runs on libuv's
 * thread pool; hashing in parallel uses all of it (about 13 ms a secret on two cores).
 */
export async function newSecrets(count: number): Promise<{ secret: string; secretHash: string }[]> {
  const secrets = Array.from({ length: count }, () => generateSecret())
  return Promise.all(secrets.map(async (secret) => ({ secret, secretHash: await hashSecret(secret) })))
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
