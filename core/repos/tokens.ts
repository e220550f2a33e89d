// SQL for users and their API tokens. Tokens are shown once and stored as SHA-256 hashes.
import { randomUUID } from 'node:crypto'
import type { Queryable } from '../db/client.ts'
import { generateSecret, sha256 } from '../secrets.ts'

export const ROLES = ['admin', 'operator', 'crew', 'service'] as const
export type Role = (typeof ROLES)[number]

export interface Principal {
  userId: string
  name: string
  role: Role
  companyId: string | null
  tokenId: string
}

export async function insertUser(
  db: Queryable,
  u: { id?: string; name: string; role: Role; companyId?: string | null },
): Promise<string> {
  const id = u.id ?? randomUUID()
  await db.query('INSERT INTO users (id, name, role, company_id) VALUES ($1, $2, $3, $4)', [
    id,
    u.name,
    u.role,
    u.companyId ?? null,
  ])
  return id
}

export async function findUserByName(db: Queryable, name: string): Promise<{ id: string; role: Role } | undefined> {
  const [row] = await db.query<{ id: string; role: Role }>('SELECT id, role FROM users WHERE name = $1', [name])
  return row
}

/** Creates a token for a user and returns it in clear: the only time it exists outside the caller. */
export async function issueToken(
  db: Queryable,
  userId: string,
  opts: { label?: string; expiresAt?: Date | null } = {},
): Promise<{ id: string; token: string }> {
  const id = randomUUID()
  // The prefix makes a leaked token recognisable to secret scanners.
  const token = `hb_${generateSecret(32)}`
  await db.query(
    'INSERT INTO api_tokens (id, user_id, token_hash, label, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [id, userId, sha256(token), opts.label ?? null, opts.expiresAt ?? null],
  )
  return { id, token }
}

/** The principal a bearer token stands for, if it is known, unrevoked and unexpired. */
export async function resolveToken(db: Queryable, token: string): Promise<Principal | undefined> {
  const [row] = await db.query<Principal>(
    `SELECT u.id AS "userId", u.name, u.role, u.company_id AS "companyId", t.id AS "tokenId"
     FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [sha256(token)],
  )
  return row
}
