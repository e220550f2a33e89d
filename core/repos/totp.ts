// SQL for one-time codes at sign-in (issue 20; core/totp.ts): a user's sealed TOTP secret and the
// last step used, their hashed recovery codes, and the tickets between a right password and the
// code. The secrets arrive here sealed (core/crypto.ts); nothing in this file sees one in clear.
import type { Queryable } from '../db/client.ts'
import { generateSecret, sha256 } from '../secrets.ts'

export interface TotpState {
  /** Sealed secret of the confirmed enrolment; null when TOTP is off. */
  secret: string | null
  lastStep: number | null
  /** Sealed secret of an enrolment not yet confirmed, and when it was started. */
  pending: string | null
  pendingAt: Date | null
}

export async function totpStateOf(db: Queryable, userId: string): Promise<TotpState | undefined> {
  const [row] = await db.query<TotpState>(
    `SELECT totp_secret AS secret, totp_last_step::float8 AS "lastStep", totp_pending AS pending, totp_pending_at AS "pendingAt" FROM users WHERE id = $1`,
    [userId],
  )
  return row
}

/** Whether the user signs in with a code. */
export async function totpEnabled(db: Queryable, userId: string): Promise<boolean> {
  const [row] = await db.query<{ on: boolean }>('SELECT totp_enabled_at IS NOT NULL AS on FROM users WHERE id = $1', [userId])
  return row?.on ?? false
}

/** Starts (or starts again) an enrolment; the confirmed secret, if any, stays until confirmation replaces it. */
export async function startEnrolment(db: Queryable, userId: string, sealed: string, now: Date): Promise<void> {
  await db.query('UPDATE users SET totp_pending = $2, totp_pending_at = $3 WHERE id = $1', [userId, sealed, now])
}

/**
 * Confirms the pending enrolment `sealed` (checked unchanged, so two tabs cannot confirm each
 * other's) with the step of the code given, and replaces the recovery codes; false when it changed.
 */
export async function confirmEnrolment(db: Queryable, userId: string, sealed: string, step: number, now: Date, recoveryHashes: string[]): Promise<boolean> {
  const rows = await db.query(
    `UPDATE users SET totp_secret = totp_pending, totp_enabled_at = $3, totp_last_step = $4, totp_pending = NULL, totp_pending_at = NULL
     WHERE id = $1 AND totp_pending = $2 RETURNING 1`,
    [userId, sealed, now, step],
  )
  if (rows.length === 0) return false
  await db.query('DELETE FROM totp_recovery_codes WHERE user_id = $1', [userId])
  await db.query('INSERT INTO totp_recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])', [userId, recoveryHashes])
  return true
}

/** Turns TOTP off (the user, or an admin's reset); true when it was on or being set up. */
export async function clearTotp(db: Queryable, userId: string): Promise<boolean> {
  const rows = await db.query(
    `UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, totp_pending = NULL, totp_pending_at = NULL
     WHERE id = $1 AND (totp_secret IS NOT NULL OR totp_pending IS NOT NULL) RETURNING 1`,
    [userId],
  )
  await db.query('DELETE FROM totp_recovery_codes WHERE user_id = $1', [userId])
  await db.query('DELETE FROM sign_in_tickets WHERE user_id = $1', [userId])
  return rows.length > 0
}

/** Records `step` as used, unless it or a later one was (two requests with one code: one wins). */
export async function useStep(db: Queryable, userId: string, step: number): Promise<boolean> {
  const rows = await db.query('UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING 1', [userId, step])
  return rows.length > 0
}

/** A recovery code's stored form: bound to its user, so one user's list says nothing of another's. */
export const recoveryHash = (userId: string, normalised: string): string => sha256(`hb-recovery:${userId}:${normalised}`)

/** Uses up a recovery code; false when it is not one of the user's or was used. */
export async function useRecoveryCode(db: Queryable, userId: string, hash: string, now: Date): Promise<boolean> {
  const rows = await db.query('UPDATE totp_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1', [userId, hash, now])
  return rows.length > 0
}

export async function recoveryCodesLeft(db: Queryable, userId: string): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM totp_recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId])
  return row?.n ?? 0
}

/** Issues a ticket for `userId` valid until `expiresAt`; returns it in clear (only here). Expired ones are swept. */
export async function issueTicket(db: Queryable, userId: string, now: Date, expiresAt: Date): Promise<string> {
  const ticket = generateSecret(32)
  await db.query('DELETE FROM sign_in_tickets WHERE expires_at <= $1', [now])
  await db.query('INSERT INTO sign_in_tickets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [sha256(ticket), userId, expiresAt])
  return ticket
}

/** The user of a live ticket. */
export async function ticketUser(db: Queryable, ticket: string, now: Date): Promise<string | undefined> {
  const [row] = await db.query<{ userId: string }>('SELECT user_id AS "userId" FROM sign_in_tickets WHERE token_hash = $1 AND expires_at > $2', [sha256(ticket), now])
  return row?.userId
}

/** Uses the ticket up (a right code); false when another request used it first. */
export async function consumeTicket(db: Queryable, ticket: string): Promise<boolean> {
  return (await db.query('DELETE FROM sign_in_tickets WHERE token_hash = $1 RETURNING 1', [sha256(ticket)])).length > 0
}

/** Counts a wrong code against the ticket; at `max` the ticket is gone and the password is owed again. */
export async function ticketFailed(db: Queryable, ticket: string, max: number): Promise<void> {
  await db.query('UPDATE sign_in_tickets SET failures = failures + 1 WHERE token_hash = $1', [sha256(ticket)])
  await db.query('DELETE FROM sign_in_tickets WHERE token_hash = $1 AND failures >= $2', [sha256(ticket), max])
}
