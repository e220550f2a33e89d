// Chaos: `kill -9` of the all-in-one process (`housing-brain up`) while a fleet publishes QoS 1
// with sequence numbers, on the PostgreSQL server and on both embedded databases (the embedded
// PostgreSQL server, whose process outlives its killed parent, and PGlite, EMBEDDED_DB=pglite). A
// PUBACK is sent only after the commit (DESIGN §7), so whatever the fleet saw acknowledged must
// be stored — exactly once — when `up` is started again on the same data directory; the embedded
// database must open again after being killed mid-write.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { startUp, type UpProcess } from '../helpers/up-process.ts'
import { FLEET_METRIC, expectStoredExactlyOnce, fleetCounts, startFleet } from './fleet.ts'

const pgUp = await hasPostgres()
const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

/** Acknowledged messages per device before the kill, so the kill lands on a busy writer. */
const ACKED_BEFORE_KILL = 40

async function killWhilePublishing(engine: string, env: Record<string, string>): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hb-chaos-'))
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  const track = (up: UpProcess) => {
    cleanups.push(() => up.kill9())
    return up
  }
  const first = track(await startUp(dataDir, env))
  const fleet = await startFleet(first, `kill-${engine}`, 6, { intervalMs: 20, window: 10 })
  await eventually(() => (fleet.publishers.every((p) => p.acked.size >= ACKED_BEFORE_KILL) ? true : undefined), 60_000, 'the fleet to be acknowledged')
  await first.kill9()
  const { sent, acked } = fleetCounts(fleet)
  // Every connection died with the process; nothing more can be acknowledged.
  for (const p of fleet.publishers) await p.stop(0)

  // The same data directory (and for PostgreSQL the same database): it must open and serve again.
  const second = track(await startUp(dataDir, env))
  const { stored, ackedStored } = await expectStoredExactlyOnce(second, fleet)
  console.log(`chaos kill -9 on ${engine}: sent ${sent}, PUBACKed ${acked}, stored ${stored} (${ackedStored} of the PUBACKed, ${stored - ackedStored} unacknowledged but committed)`)
  expect(ackedStored).toBe(acked)

  // And it takes new readings: one device publishes again on the reopened database.
  const id = fleet.ids[0] ?? ''
  const client = await second.connect(id, fleet.secrets.get(id) ?? '')
  const ts = Date.now() - 1000
  await client.publishAsync(topics.deviceTelemetry(id), JSON.stringify({ ts, values: { [FLEET_METRIC]: 500 } }), { qos: 1 })
  const after = await second.api('GET', `/api/v1/devices/${id}/readings?metric=${FLEET_METRIC}&from=${new Date(ts).toISOString()}&to=${new Date(ts + 1).toISOString()}`)
  expect(after.body).toMatchObject({ points: [{ value: 500 }] })
  expect(await second.interrupt()).toBe(0)
}

describe('chaos: kill -9 of housing-brain up while a fleet publishes', () => {
  it.skipIf(!pgUp)('on PostgreSQL: every PUBACKed reading is stored exactly once after the restart', { timeout: 180_000 }, async () => {
    const tdb = await createTestDatabase()
    cleanups.push(tdb.drop)
    await killWhilePublishing('postgres', { DATABASE_URL: tdb.url })
  })

  it('on the embedded PostgreSQL: it opens again and holds every PUBACKed reading exactly once', { timeout: 180_000 }, async () => {
    await killWhilePublishing('embedded-postgres', {})
  })

  it('on the embedded PGlite: it opens again and holds every PUBACKed reading exactly once', { timeout: 180_000 }, async () => {
    await killWhilePublishing('pglite', { EMBEDDED_DB: 'pglite' })
  })
})
