// The feed's order (core/feed.ts, core/repos/feed.ts) on the real PostgreSQL: a reader that keeps
// its position never skips a row, even one whose transaction began first and commits last; rows
// of a rolled-back transaction never appear; only feed writers hold the feed back (a transaction
// open elsewhere on the server, or here without writing the feed, does not); a registry change is
// seen by the read that gives any later row; the mask and entries round-trip; pruning goes by age.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { FeedBatch, bucketMask, decodeEntries, partitionBuckets, type FeedPosition } from '../../core/feed.ts'
import { beginFeedWrite, feedHead, pruneFeed, readFeed } from '../../core/repos/feed.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('the commit-ordered feed', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
    await migrate(db, { log: silentLogger })
  })

  afterAll(async () => {
    await db.close()
    await tdb.drop()
  })

  const client = async () => {
    const c = new pg.Client({ connectionString: tdb.url })
    await c.connect()
    return c
  }
  /** A pg.Client as the repos' Queryable. */
  const queryable = (c: pg.Client) => ({
    query: async <T,>(text: string, params?: readonly unknown[]): Promise<T[]> => (await c.query(text, params as unknown[] | undefined)).rows as T[],
    exec: async (text: string): Promise<void> => {
      await c.query(text)
    },
  })
  const insert = (c: pg.Client, tag: string) => c.query(`INSERT INTO feed (buckets, entries) VALUES (1, $1)`, [JSON.stringify([{ d: tag, b: 0, at: 1, s: 'online' }])])
  /** As a writer does it: the feed's writer lock first, in a transaction the caller opened. */
  const append = async (c: pg.Client, tag: string) => {
    await beginFeedWrite(queryable(c))
    await insert(c, tag)
  }
  /** One whole transaction that appends a row. */
  const appendAlone = async (c: pg.Client, tag: string) => {
    await c.query('BEGIN')
    await append(c, tag)
    await c.query('COMMIT')
  }
  const readAll = async (from: FeedPosition) => {
    const tags: string[] = []
    let pos = from
    for (;;) {
      const { rows } = await readFeed(db, pos, 2)
      if (rows.length === 0) return { tags, pos }
      for (const r of rows) {
        tags.push(...decodeEntries(r.entries, new Set([0])).map((e) => e.d))
        pos = r
      }
    }
  }

  it('holds back rows behind a transaction still open, then gives every row once, the late one included', async () => {
    const start = await feedHead(db)
    const a = await client()
    const b = await client()
    try {
      await a.query('BEGIN')
      await append(a, 'first-begun')
      await b.query('BEGIN')
      await append(b, 'first-committed')
      await b.query('COMMIT')
      // A row of a transaction that began after the open one is not given yet: it could be skipped.
      const early = await readAll(start)
      expect(early.tags).toEqual([])
      await a.query('COMMIT')
      const all = await readAll(early.pos)
      expect(all.tags).toEqual(['first-begun', 'first-committed'])
      // Nothing more, and nothing twice.
      expect((await readAll(all.pos)).tags).toEqual([])
    } finally {
      await a.end()
      await b.end()
    }
  })

  it('never gives the rows of a rolled-back transaction', async () => {
    const start = await feedHead(db)
    const c = await client()
    try {
      await c.query('BEGIN')
      await append(c, 'rolled-back')
      await c.query('ROLLBACK')
      await appendAlone(c, 'kept')
    } finally {
      await c.end()
    }
    expect((await readAll(start)).tags).toEqual(['kept'])
  })

  it('under concurrent writers that stall at random points, a reader following along gets every committed row once', async () => {
    const start = await feedHead(db)
    let seed = 17
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const pause = () => new Promise((r) => setTimeout(r, Math.floor(rand() * 6)))
    const writers = await Promise.all(Array.from({ length: 6 }, () => client()))
    const committed = new Set<string>()
    const state = { writing: true }
    const got: string[] = []
    const reader = (async () => {
      let pos: FeedPosition = start
      for (;;) {
        const done = !state.writing
        const r = await readAll(pos)
        got.push(...r.tags)
        pos = r.pos
        if (done) return
        await pause()
      }
    })()
    try {
      await Promise.all(
        writers.map(async (c, w) => {
          for (let i = 0; i < 40; i++) {
            const tag = `w${w}-${i}`
            await c.query('BEGIN')
            await beginFeedWrite(queryable(c))
            await pause()
            await insert(c, tag)
            await pause()
            if (rand() < 0.2) {
              await c.query('ROLLBACK')
            } else {
              await c.query('COMMIT')
              committed.add(tag)
            }
          }
        }),
      )
    } finally {
      state.writing = false
      await reader
      await Promise.all(writers.map((c) => c.end()))
    }
    expect(got.length).toBe(new Set(got).size)
    expect(new Set(got)).toEqual(committed)
  })

  it('holds back only for feed writers: a write transaction open on another database, or on this one without the feed, does not', async () => {
    const start = await feedHead(db)
    const other = await createTestDatabase()
    const elsewhere = new pg.Client({ connectionString: other.url })
    await elsewhere.connect()
    const here = await client()
    const writer = await client()
    try {
      // Each holds a transaction id (it wrote) and stays open: a report, an import, a psql session.
      await elsewhere.query('BEGIN')
      await elsewhere.query('CREATE TABLE t (x int); INSERT INTO t VALUES (1)')
      await here.query('BEGIN')
      await here.query(`INSERT INTO feed_cursors (consumer, xid, id, at) VALUES ('someone', '0', 0, now())`)
      await appendAlone(writer, 'after-the-open-ones')
      expect((await readAll(start)).tags).toEqual(['after-the-open-ones'])
    } finally {
      await here.query('ROLLBACK').catch(() => undefined)
      await here.end()
      await writer.end()
      await elsewhere.end()
      await other.drop()
    }
  })

  it('tells each read the registry version it saw, changed by a device, rule or profile change and not by a rolled-back one', async () => {
    const v0 = (await readFeed(db, await feedHead(db), 1)).registry
    await provisionCommunity(db, { id: 'co-feed', name: 'Feed Co.' }, { id: 'cm-feed', name: 'Feed' })
    const v1 = (await readFeed(db, await feedHead(db), 1)).registry
    await provisionDevices(db, [{ id: 'mh-feed', kind: 'manhole', communityId: 'cm-feed' }])
    const v2 = (await readFeed(db, await feedHead(db), 1)).registry
    expect(v2).not.toBe(v1)
    const c = await client()
    try {
      await c.query('BEGIN')
      await c.query(`UPDATE devices SET enabled = false WHERE id = 'mh-feed'`)
      await c.query('ROLLBACK')
    } finally {
      await c.end()
    }
    expect((await readFeed(db, await feedHead(db), 1)).registry).toBe(v2)
    await db.query(`UPDATE devices SET enabled = false WHERE id = 'mh-feed'`)
    expect((await readFeed(db, await feedHead(db), 1)).registry).not.toBe(v2)
    expect(v0).toBeDefined()
  })

  it('gives a row no earlier than the registry change committed before it', async () => {
    const start = await feedHead(db)
    const before = (await readFeed(db, start, 1)).registry
    await db.query(`UPDATE devices SET enabled = true WHERE id = 'mh-feed'`)
    const c = await client()
    try {
      await appendAlone(c, 'after-the-change')
    } finally {
      await c.end()
    }
    const read = await readFeed(db, start, 10)
    expect(read.rows.length).toBe(1)
    expect(read.registry).not.toBe(before)
  })

  it('keeps a batch\'s bucket mask and entries as written, and a partition takes only its own entries', () => {
    const batch = new FeedBatch()
    batch.reading({ id: 'a', bucket: 63 }, 100, 'cover_tilt_deg', 90, 45)
    batch.reading({ id: 'a', bucket: 63 }, 100, 'battery_pct', 90, 80)
    batch.status({ id: 'b', bucket: 1 }, 101, 'offline')
    const row = batch.row()
    expect(row.buckets).toBe(bucketMask([1, 63]))
    expect(row.buckets < 0n).toBe(true)
    expect(decodeEntries(row.entries, new Set(partitionBuckets({ index: 1, count: 2 })))).toEqual([
      { d: 'a', b: 63, at: 100, r: [['cover_tilt_deg', 90, 45], ['battery_pct', 90, 80]] },
      { d: 'b', b: 1, at: 101, s: 'offline' },
    ])
    expect(decodeEntries(row.entries, new Set(partitionBuckets({ index: 0, count: 2 })))).toEqual([])
  })

  it('prunes rows older than the retention, a bounded number at a time', async () => {
    await db.query(`UPDATE feed SET at = now() - interval '2 days'`)
    const c = await client()
    try {
      await appendAlone(c, 'fresh')
    } finally {
      await c.end()
    }
    const before = new Date(Date.now() - 86_400_000)
    expect(await pruneFeed(db, before, 2)).toBe(2)
    while ((await pruneFeed(db, before, 2)) > 0);
    const rest = await db.query<{ entries: string }>('SELECT entries FROM feed')
    expect(rest.map((r) => r.entries)).toEqual([JSON.stringify([{ d: 'fresh', b: 0, at: 1, s: 'online' }])])
  })
})
