// The feed's order (core/feed.ts, core/repos/feed.ts) on the real PostgreSQL: a reader that keeps
// its position never skips a row, even one whose transaction began first and commits last; rows
// of a rolled-back transaction never appear; the mask and entries round-trip; pruning goes by age.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { FeedBatch, bucketMask, decodeEntries, partitionBuckets, type FeedPosition } from '../../core/feed.ts'
import { feedHead, pruneFeed, readFeed } from '../../core/repos/feed.ts'
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
    await migrate(db, { log: silentLogger, retentionDays: 30, compressAfterDays: 7 })
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
  const append = (c: pg.Client, tag: string) => c.query(`INSERT INTO feed (buckets, entries) VALUES (1, $1)`, [JSON.stringify([{ d: tag, b: 0, at: 1, s: 'online' }])])
  const readAll = async (from: FeedPosition) => {
    const tags: string[] = []
    let pos = from
    for (;;) {
      const rows = await readFeed(db, pos, 2)
      if (rows.length === 0) return { tags, pos }
      for (const r of rows) {
        tags.push(...decodeEntries(r.entries, new Set([0])).map((e) => ('d' in e ? e.d : e.reg)))
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
      await append(c, 'kept')
    } finally {
      await c.end()
    }
    expect((await readAll(start)).tags).toEqual(['kept'])
  })

  it('records a registry change as a row every partition reads', async () => {
    const start = await feedHead(db)
    await provisionCommunity(db, { id: 'co-feed', name: 'Feed Co.' }, { id: 'cm-feed', name: 'Feed' })
    const mid = await feedHead(db)
    await provisionDevices(db, [{ id: 'mh-feed', kind: 'manhole', communityId: 'cm-feed' }])
    const start2 = mid
    const rows = await readFeed(db, start2, 10)
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) {
      expect(r.buckets).toBe(-1n)
      expect(decodeEntries(r.entries, new Set())).toEqual([{ reg: 'devices' }])
    }
    expect(start).toBeDefined()
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
      await append(c, 'fresh')
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
