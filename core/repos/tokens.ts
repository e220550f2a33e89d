// SQL for users and their API tokens. Tokens are shown once and stored as SHA-256 hashes.
import { randomUUID } from 'node:crypto'
import type { Queryable } from '../db/client.ts'
import type { Role } from '../../shared/domain.ts'
import { generateSecret, sha256 } from '../secrets.ts'

export interface Principal {
  userId: string
  name: string
  role: Role
  companyId: string | null
  communityId: string | null
  /** A street officer's street (街道/镇); null or absent for every other role. */
  streetId?: string | null
  /** The token's id; a console session's principal has `session:<its id>` (one key for budgets and streams). */
  tokenId: string
  /** Set when the request came with a session cookie rather than a bearer token. */
  sessionId?: string | undefined
  /** A session whose user must change their password first (only GET /me and the change itself work). */
  mustChangePassword?: boolean | undefined
  /** A session's user signs in with a one-time code (TOTP_REQUIRED sends office roles without one to set it up). */
  totpOn?: boolean | undefined
}

export interface User {
  id: string
  name: string
  role: Role
  companyId: string | null
  communityId: string | null
  /** A street officer's street. */
  streetId: string | null
  createdAt: Date
  /** A disabled user's tokens are refused everywhere until an admin enables the user again. */
  disabled: boolean
  /** Signing in with the password asks for a one-time code too (core/totp.ts). */
  totpEnabled: boolean
  /** The WeCom userid an admin linked (sign-in with WeCom); null = not linked. */
  wecomUserId: string | null
  /** The DingTalk unionId an admin linked (sign-in with DingTalk); null = not linked. */
  dingtalkUnionId: string | null
}

const USER_COLUMNS = `id, name, role, company_id AS "companyId", community_id AS "communityId", street_id AS "streetId", created_at AS "createdAt",
  disabled_at IS NOT NULL AS disabled, totp_enabled_at IS NOT NULL AS "totpEnabled", wecom_user_id AS "wecomUserId",
  dingtalk_union_id AS "dingtalkUnionId"`

export async function insertUser(
  db: Queryable,
  u: { id?: string; name: string; role: Role; companyId?: string | null; communityId?: string | null; streetId?: string | null },
): Promise<string> {
  const id = u.id ?? randomUUID()
  await db.query('INSERT INTO users (id, name, role, company_id, community_id, street_id) VALUES ($1, $2, $3, $4, $5, $6)', [
    id,
    u.name,
    u.role,
    u.companyId ?? null,
    u.communityId ?? null,
    u.streetId ?? null,
  ])
  return id
}

export async function findUserByName(db: Queryable, name: string): Promise<User | undefined> {
  const [row] = await db.query<User>(`SELECT ${USER_COLUMNS} FROM users WHERE name = $1`, [name])
  return row
}

export async function getUser(db: Queryable, id: string): Promise<User | undefined> {
  const [row] = await db.query<User>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id])
  return row
}

export async function listUsers(db: Queryable): Promise<User[]> {
  return db.query<User>(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`)
}

/**
 * The enabled people of a company (its crew), or of the housing office (admins and operators) with
 * null: whom a rota or a contact point may name. At most `limit`, by name.
 */
export async function peopleOf(db: Queryable, companyId: string | null, limit: number): Promise<{ id: string; name: string; role: string }[]> {
  return db.query(
    `SELECT id, name, role FROM users WHERE disabled_at IS NULL AND
       CASE WHEN $1::text IS NULL THEN role IN ('admin', 'operator') ELSE company_id = $1 AND role = 'crew' END
     ORDER BY name LIMIT $2`,
    [companyId, limit],
  )
}

/** Creates a token for a user and returns it in clear: the only time it exists outside the caller. */
export async function issueToken(
  db: Queryable,
  userId: string,
  opts: { label?: string; expiresAt?: Date | null } = {},
): Promise<{ id: string; token: string; expiresAt: Date | null }> {
  const id = randomUUID()
  // The prefix makes a leaked token recognisable to secret scanners.
  const token = `hb_${generateSecret(32)}`
  await db.query(
    'INSERT INTO api_tokens (id, user_id, token_hash, label, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [id, userId, sha256(token), opts.label ?? null, opts.expiresAt ?? null],
  )
  return { id, token, expiresAt: opts.expiresAt ?? null }
}

export interface TokenInfo {
  id: string
  userId: string
  label: string | null
  createdAt: Date
  expiresAt: Date | null
  revokedAt: Date | null
  lastUsedAt: Date | null
}

const TOKEN_COLUMNS = `id, user_id AS "userId", label, created_at AS "createdAt", expires_at AS "expiresAt",
  revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"`

export async function listTokens(db: Queryable, userId: string): Promise<TokenInfo[]> {
  return db.query<TokenInfo>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at`, [userId])
}

export async function getToken(db: Queryable, id: string): Promise<TokenInfo | undefined> {
  const [row] = await db.query<TokenInfo>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = $1`, [id])
  return row
}

/** The channel on which revocations are announced (the broker closes the sessions at once). */
export const TOKEN_REVOKED_CHANNEL = 'hb_token_revoked'

/**
 * Revokes one token, or every token of a user; returns how many were revoked now. Announced on
 * TOKEN_REVOKED_CHANNEL (delivered on commit); listeners treat it as a hint to recheck.
 */
export async function revokeTokens(db: Queryable, by: { tokenId: string } | { userId: string }): Promise<number> {
  const rows = await db.query(
    'tokenId' in by
      ? 'UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING 1'
      : 'UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING 1',
    ['tokenId' in by ? by.tokenId : by.userId],
  )
  if (rows.length > 0) await db.query('SELECT pg_notify($1, $2)', [TOKEN_REVOKED_CHANNEL, String(rows.length)])
  return rows.length
}

/**
 * Disables or enables a user; returns false if there is no such user. Disabling is announced on
 * TOKEN_REVOKED_CHANNEL like a revocation (the user's MQTT sessions end); the tokens themselves
 * are left as they are, so enabling makes the unexpired, unrevoked ones work again.
 */
export async function setUserDisabled(db: Queryable, userId: string, disabled: boolean): Promise<boolean> {
  const rows = await db.query(
    // COALESCE keeps the moment of the first disabling when it is repeated.
    'UPDATE users SET disabled_at = CASE WHEN $2::boolean THEN COALESCE(disabled_at, now()) END WHERE id = $1 RETURNING 1',
    [userId, disabled],
  )
  if (rows.length > 0 && disabled) await db.query('SELECT pg_notify($1, $2)', [TOKEN_REVOKED_CHANNEL, 'user'])
  return rows.length > 0
}

/**
 * Links a user to a WeCom userid, or unlinks them (null); false if there is no such user. A userid
 * linked to another user already is a unique violation (23505) for the caller to turn into 409.
 */
export async function setWecomUserId(db: Queryable, userId: string, wecomUserId: string | null): Promise<boolean> {
  const rows = await db.query('UPDATE users SET wecom_user_id = $2 WHERE id = $1 RETURNING 1', [userId, wecomUserId])
  return rows.length > 0
}

/** The user linked to a WeCom userid (WeCom compares userids without case, and so does the index). */
export async function userOfWecomId(db: Queryable, wecomUserId: string): Promise<User | undefined> {
  const [row] = await db.query<User>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(wecom_user_id) = lower($1)`, [wecomUserId])
  return row
}

/** Links a user to a DingTalk unionId, or unlinks them (null); as setWecomUserId (23505 when taken). */
export async function setDingtalkUnionId(db: Queryable, userId: string, unionId: string | null): Promise<boolean> {
  const rows = await db.query('UPDATE users SET dingtalk_union_id = $2 WHERE id = $1 RETURNING 1', [userId, unionId])
  return rows.length > 0
}

/** The user linked to a DingTalk unionId (compared exactly: DingTalk's ids are case-sensitive). */
export async function userOfDingtalkUnionId(db: Queryable, unionId: string): Promise<User | undefined> {
  const [row] = await db.query<User>(`SELECT ${USER_COLUMNS} FROM users WHERE dingtalk_union_id = $1`, [unionId])
  return row
}

/** Of `ids`, the tokens still unrevoked and unexpired, of enabled users, with their user's current role. */
export async function liveTokens(db: Queryable, ids: readonly string[]): Promise<Map<string, Role>> {
  if (ids.length === 0) return new Map()
  const rows = await db.query<{ id: string; role: Role }>(
    `SELECT t.id, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.id = ANY($1::text[]) AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
       AND u.disabled_at IS NULL`,
    [ids],
  )
  return new Map(rows.map((r) => [r.id, r.role]))
}

/** The principal a bearer token stands for, if it is known, unrevoked, unexpired and its user enabled. */
/** The principal of a live token of an enabled user ($1: the token's hash). */
const PRINCIPAL_OF_TOKEN = `SELECT u.id AS "userId", u.name, u.role, u.company_id AS "companyId", u.community_id AS "communityId", u.street_id AS "streetId", t.id AS "tokenId"
     FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
       AND u.disabled_at IS NULL`

export async function resolveToken(db: Queryable, token: string): Promise<Principal | undefined> {
  const [row] = await db.query<Principal>(PRINCIPAL_OF_TOKEN, [sha256(token)])
  return row
}

/**
 * Whether a refused token is a working token of a disabled user: asked only after resolveToken
 * failed, so that the caller can be told why (the user, not the token, is the problem).
 */
export async function isTokenOfDisabledUser(db: Queryable, token: string): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
       AND u.disabled_at IS NOT NULL`,
    [sha256(token)],
  )
  return rows.length > 0
}

/**
 * Whether a token still works (unrevoked, unexpired, user enabled) and when it expires: what an open stream
 * rechecks, so that a revocation from another process or an expiry ends it.
 */
export async function tokenValidity(db: Queryable, tokenId: string): Promise<{ valid: boolean; expiresAt: Date | null }> {
  const [row] = await db.query<{ valid: boolean; expiresAt: Date | null }>(
    `SELECT (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.disabled_at IS NULL) AS valid,
       t.expires_at AS "expiresAt"
     FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1`,
    [tokenId],
  )
  return row ?? { valid: false, expiresAt: null }
}

/**
 * `resolveToken` for a request: the principal, with the token's use recorded at most once a minute
 * (a write per request would be wasteful), in one round trip.
 */
export async function authenticate(db: Queryable, token: string): Promise<Principal | undefined> {
  const [row] = await db.query<Principal>(
    `WITH p AS (${PRINCIPAL_OF_TOKEN}),
     touched AS (UPDATE api_tokens SET last_used_at = now()
       WHERE id = (SELECT "tokenId" FROM p) AND (last_used_at IS NULL OR last_used_at < now() - INTERVAL '1 minute'))
     SELECT * FROM p`,
    [sha256(token)],
  )
  return row
}

/** A user's password hash (null when none is set) and whether it must be changed, by user name. */
export async function passwordOf(
  db: Queryable,
  name: string,
): Promise<{ id: string; name: string; disabled: boolean; passwordHash: string | null; mustChangePassword: boolean } | undefined> {
  const [row] = await db.query<{ id: string; name: string; disabled: boolean; passwordHash: string | null; mustChangePassword: boolean }>(
    `SELECT id, name, disabled_at IS NOT NULL AS disabled, password_hash AS "passwordHash", must_change_password AS "mustChangePassword"
     FROM users WHERE name = $1`,
    [name],
  )
  return row
}

/** The password hash of a user by id (null when none is set). */
export async function passwordHashOf(db: Queryable, userId: string): Promise<string | null> {
  const [row] = await db.query<{ hash: string | null }>('SELECT password_hash AS hash FROM users WHERE id = $1', [userId])
  return row?.hash ?? null
}

/** Stores a new password hash; `mustChange` when someone other than the user chose it. */
export async function setPasswordHash(db: Queryable, userId: string, hash: string, mustChange: boolean): Promise<boolean> {
  const rows = await db.query('UPDATE users SET password_hash = $2, must_change_password = $3, password_changed_at = now() WHERE id = $1 RETURNING 1', [
    userId,
    hash,
    mustChange,
  ])
  return rows.length > 0
}
