// The alert event feed between API processes (alerts/feed.ts), here as two alert services on
// two connection pools of one PostgreSQL database — what two processes are to the database: event
// ids follow commit order; each service's bus gets every event of both once, in id order, with the
// alert as it was after the event; an event too big for a NOTIFY and one whose NOTIFY was never
// sent still arrive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CommittedEvent } from '../../alerts/events.ts'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { insertEvent } from '../../core/repos/alerts.ts'
import { createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { seed } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('alert event feed across processes', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let dbA: Db
  let dbB: Db
  let a: AlertService
  let b: AlertService
  const seenA: CommittedEvent[] = []
  const seenB: CommittedEvent[] = []

  beforeAll(async () => {
    tdb = await createTestDatabase()
    dbA = await openDb({ url: tdb.url })
    dbB = await openDb({ url: tdb.url })
    await migrate(dbA, { log: silentLogger })
    await seed(dbA)
    a = new AlertService(dbA, DEFAULT_DEADLINES, silentLogger)
    b = new AlertService(dbB, DEFAULT_DEADLINES, silentLogger)
    a.bus.on('event', (e) => seenA.push(e))
    b.bus.on('event', (e) => seenB.push(e))
    await a.feed.start()
    await b.feed.start()
  })

  afterAll(async () => {
    await a.feed.stop()
    await b.feed.stop()
    await dbA.close()
    await dbB.close()
    await tdb.drop()
  })

  const raise = (svc: AlertService, ruleId: string) =>
    svc.report({ ruleId, deviceId: 'mh-1', condition: 'active', source: 'operator', severity: 'minor', title: `feed ${ruleId}` }, 'test')
  const ids = (seen: CommittedEvent[]) => seen.map((e) => e.event.id)
  const committed = async () => (await dbA.query<{ id: number }>('SELECT id FROM alert_events ORDER BY id')).map((r) => r.id)

  it('makes a writer wait for an open event-writing transaction, so ids increase in commit order', async () => {
    const alert = (await raise(a, 'order')).alert
    if (!alert) throw new Error('no alert')
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    let firstId = 0
    const first = dbA.transaction(async (tx) => {
      firstId = (await insertEvent(tx, { alertId: alert.id, type: 'commented', actor: 'first', note: 'held open' })).id
      await held
    })
    await eventually(() => (firstId > 0 ? true : undefined), 10_000, 'the first transaction to write its event')
    let secondId = 0
    const second = dbB.transaction(async (tx) => {
      secondId = (await insertEvent(tx, { alertId: alert.id, type: 'commented', actor: 'second', note: 'waits' })).id
    })
    try {
      // The second writer waits on the ordering lock, not merely on being slow.
      await eventually(
        async () => ((await dbA.query(`SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted`)).length > 0 ? true : undefined),
        10_000,
        'the second writer to wait for the lock',
      )
      expect(secondId).toBe(0)
    } finally {
      release()
      await first
      await second
    }
    expect(secondId).toBeGreaterThan(firstId)
  })

  it('gives each bus every event of both writers once, in id order, with the alert as it was after it', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => raise(i % 2 ? a : b, `both-${i}`)))
    // A comment too long for one NOTIFY travels as ids and is read from the database.
    const alert = (await raise(a, 'long')).alert
    if (!alert) throw new Error('no alert')
    await b.act(alert.id, 'comment', 'crew', 'x'.repeat(9000))
    const all = await committed()
    await eventually(() => (seenA.at(-1)?.event.id === all.at(-1) && seenB.at(-1)?.event.id === all.at(-1) ? true : undefined), 20_000, 'both buses to catch up')
    // Both buses started before any event: they saw everything, once, in order (the first test's
    // raw events included, through a catch-up read).
    expect(ids(seenA)).toEqual(all)
    expect(ids(seenB)).toEqual(all)
    const raisedOnB = seenB.find((e) => e.alert.ruleId === 'both-0')
    expect(raisedOnB?.event.type).toBe('raised')
    expect(raisedOnB?.alert.raisedAt).toBeInstanceOf(Date)
    expect(seenA.find((e) => e.event.note?.length === 9000)?.event.actor).toBe('crew')
  })

  it('finds an event whose notification never came', async () => {
    const alert = (await raise(b, 'silent')).alert
    if (!alert) throw new Error('no alert')
    // Written without the service: no NOTIFY is sent, as when a LISTEN connection was down.
    const quiet = await dbB.transaction((tx) => insertEvent(tx, { alertId: alert.id, type: 'commented', actor: 'elsewhere', note: 'no notify' }))
    await eventually(() => (seenA.some((e) => e.event.id === quiet.id) ? true : undefined), 20_000, 'the poll to find the quiet event')
    await raise(b, 'after-silent')
    const all = await committed()
    await eventually(() => (seenA.at(-1)?.event.id === all.at(-1) ? true : undefined), 20_000, 'A to catch up')
    expect(ids(seenA)).toEqual(all)
  })
})
