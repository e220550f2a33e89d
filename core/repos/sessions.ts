// SQL for console sessions (issue 20): a person signed in with their password holds a cookie of 32
// random bytes; only its SHA-256 is stored. A session ends when signed out, after its absolute
// lifetime, or after an idle time without a request. Times come from the caller's clock, so tests
// can move it; last_seen_at is written at most once a minute (a write per request is waste).
import { randomUUID } from 'node:crypto'
import type { Queryable } from '../db/client.ts'
import { generateSecret, sha256 } from '../secrets.ts'
import type { Principal } from './tokens.ts'

export interface SessionLimits {
  /** Absolute lifetime from sign-in. */
  maxAgeMs: number
  /** Time without a request after which the session ends. */
  idleMs: number
}

/** 12 hours from sign-in, 30 minutes idle: a crew member's shift, a phone left on a bench. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = { maxAgeMs: 12 * 3_600_000, idleMs: 30 * 60_000 }

/** Starts a session; returns its id and the cookie value, in clear only here. */
export async function createSession(db: Queryable, userId: string, now: Date, limits: SessionLimits): Promise<{ id: string; cookie: string }> {
  const id = randomUUID()
  const cookie = generateSecret(32)
  await db.query('INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)', [
    id,
    userId,
    sha256(cookie),
    now,
    new Date(now.getTime() + limits.maxAgeMs),
  ])
  return { id, cookie }
}

/** A session is live: not ended, not past its lifetime or idle time, its user enabled ($2 now, $3 idle ms). */
const LIVE = `s.ended_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $2 - make_interval(secs => $3::float8 / 1000) AND u.disabled_at IS NULL`

/** The principal of a live session's cookie, its use recorded (at most once a minute). */
export async function sessionPrincipal(db: Queryable, cookie: string, now: Date, limits: SessionLimits): Promise<Principal | undefined> {
  const [row] = await db.query<Principal>(
    `WITH p AS (
       SELECT u.id AS "userId", u.name, u.role, u.company_id AS "companyId", u.community_id AS "communityId", u.street_id AS "streetId",
         'session:' || s.id AS "tokenId", s.id AS "sessionId", u.must_change_password AS "mustChangePassword",
         u.totp_enabled_at IS NOT NULL AS "totpOn"
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = $1 AND ${LIVE}),
     touched AS (UPDATE sessions SET last_seen_at = $2
       WHERE id = (SELECT "sessionId" FROM p) AND last_seen_at < $2 - INTERVAL '1 minute')
     SELECT * FROM p`,
    [sha256(cookie), now, limits.idleMs],
  )
  return row
}

/** Whether a session is live, and when it ends if nothing more is done in it (what an open stream rechecks). */
export async function sessionValidity(db: Queryable, sessionId: string, now: Date, limits: SessionLimits): Promise<{ valid: boolean; expiresAt: Date | null }> {
  const [row] = await db.query<{ valid: boolean; expiresAt: Date }>(
    `SELECT (${LIVE}) AS valid, LEAST(s.expires_at, s.last_seen_at + make_interval(secs => $3::float8 / 1000)) AS "expiresAt"
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
    [sessionId, now, limits.idleMs],
  )
  return row ?? { valid: false, expiresAt: null }
}

/** Ends one session, or every session of a user but `except`; returns the ids ended now. */
export async function endSessions(db: Queryable, by: { sessionId: string } | { userId: string; except?: string | undefined }): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    'sessionId' in by
      ? 'UPDATE sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL RETURNING id'
      : 'UPDATE sessions SET ended_at = now() WHERE user_id = $1 AND ended_at IS NULL AND id IS DISTINCT FROM $2 RETURNING id',
    'sessionId' in by ? [by.sessionId] : [by.userId, by.except ?? null],
  )
  return rows.map((r) => r.id)
}

/**
 * The CSRF token of a session: derived from its cookie (SHA-256 under a label), so nothing more is
 * stored and a page that can read it could not have learnt the cookie from it.
 */
export function csrfOf(cookie: string): string {
  return Buffer.from(sha256(`hb-csrf:${cookie}`), 'hex').toString('base64url')
}
