// The feed's SQL (core/feed.ts): writers announce themselves and append in the committing
// transaction; readers read in order below the oldest feed writer still running, with the registry
// version they read under; positions of readers; pruning by age.
import type { Queryable } from '../db/client.ts'
import type { FeedPosition } from '../feed.ts'

/** NOTIFY channel woken by every append (payload: the row's bucket mask) and registry change ('-1'); readers also poll. */
export const FEED_CHANNEL = 'hb_feed'

/** The shared advisory lock (two-key form) every feed writer holds to its commit: 'hbfd', 1. */
const WRITER_LOCK = [0x68626664, 1] as const

export interface FeedRow extends FeedPosition {
  at: Date
  buckets: bigint
  entries: string
}

/** A transaction that announced itself as a feed writer (beginFeedWrite): only it may append. */
export interface FeedWriter {
  readonly tx: Queryable
}

/**
 * Announces a feed writer: the first statement of a transaction that may append to the feed,
 * before it writes anything (a transaction gets its id at its first write, and a reader must see
 * the writer before that id can precede a row it gives). Shared: writers never wait for each other.
 */
export async function beginFeedWrite(tx: Queryable): Promise<FeedWriter> {
  await tx.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [...WRITER_LOCK])
  return { tx }
}

/** Appends one row in the announced writer's transaction; readers are woken when it commits. */
export async function appendFeed({ tx }: FeedWriter, row: { buckets: bigint; entries: string }): Promise<void> {
  await tx.query(`WITH r AS (INSERT INTO feed (buckets, entries) VALUES ($1::bigint, $2) RETURNING 1) SELECT pg_notify($3, $4) FROM r`, [row.buckets.toString(), row.entries, FEED_CHANNEL, row.buckets.toString()])
}

/**
 * The first transaction id a reader must not pass yet: the oldest feed writer still running, or
 * the next id to be assigned. Its own statement, before the rows are read: the snapshot is taken
 * first, then the lock table is read, so a writer that ended in between has committed before the
 * rows' statement takes its snapshot, and one that had no id yet gets one above this horizon. The
 * lock table gives 32-bit ids; the snapshot's running ids give them their epoch.
 */
async function writerHorizon(db: Queryable): Promise<string> {
  const [row] = await db.query<{ horizon: string }>(
    `WITH snap AS (SELECT pg_current_snapshot() AS s),
     writers AS (
       SELECT t.transactionid AS x FROM pg_locks a
       JOIN pg_locks t ON t.virtualtransaction = a.virtualtransaction AND t.locktype = 'transactionid'
       WHERE a.locktype = 'advisory' AND a.granted AND a.classid = $1::int::oid AND a.objid = $2::int::oid AND a.objsubid = 2
         AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     )
     SELECT least(
       pg_snapshot_xmax(s),
       (SELECT min(r) FROM pg_snapshot_xip(s) r WHERE (r::text::numeric % 4294967296)::text::xid IN (SELECT x FROM writers))
     )::text AS horizon FROM snap`,
    [...WRITER_LOCK],
  )
  if (!row) throw new Error('the feed horizon query returned nothing')
  return row.horizon
}

/** What one read gives: rows in order, and the registry version current when they were read. */
export interface FeedRead {
  rows: FeedRow[]
  /** Changes with every committed change of devices, rules or profiles (compare, don't order). */
  registry: string
}

/**
 * Rows after `after`, oldest first, that no running feed writer can still precede. With
 * `through`, stops there (a replay up to a known position). The registry version is read in the
 * same snapshot as the rows: a registry change committed before any row given is in it.
 */
export async function readFeed(db: Queryable, after: FeedPosition, limit: number, through?: FeedPosition): Promise<FeedRead> {
  const horizon = await writerHorizon(db)
  const rows = await db.query<{ registry: string; xid: string | null; id: number | null; at: Date | null; buckets: string | null; entries: string | null }>(
    `SELECT v.version::text AS registry, f.xid::text AS xid, f.id, f.at, f.buckets::text AS buckets, f.entries
     FROM registry_version v LEFT JOIN LATERAL (
       SELECT xid, id, at, buckets, entries FROM feed
       WHERE (xid, id) > ($1::text::xid8, $2::bigint)
         AND xid < $6::text::xid8
         AND ($4::text IS NULL OR (xid, id) <= ($4::text::xid8, $5::bigint))
       ORDER BY xid, id LIMIT $3
     ) f ON true`,
    [after.xid, after.id, limit, through?.xid ?? null, through?.id ?? 0, horizon],
  )
  const out: FeedRow[] = []
  for (const r of rows) {
    if (r.xid === null || r.id === null || r.at === null || r.buckets === null || r.entries === null) continue
    out.push({ xid: r.xid, id: r.id, at: r.at, buckets: BigInt(r.buckets), entries: r.entries })
  }
  return { rows: out, registry: rows[0]?.registry ?? '0' }
}

/** The registry version now (see readFeed). */
export async function registryVersion(db: Queryable): Promise<string> {
  const [row] = await db.query<{ version: string }>('SELECT version::text AS version FROM registry_version')
  return row?.version ?? '0'
}

/**
 * Where a reader that wants nothing of the past starts: the newest row nothing can still precede
 * (or, when there is none, just before the oldest writer still running).
 */
export async function feedHead(db: Queryable): Promise<FeedPosition & { at: Date | null }> {
  const horizon = await writerHorizon(db)
  const [row] = await db.query<{ xid: string; id: number; at: Date }>('SELECT xid::text AS xid, id, at FROM feed WHERE xid < $1::text::xid8 ORDER BY xid DESC, id DESC LIMIT 1', [horizon])
  return row ?? { xid: (BigInt(horizon) - 1n).toString(), id: Number.MAX_SAFE_INTEGER, at: null }
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
