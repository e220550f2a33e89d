// RFC 6238 Appendix B's SHA-1 test vectors (seed "12345678901234567890"), the last six of their
// eight digits, against core/totp.ts; the window, the replay rule and base32 round trips.
import { describe, expect, it } from 'vitest'
import { base32Decode, base32Encode, matchTotp, newRecoveryCodes, normaliseRecoveryCode, otpauthUri, stepOf, totpAt } from '../../core/totp.ts'

const SEED = Buffer.from('12345678901234567890', 'ascii')
const VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
]

describe('TOTP (RFC 6238)', () => {
  it.each(VECTORS)('at %i s the code is the vector’s (8 digits, and its last 6)', (seconds, code) => {
    const step = stepOf(new Date(seconds * 1000))
    expect(totpAt(SEED, step, 8)).toBe(code)
    expect(totpAt(SEED, step)).toBe(code.slice(2))
  })

  it('base32 (RFC 4648 §10) round-trips, and the seed in base32 gives the same codes', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI')
    expect(base32Decode('MZXW6YTBOI').toString()).toBe('foobar')
    const b32 = base32Encode(SEED)
    expect(b32).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')
    expect(base32Decode(b32.toLowerCase().replace(/(.{4})/g, '$1 '))).toEqual(SEED)
    const at = new Date(1111111111 * 1000)
    expect(matchTotp(b32, '050471', at, null)).toBe(stepOf(at))
  })

  it('accepts one step either side, not two; and never a step at or before the last one used', () => {
    const b32 = base32Encode(SEED)
    const at = new Date(1234567890 * 1000)
    const step = stepOf(at)
    const code = (s: number) => totpAt(SEED, s)
    expect(matchTotp(b32, code(step - 1), at, null)).toBe(step - 1)
    expect(matchTotp(b32, code(step + 1), at, null)).toBe(step + 1)
    expect(matchTotp(b32, code(step - 2), at, null)).toBeNull()
    expect(matchTotp(b32, code(step + 2), at, null)).toBeNull()
    expect(matchTotp(b32, code(step), at, step)).toBeNull()
    expect(matchTotp(b32, code(step - 1), at, step - 1)).toBeNull()
    expect(matchTotp(b32, code(step + 1), at, step)).toBe(step + 1)
    expect(matchTotp(b32, '12345', at, null)).toBeNull()
    expect(matchTotp(b32, 'abcdef', at, null)).toBeNull()
  })

  it('the otpauth URI is what authenticator apps read; recovery codes are ten, distinct, and typed loosely', () => {
    expect(otpauthUri('li wei', 'ABC')).toBe('otpauth://totp/housing-brain%3Ali%20wei?secret=ABC&issuer=housing-brain&algorithm=SHA1&digits=6&period=30')
    const codes = newRecoveryCodes()
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    for (const c of codes) expect(c).toMatch(/^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$/)
    expect(normaliseRecoveryCode(' ABCDE-fghjk ')).toBe('abcdefghjk')
    expect(normaliseRecoveryCode('123456')).toBeNull()
  })
})
