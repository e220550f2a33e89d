// Two lower items of issue 7, item 17, on PostgreSQL: community-level alerts (no device) are one per
// rule even when raised concurrently, and the history of long-resolved alerts is pruned while the
// alert rows the ranking reads stay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertHistoryRetention } from '../../alerts/retention.ts'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { eventsOf } from '../../core/repos/alerts.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'

const pgUp = await hasPostgres()
const DAY = 86_400_000

describe.skipIf(!pgUp)('alert history on PostgreSQL', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db
  let now = Date.now()
  let service: AlertService

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
    await migrate(db, { log: silentLogger })
    await createCompany(db, { id: 'co-a', name: 'Alpha Property', contact: null })
    await createCommunity(db, 'cm-a', { name: 'cm-a', district: null, street: null, address: null, lat: null, lon: null })
    await assignCommunity(db, 'cm-a', 'co-a', 'fixture', null)
    service = new AlertService(db, DEFAULT_DEADLINES, silentLogger, () => new Date(now))
  })

  afterAll(async () => {
    await db.close()
    await tdb.drop()
  })

  const flood = (ruleId: string) =>
    service.report({ ruleId, deviceId: null, condition: 'active', source: 'node-red', severity: 'major', title: 'Basement flooding', communityId: 'cm-a' }, 'node-red')

  it('keeps one unresolved community-level alert per rule when raises race', async () => {
    const rules = Array.from({ length: 10 }, (_, i) => `flood-${i}`)
    await Promise.all(rules.flatMap((r) => Array.from({ length: 4 }, () => flood(r))))
    const rows = await db.query<{ ruleId: string; n: number; count: number }>(
      `SELECT rule_id AS "ruleId", count(*)::int AS n, sum(count)::int AS count FROM alerts WHERE rule_id LIKE 'flood-%' AND state <> 'resolved' GROUP BY rule_id ORDER BY rule_id`,
    )
    // One alert per rule, and every report counted on it (the losers became repeats).
    expect(rows).toEqual(rules.sort().map((ruleId) => ({ ruleId, n: 1, count: 4 })))
  })

  it('prunes the history of alerts resolved longer ago than the retention, keeping the alerts', async () => {
    now = Date.now() - 500 * DAY
    const old = (await flood('old-resolved')).alert
    const open = (await flood('old-open')).alert
    if (!old || !open) throw new Error('no alert raised')
    await service.act(old.id, 'resolve', 'crew', 'fixed')
    now = Date.now() - 10 * DAY
    const recent = (await flood('recent-resolved')).alert
    if (!recent) throw new Error('no alert raised')
    await service.act(recent.id, 'resolve', 'crew', 'fixed')

    const retention = new AlertHistoryRetention(db, { alertHistoryMs: 400 * 86_400_000 }, silentLogger)
    expect(await retention.prune(new Date())).toBe(2)
    expect(await eventsOf(db, old.id)).toEqual([])
    expect((await eventsOf(db, open.id)).map((e) => e.type)).toEqual(['raised'])
    expect((await eventsOf(db, recent.id)).map((e) => e.type)).toEqual(['raised', 'resolved'])
    // The alert row itself stays for the ranking.
    expect((await db.query('SELECT 1 FROM alerts WHERE id = $1', [old.id])).length).toBe(1)
  })
})
