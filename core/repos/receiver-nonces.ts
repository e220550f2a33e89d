// SQL for the nonces of signed platform pushes (OneNET): a push is processed once per nonce
// across every API process, so a captured push replayed later is refused (issue 18, item 2).
// Rows expire after the receiver's window and are pruned by whoever records the next one.
import type { Queryable } from '../db/client.ts'

/** Whether `nonce` of `platform` was recorded and has not expired at `now`. */
export async function nonceSeen(db: Queryable, platform: string, nonce: string, now: Date): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM receiver_nonces WHERE platform = $1 AND nonce = $2 AND expires_at > $3', [platform, nonce, now])
  return rows.length > 0
}

/** Records a processed push's nonce until `expiresAt`; a nonce recorded already keeps the later expiry. */
export async function recordNonce(db: Queryable, platform: string, nonce: string, expiresAt: Date): Promise<void> {
  await db.query(
    `INSERT INTO receiver_nonces (platform, nonce, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (platform, nonce) DO UPDATE SET expires_at = GREATEST(receiver_nonces.expires_at, EXCLUDED.expires_at)`,
    [platform, nonce, expiresAt],
  )
}

/** Deletes the nonces expired before `now`; returns how many. */
export async function pruneNonces(db: Queryable, now: Date): Promise<number> {
  const rows = await db.query('DELETE FROM receiver_nonces WHERE expires_at <= $1 RETURNING 1', [now])
  return rows.length
}
