// SQL for the `state` of a sign-in with another provider (WeCom) under way: 32 random bytes given
// to the browser (in a cookie and in the provider's redirect), stored here only as their SHA-256.
// Taking one deletes it, so a state is used once, by whichever API process the callback reaches.
// Live states are bounded: expired ones are dropped when a new one is made, and past MAX_LIVE a
// new one is refused (someone requesting sign-ins in a loop fills nothing).
import type { Queryable } from '../db/client.ts'
import { generateSecret, sha256 } from '../secrets.ts'

/** Sign-ins under way at once, all providers together. */
export const MAX_LIVE_STATES = 10_000

/** Starts a sign-in; returns its state in clear (only here), or undefined when MAX_LIVE_STATES are under way. */
export async function createSignInState(db: Queryable, provider: string, now: Date, ttlMs: number): Promise<string | undefined> {
  const state = generateSecret(32)
  await db.query('DELETE FROM sign_in_states WHERE expires_at <= $1', [now])
  const rows = await db.query(
    `INSERT INTO sign_in_states (state_hash, provider, expires_at)
     SELECT $1, $2, $3 WHERE (SELECT count(*) FROM sign_in_states) < $4 RETURNING 1`,
    [sha256(state), provider, new Date(now.getTime() + ttlMs), MAX_LIVE_STATES],
  )
  return rows.length > 0 ? state : undefined
}

/** Takes a state of `provider`: true once for a live one, false for an unknown, used, expired or other provider's. */
export async function takeSignInState(db: Queryable, provider: string, state: string, now: Date): Promise<boolean> {
  const rows = await db.query<{ live: boolean }>('DELETE FROM sign_in_states WHERE state_hash = $1 AND provider = $2 RETURNING expires_at > $3 AS live', [
    sha256(state),
    provider,
    now,
  ])
  return rows[0]?.live === true
}
