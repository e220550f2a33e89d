// The feed's SQL (core/feed.ts): append in the committing transaction, read in order below the
// oldest running transaction, positions of readers, pruning by age.
import type { Queryable } from '../db/client.ts'
import type { FeedPosition } from '../feed.ts'

/** NOTIFY channel woken by every append (payload: the row's bucket mask); readers also poll. */
export const FEED_CHANNEL = 'hb_feed'

export interface FeedRow extends FeedPosition {
  at: Date
  buckets: bigint
  entries: string
}

/** Appends one row in the caller's transaction; readers are woken when it commits. */
export async function appendFeed(tx: Queryable, row: { buckets: bigint; entries: string }): Promise<void> {
  await tx.query(`WITH r AS (INSERT INTO feed (buckets, entries) VALUES ($1::bigint, $2) RETURNING 1) SELECT pg_notify($3, $4) FROM r`, [row.buckets.toString(), row.entries, FEED_CHANNEL, row.buckets.toString()])
}

/**
 * Rows after `after`, oldest first, that no running transaction can still precede: only rows
 * whose transaction id is below the snapshot's xmin (every such transaction has ended). With
 * `through`, stops there (a replay up to a known position).
 */
export async function readFeed(db: Queryable, after: FeedPosition, limit: number, through?: FeedPosition): Promise<FeedRow[]> {
  const rows = await db.query<{ xid: string; id: number; at: Date; buckets: string; entries: string }>(
    `SELECT xid::text AS xid, id, at, buckets::text AS buckets, entries FROM feed
     WHERE (xid, id) > ($1::text::xid8, $2::bigint)
       AND xid < pg_snapshot_xmin(pg_current_snapshot())
       AND ($4::text IS NULL OR (xid, id) <= ($4::text::xid8, $5::bigint))
     ORDER BY xid, id LIMIT $3`,
    [after.xid, after.id, limit, through?.xid ?? null, through?.id ?? 0],
  )
  return rows.map((r) => ({ xid: r.xid, id: r.id, at: r.at, buckets: BigInt(r.buckets), entries: r.entries }))
}

/** The newest row's position (the start when the feed is empty). */
export async function feedHead(db: Queryable): Promise<FeedPosition & { at: Date | null }> {
  const [row] = await db.query<{ xid: string; id: number; at: Date }>('SELECT xid::text AS xid, id, at FROM feed ORDER BY xid DESC, id DESC LIMIT 1')
  return row ?? { xid: '0', id: 0, at: null }
}

/** A position just before the rows appended at or after `at` (give or take concurrent commits): where a replay of the time since `at` starts. */
export async function feedPositionBefore(db: Queryable, at: Date): Promise<FeedPosition> {
  const [row] = await db.query<{ xid: string; id: number }>(
    `SELECT xid::text AS xid, id FROM feed WHERE at < $1 ORDER BY at DESC LIMIT 1`,
    [at],
  )
  return row ?? { xid: '0', id: 0 }
}

export interface FeedCursor extends FeedPosition {
  consumer: string
  at: Date
}

export async function getCursor(db: Queryable, consumer: string): Promise<FeedCursor | undefined> {
  const [row] = await db.query<FeedCursor>('SELECT consumer, xid::text AS xid, id, at FROM feed_cursors WHERE consumer = $1', [consumer])
  return row
}

/** Every cursor whose consumer name starts with `prefix` (e.g. 'rules:'), oldest position first. */
export async function cursorsLike(db: Queryable, prefix: string): Promise<FeedCursor[]> {
  return db.query<FeedCursor>(`SELECT consumer, xid::text AS xid, id, at FROM feed_cursors WHERE starts_with(consumer, $1) ORDER BY xid, id`, [prefix])
}

export async function saveCursor(db: Queryable, consumer: string, pos: FeedPosition, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO feed_cursors (consumer, xid, id, at) VALUES ($1, $2::text::xid8, $3, $4)
     ON CONFLICT (consumer) DO UPDATE SET xid = EXCLUDED.xid, id = EXCLUDED.id, at = EXCLUDED.at, updated_at = now()`,
    [consumer, pos.xid, pos.id, at],
  )
}

/** Deletes up to `limit` rows older than `before`; returns how many went. */
export async function pruneFeed(db: Queryable, before: Date, limit: number): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH gone AS (DELETE FROM feed WHERE (xid, id) IN (SELECT xid, id FROM feed WHERE at < $1 ORDER BY at LIMIT $2) RETURNING 1) SELECT count(*)::int AS n FROM gone`,
    [before, limit],
  )
  return rows[0]?.n ?? 0
}

/** The oldest row kept, to tell a reader whose position was pruned away. */
export async function feedTail(db: Queryable): Promise<FeedPosition | undefined> {
  const [row] = await db.query<FeedPosition>('SELECT xid::text AS xid, id FROM feed ORDER BY xid, id LIMIT 1')
  return row
}
