// Replay protection for signed platform pushes: a nonce is taken once within the window, across
// every API process (the ledger is a PostgreSQL table, core/repos/receiver-nonces.ts), so a
// captured push sent again — to this process or another — is refused. Expired nonces are pruned
// at most once a minute per process, by the request that records one; no timer to stop.
import type { Queryable } from './db/client.ts'
import { nonceSeen, pruneNonces, recordNonce } from './repos/receiver-nonces.ts'

const PRUNE_EVERY_MS = 60_000

export class NonceLedger {
  private prunedAt = 0

  constructor(
    private readonly db: Queryable,
    private readonly platform: string,
    private readonly windowMs: number,
  ) {}

  /** Whether `nonce` was processed within the window before `now` (ms). */
  seen(nonce: string, now: number): Promise<boolean> {
    return nonceSeen(this.db, this.platform, nonce, new Date(now))
  }

  /** Records `nonce` as processed at `now` (ms), refused until the window has passed. */
  async record(nonce: string, now: number): Promise<void> {
    await recordNonce(this.db, this.platform, nonce, new Date(now + this.windowMs))
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now
      await pruneNonces(this.db, new Date(now))
    }
  }
}
