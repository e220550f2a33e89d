// Chaos: the network path between the all-in-one process (`housing-brain up` on PostgreSQL) and
// the database is cut for 20 s while a fleet publishes QoS 1 with sequence numbers. The process
// must stay up, hold its memory within what INGEST_QUEUE_MAX_ROWS allows (backpressure, not an
// ever-growing queue), drain the backlog by itself when the path is back, and have stored every
// PUBACKed reading exactly once.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { tcpProxy } from '../helpers/tcp-proxy.ts'
import { startUp } from '../helpers/up-process.ts'
import { expectStoredExactlyOnce, fleetCounts, startFleet } from './fleet.ts'

const pgUp = await hasPostgres()
const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

/** The outage the issue describes. */
const OUTAGE_MS = 20_000
const QUEUE_MAX_ROWS = 100
/** The firehose's messages carry one reading and this much whitespace: big, so growth shows. */
const FIREHOSE_PADDING = 256 * 1024
/**
 * What one queued reading may cost in memory at most: its message's payload (kept until the
 * commit answers it), the parsed entry and the promise waiting for the commit (a few hundred
 * bytes; 4 KiB leaves room).
 */
const BYTES_PER_QUEUED_ROW = FIREHOSE_PADDING + 4096
/** Heap growth and garbage not yet collected that any busy process shows, outage or not. */
const HEADROOM_BYTES = 64 * 1024 * 1024

describe.skipIf(!pgUp)('chaos: database outage under housing-brain up', () => {
  it('stays up for a 20 s cut, bounds its memory, drains the backlog, stores every PUBACKed reading once', { timeout: 180_000 }, async () => {
    const tdb = await createTestDatabase()
    cleanups.push(tdb.drop)
    const proxy = tcpProxy()
    const proxyPort = await proxy.start()
    cleanups.push(() => proxy.stop())
    const dataDir = await mkdtemp(path.join(tmpdir(), 'hb-chaos-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const up = await startUp(dataDir, {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${proxyPort}/${tdb.name}`,
      INGEST_QUEUE_MAX_ROWS: String(QUEUE_MAX_ROWS),
    })
    cleanups.push(() => up.kill9())

    // Ten devices with a small outbound window, and one firehose that never waits for PUBACKs
    // (only for its socket to take more): it offers the broker as much as the broker reads.
    const fleet = await startFleet(up, 'outage-el', 10, { intervalMs: 50, window: 20 })
    const firehose = await startFleet(up, 'outage-hose', 1, { intervalMs: 2, window: Number.POSITIVE_INFINITY, padding: FIREHOSE_PADDING })
    const hoseStarted = Date.now()
    const everyone = [...fleet.publishers, ...firehose.publishers]
    await eventually(() => (everyone.every((p) => p.acked.size >= 20) ? true : undefined), 60_000, 'the fleet to be acknowledged')
    // What the firehose sends while the database is there: the rate it would keep up during the
    // outage if the broker went on reading its socket.
    const hoseBytesPerSecond = ((firehose.publishers[0]?.sent ?? 0) * FIREHOSE_PADDING * 1000) / (Date.now() - hoseStarted)

    const rssBefore = (await up.rss()) ?? 0
    const sentAtCut = everyone.reduce((n, p) => n + p.sent, 0)
    proxy.cut()
    const cutAt = Date.now()
    let rssPeak = rssBefore
    let queuePeak = 0
    while (Date.now() - cutAt < OUTAGE_MS && up.child.exitCode === null && up.child.signalCode === null) {
      rssPeak = Math.max(rssPeak, (await up.rss()) ?? 0)
      queuePeak = Math.max(queuePeak, (await up.metric('hb_ingest_queue_rows').catch(() => undefined)) ?? 0)
      await new Promise((r) => setTimeout(r, 250))
    }
    const offered = everyone.reduce((n, p) => n + p.sent, 0) - sentAtCut
    const alive = up.child.exitCode === null && up.child.signalCode === null
    proxy.restore()
    // Item 0 of issue 7: the process must not die because its database went away.
    expect(alive, `housing-brain up exited during the outage:\n${up.output().slice(-3000)}`).toBe(true)

    // The backlog drains by itself: every message sent is acknowledged, without a restart.
    const unacked = await Promise.all(everyone.map((p) => p.stop(90_000)))
    const { sent, acked } = fleetCounts({ ...fleet, publishers: everyone })
    const { stored } = await expectStoredExactlyOnce(up, fleet)
    const hose = await expectStoredExactlyOnce(up, firehose)
    const allowance = QUEUE_MAX_ROWS * BYTES_PER_QUEUED_ROW + HEADROOM_BYTES
    const bound = rssBefore + allowance
    const unboundedGrowth = (hoseBytesPerSecond * OUTAGE_MS) / 1000
    const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`
    console.log(
      `chaos database outage (${OUTAGE_MS / 1000} s): sent ${sent} (${offered} during the outage), PUBACKed ${acked}, stored ${stored + hose.stored}; ` +
        `queue peak ${queuePeak} rows (limit ${QUEUE_MAX_ROWS}); RSS ${mib(rssBefore)} before, peak ${mib(rssPeak)}, bound ${mib(bound)} ` +
        `(a broker reading without bound would have taken ${mib(unboundedGrowth)} from the firehose)`,
    )
    expect(unacked).toEqual(everyone.map(() => 0))
    // The limits were really in play: the queue filled up, and the firehose alone could have
    // pushed memory past the bound had nothing held it back.
    expect(queuePeak).toBeGreaterThanOrEqual(QUEUE_MAX_ROWS * 0.9)
    expect(queuePeak).toBeLessThanOrEqual(QUEUE_MAX_ROWS)
    expect(unboundedGrowth).toBeGreaterThan(allowance)
    expect(rssPeak).toBeLessThanOrEqual(bound)
    expect(await up.interrupt()).toBe(0)
  })
})
