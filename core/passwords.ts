// People's passwords (issue 20): the rules a new one must meet, the one-time passwords an admin or
// the CLI hands out, and the hash. The hash is scrypt with its parameters in the stored text
// (core/secrets.ts hashSecret, `scrypt$N$r$p$salt$hash`), so they can be raised later and old
// hashes still verify. A password is never logged, returned or written anywhere but as its hash.
import { randomInt } from 'node:crypto'
import type { Db } from './db/client.ts'
import { endSessions } from './repos/sessions.ts'
import { setPasswordHash } from './repos/tokens.ts'
import { hashSecret, verifySecret } from './secrets.ts'

export const PASSWORD_MIN = 10
/** scrypt of a megabyte-long "password" is still cheap, but nobody types more than this. */
export const PASSWORD_MAX = 200

/** The rules, as the refusal states them (the console shows this text). */
export const PASSWORD_RULES =
  `A password needs at least ${PASSWORD_MIN} characters, must not be the user name, and must mix at least two kinds of ` +
  'characters (small letters, capital letters, digits, other signs)'

/** What is wrong with `password` for user `name`, or null when it meets the rules. */
export function passwordProblem(name: string, password: string): string | null {
  // Characters as people count them: code points (a Chinese character is one), not UTF-16 units.
  if ((password.match(/./gsu)?.length ?? 0) < PASSWORD_MIN || password.length > PASSWORD_MAX) return PASSWORD_RULES
  if (password.trim().toLowerCase() === name.trim().toLowerCase()) return PASSWORD_RULES
  const classes = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{Ll}\p{Lu}\p{Nd}]/u].filter((re) => re.test(password)).length
  return classes < 2 ? PASSWORD_RULES : null
}

/** Letters and digits nobody mistakes for each other when read off a screen (no 0/O, 1/l/I). */
const UNAMBIGUOUS = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'

/** A one-time password of 12 characters (about 69 bits), with small letters, capitals and digits. */
export function oneTimePassword(length = 12): string {
  for (;;) {
    const pw = Array.from({ length }, () => UNAMBIGUOUS[randomInt(UNAMBIGUOUS.length)]).join('')
    if (/[a-z]/.test(pw) && /[A-Z]/.test(pw) && /[2-9]/.test(pw)) return pw
  }
}

export const hashPassword = (password: string): Promise<string> => hashSecret(password)

/** A hash of nothing anyone can type: checked against when the user is unknown, so both take as long. */
let decoy: Promise<string> | undefined

/** Whether `password` matches `stored`; with no stored hash, false after the same work. */
export async function checkPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  if (!stored) {
    decoy ??= hashSecret(oneTimePassword(32))
    await verifySecret(password.slice(0, PASSWORD_MAX), await decoy)
    return false
  }
  return verifySecret(password.slice(0, PASSWORD_MAX), stored)
}

/**
 * Gives a user a one-time password they must change at their next sign-in, and ends their
 * sessions (the admin API and `housing-brain users password`); returns it and the sessions ended.
 */
export async function resetPassword(db: Db, userId: string): Promise<{ password: string; endedSessions: string[] }> {
  const password = oneTimePassword()
  const hash = await hashPassword(password)
  const endedSessions = await db.transaction(async (tx) => {
    await setPasswordHash(tx, userId, hash, true)
    return endSessions(tx, { userId })
  })
  return { password, endedSessions }
}
