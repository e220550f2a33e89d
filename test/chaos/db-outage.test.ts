// Chaos: the network path between the all-in-one process (`housing-brain up` on PostgreSQL) and
// the database is cut for 20 s while a fleet publishes QoS 1 with sequence numbers. The process
// must stay up, hold its memory within what INGEST_QUEUE_MAX_ROWS allows (backpressure, not an
// ever-growing queue), drain the backlog by itself when the path is back, and have stored every
// PUBACKed reading exactly once.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { tcpProxy } from '../helpers/tcp-proxy.ts'
import { startUp, type UpProcess } from '../helpers/up-process.ts'
import { expectStoredExactlyOnce, fleetCounts, startFleet, type Fleet } from './fleet.ts'

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
/** What the process may add to its resident memory during the outage. */
const ALLOWANCE = QUEUE_MAX_ROWS * BYTES_PER_QUEUED_ROW + HEADROOM_BYTES

interface Outcome {
  up: UpProcess
  fleet: Fleet
  firehose: Fleet
  /** The process was still running when the path came back. */
  alive: boolean
  /** Messages each publisher still had unacknowledged after the drain. */
  unacked: number[]
  rssBefore: number
  rssPeak: number
  queuePeak: number
  /** Bytes per second the firehose sent while the database was there. */
  hoseBytesPerSecond: number
}

/** Runs the outage once; each test below checks one promise against what happened. */
async function runOutage(): Promise<Outcome> {
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
  const firehose = await startFleet(up, 'outage-hose', 1, { intervalMs: 10, window: Number.POSITIVE_INFINITY, padding: FIREHOSE_PADDING })
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
  const running = () => up.child.exitCode === null && up.child.signalCode === null
  while (Date.now() - cutAt < OUTAGE_MS && running()) {
    rssPeak = Math.max(rssPeak, (await up.rss()) ?? 0)
    queuePeak = Math.max(queuePeak, (await up.metric('hb_ingest_queue_rows').catch(() => undefined)) ?? 0)
    await new Promise((r) => setTimeout(r, 250))
  }
  const offered = everyone.reduce((n, p) => n + p.sent, 0) - sentAtCut
  const alive = running()
  proxy.restore()
  // The backlog drains by itself (if the process lived): publishing stops, the PUBACKs come.
  const unacked = await Promise.all(everyone.map((p) => p.stop(alive ? 90_000 : 0)))
  const { sent, acked } = fleetCounts({ ...fleet, publishers: everyone })
  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`
  console.log(
    `chaos database outage (${OUTAGE_MS / 1000} s): ${alive ? 'process up' : 'PROCESS EXITED'}; sent ${sent} (${offered} during the outage), PUBACKed ${acked}; ` +
      `queue peak ${queuePeak} rows (limit ${QUEUE_MAX_ROWS}); RSS ${mib(rssBefore)} before, peak ${mib(rssPeak)}, bound ${mib(rssBefore + ALLOWANCE)} ` +
      `(a broker reading without bound would have taken ${mib((hoseBytesPerSecond * OUTAGE_MS) / 1000)} from the firehose)`,
  )
  return { up, fleet, firehose, alive, unacked, rssBefore, rssPeak, queuePeak, hoseBytesPerSecond }
}

describe.skipIf(!pgUp)('chaos: a 20 s database outage under housing-brain up while a fleet publishes', () => {
  let o: Outcome
  beforeAll(async () => {
    o = await runOutage()
  }, 240_000)

  it('stays up (issue 7, item 0)', () => {
    expect(o.alive, `housing-brain up exited during the outage:\n${o.up.output().slice(-3000)}`).toBe(true)
  })

  it('drains the backlog without a restart and has stored every PUBACKed reading exactly once', { timeout: 60_000 }, async () => {
    expect(o.alive).toBe(true)
    expect(o.unacked).toEqual(o.unacked.map(() => 0))
    const { stored } = await expectStoredExactlyOnce(o.up, o.fleet)
    const hose = await expectStoredExactlyOnce(o.up, o.firehose)
    console.log(`chaos database outage: ${stored + hose.stored} readings stored, each PUBACKed one exactly once`)
  })

  it('holds the ingest queue within INGEST_QUEUE_MAX_ROWS (and the queue did fill up)', () => {
    expect(o.queuePeak).toBeGreaterThanOrEqual(QUEUE_MAX_ROWS * 0.9)
    expect(o.queuePeak).toBeLessThanOrEqual(QUEUE_MAX_ROWS)
  })

  it('keeps its memory within what INGEST_QUEUE_MAX_ROWS allows, against a firehose of 256 KiB messages', () => {
    // Whether the firehose alone could have pushed memory past the bound depends on how fast this
    // machine commits (the broker now paces it by its commits even while the database is there),
    // so that figure is printed, not asserted; test/integration/broker-backpressure.test.ts shows
    // that the broker holds a connection back however much it offers.
    expect(o.rssPeak).toBeLessThanOrEqual(o.rssBefore + ALLOWANCE)
  })

  it('stops on Ctrl-C with exit code 0 after the outage', { timeout: 30_000 }, async () => {
    expect(await o.up.interrupt()).toBe(0)
  })
})
