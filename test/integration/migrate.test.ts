// Migrations on the real server: safe twice and from several processes at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { MIGRATIONS } from '../../core/db/migrations.ts'
import { silentLogger } from '../../core/log.ts'
import { insertDeadLetters } from '../../core/repos/dead-letters.ts'
import { IngestService } from '../../ingest/service.ts'
import { loadConfig } from '../../core/config.ts'
import { createMetrics } from '../../core/metrics.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('migrations', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  beforeAll(async () => {
    tdb = await createTestDatabase()
  })
  afterAll(async () => {
    await tdb.drop()
  })

  it('apply once when four connections pools migrate at the same moment, and again is a no-op', async () => {
    const dbs = await Promise.all([1, 2, 3, 4].map(() => openDb({ url: tdb.url, poolSize: 2 })))
    try {
      const results = await Promise.all(dbs.map((db) => migrate(db, { log: silentLogger })))
      expect(results.every((r) => r.timescale === undefined)).toBe(true)
      const [first] = dbs
      if (!first) throw new Error('no database')
      const applied = await first.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
      expect(applied.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version))
      await migrate(first, { log: silentLogger })
      expect(await first.query('SELECT version FROM schema_migrations')).toHaveLength(MIGRATIONS.length)
    } finally {
      await Promise.all(dbs.map((db) => db.close()))
    }
  })

  it('prunes dead letters older than DEAD_LETTER_RETENTION when the ingest starts', async () => {
    const db = await openDb({ url: tdb.url })
    try {
      const row = (days: number) => ({
        receivedAt: new Date(Date.now() - days * 86_400_000),
        clientId: null,
        topic: 'hb/v1/devices/x/telemetry',
        deviceId: 'x',
        reasonCode: 'malformed_json' as const,
        reason: `${days} days old`,
        payloadExcerpt: null,
      })
      await insertDeadLetters(db, [row(40), row(31), row(29), row(1)])
      const ingest = new IngestService(db, loadConfig({ DEAD_LETTER_RETENTION: '30d' }).ingest, silentLogger, createMetrics({ defaults: false }))
      expect(await ingest.pruneDeadLetters()).toBe(2)
      const left = await db.query<{ reason: string }>('SELECT reason FROM dead_letters ORDER BY received_at')
      expect(left.map((r) => r.reason)).toEqual(['29 days old', '1 days old'])
    } finally {
      await db.close()
    }
  })
})
