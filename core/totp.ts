// Time-based one-time passwords (RFC 6238 over HOTP, RFC 4226) for signing in (issue 20): what
// authenticator apps (Google Authenticator, Microsoft Authenticator, 1Password…) implement by
// default — HMAC-SHA1, a 30 s step, 6 digits — so nothing is configurable. A code is accepted one
// step early or late (clocks of phones drift; RFC 6238 §5.2), and never twice: the caller stores
// the step used and passes it back (§5.2, "MUST NOT accept the second attempt of the same OTP").
// No package of npm is installed for this; the algorithm is these few lines of node:crypto.
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'
import type { Role } from '../shared/domain.ts'

export const TOTP_STEP_S = 30
export const TOTP_DIGITS = 6
/** Steps accepted either side of now. */
export const TOTP_WINDOW = 1
/** The issuer an authenticator app shows above the code. */
export const TOTP_ISSUER = 'housing-brain'

/** Who may turn it on: people who sign in with a password at a desk or on a round. */
export const TOTP_ROLES: readonly Role[] = ['admin', 'operator', 'crew']
/** Whom TOTP_REQUIRED obliges: the office, who can change what everyone else sees. */
export const TOTP_REQUIRED_ROLES: readonly Role[] = ['admin', 'operator']

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** RFC 4648 §6 base32, without padding (what otpauth:// URIs carry). */
export function base32Encode(bytes: Buffer): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32.charAt((value >>> (bits - 5)) & 31)
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32.charAt((value << (5 - bits)) & 31)
  return out
}

export function base32Decode(text: string): Buffer {
  const bytes: number[] = []
  let bits = 0
  let value = 0
  for (const ch of text.toUpperCase().replace(/[\s=-]/g, '')) {
    const v = BASE32.indexOf(ch)
    if (v < 0) throw new Error(`not base32: "${ch}"`)
    value = (value << 5) | v
    bits += 5
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
  }
  return Buffer.from(bytes)
}

/** A new secret: 160 bits, the HMAC-SHA1 key length RFC 4226 §4 recommends; base32. */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(20))
}

/** The step of a time (RFC 6238 §4.2: T = floor((now − T0) / X), T0 = 0). */
export const stepOf = (at: Date): number => Math.floor(at.getTime() / 1000 / TOTP_STEP_S)

/** The code of one step (RFC 4226 §5.3, dynamic truncation), `digits` long with leading zeros. */
export function totpAt(secret: Buffer, step: number, digits = TOTP_DIGITS): string {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const mac = createHmac('sha1', secret).update(counter).digest()
  const offset = (mac[mac.length - 1] ?? 0) & 0xf
  const binary = mac.readUInt32BE(offset) & 0x7fffffff
  return String(binary % 10 ** digits).padStart(digits, '0')
}

/**
 * The step whose code `code` is, within the window around `now` and after `lastStep` (a replay is
 * refused), or null. Every step of the window is computed, so the time taken says nothing.
 */
export function matchTotp(secretBase32: string, code: string, now: Date, lastStep: number | null): number | null {
  if (!/^\d{6}$/.test(code)) return null
  const secret = base32Decode(secretBase32)
  const current = stepOf(now)
  let found: number | null = null
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    const same = timingSafeEqual(Buffer.from(totpAt(secret, step)), Buffer.from(code))
    if (same && found === null && (lastStep === null || step > lastStep)) found = step
  }
  return found
}

/** What an authenticator app reads from the QR code or the link (Google's Key Uri Format). */
export function otpauthUri(userName: string, secretBase32: string): string {
  const label = encodeURIComponent(`${TOTP_ISSUER}:${userName}`)
  return `otpauth://totp/${label}?secret=${secretBase32}&issuer=${encodeURIComponent(TOTP_ISSUER)}&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_STEP_S}`
}

/** Letters and digits nobody confuses when copying from paper (no 0/o, 1/l/i). */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'
export const RECOVERY_CODES = 10

/** Ten one-time recovery codes, `xxxxx-xxxxx` (about 49 bits each). */
export function newRecoveryCodes(): string[] {
  const part = () => Array.from({ length: 5 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('')
  return Array.from({ length: RECOVERY_CODES }, () => `${part()}-${part()}`)
}

/** A typed recovery code as stored: small letters, no spaces or dashes; null when it cannot be one. */
export function normaliseRecoveryCode(typed: string): string | null {
  const code = typed.toLowerCase().replace(/[\s-]/g, '')
  return /^[a-z0-9]{10}$/.test(code) ? code : null
}
