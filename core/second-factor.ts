// One-time codes as a person's second factor (issue 20): the secret sealed under its own sub-key of
// the server's secret key (core/crypto.ts; NOTIFY_SECRET_KEY or DATA_DIR/notify-secret.key) with
// the user's id bound to it, the set-up confirmed by a first code, and the check at sign-in that
// takes a code of the authenticator app (each step once) or one of the ten recovery codes.
import type { Db, Queryable } from './db/client.ts'
import { deriveKey, seal, unseal } from './crypto.ts'
import {
  clearTotp,
  confirmEnrolment,
  recoveryHash,
  startEnrolment,
  totpStateOf,
  useRecoveryCode,
  useStep,
} from './repos/totp.ts'
import { matchTotp, newRecoveryCodes, newTotpSecret, normaliseRecoveryCode, otpauthUri } from './totp.ts'

/** A set-up not confirmed within this is started again. */
export const ENROLMENT_TTL_MS = 10 * 60_000

/** The sub-key TOTP secrets are sealed with (a leaked link key does not open them). */
export const totpKey = (secretKey: Buffer): Buffer => deriveKey(secretKey, 'housing-brain totp secrets v1')

/** Starts a set-up: a new secret, kept sealed as pending; returns it in clear with its otpauth:// URI (only here). */
export async function beginEnrolment(db: Queryable, key: Buffer, user: { id: string; name: string }, now: Date): Promise<{ secret: string; uri: string }> {
  const secret = newTotpSecret()
  await startEnrolment(db, user.id, seal(key, secret, user.id), now)
  return { secret, uri: otpauthUri(user.name, secret) }
}

export type ConfirmOutcome = { ok: true; recoveryCodes: string[] } | { ok: false; why: 'not_started' | 'wrong_code' }

/** Confirms the set-up with a code of the new secret; the recovery codes are returned in clear only here. */
export async function confirmTotp(db: Db, key: Buffer, userId: string, code: string, now: Date): Promise<ConfirmOutcome> {
  const state = await totpStateOf(db, userId)
  if (!state?.pending || !state.pendingAt || now.getTime() - state.pendingAt.getTime() > ENROLMENT_TTL_MS) return { ok: false, why: 'not_started' }
  const step = matchTotp(unseal(key, state.pending, userId), code, now, null)
  if (step === null) return { ok: false, why: 'wrong_code' }
  const recoveryCodes = newRecoveryCodes()
  const hashes = recoveryCodes.map((c) => recoveryHash(userId, normaliseRecoveryCode(c) ?? c))
  const pending = state.pending
  const done = await db.transaction((tx) => confirmEnrolment(tx, userId, pending, step, now, hashes))
  return done ? { ok: true, recoveryCodes } : { ok: false, why: 'not_started' }
}

/**
 * Whether `code` lets the user in: a TOTP code of a step not used before (recorded as used), or an
 * unused recovery code (used up). Null when neither.
 */
export async function checkSecondFactor(db: Queryable, key: Buffer, userId: string, code: string, now: Date): Promise<'totp' | 'recovery' | null> {
  const state = await totpStateOf(db, userId)
  if (!state?.secret) return null
  const typed = code.replace(/\s/g, '')
  if (/^\d{6}$/.test(typed)) {
    const step = matchTotp(unseal(key, state.secret, userId), typed, now, state.lastStep)
    return step !== null && (await useStep(db, userId, step)) ? 'totp' : null
  }
  const recovery = normaliseRecoveryCode(typed)
  return recovery !== null && (await useRecoveryCode(db, userId, recoveryHash(userId, recovery), now)) ? 'recovery' : null
}

export { clearTotp }
