// The benchmarks still run end to end, at a size a test can afford: a benchmark nobody runs for a
// while breaks unseen (`bench alerts` did at full size — its measured devices were refused "server
// unavailable" behind 400 simulated logins — and `bench feed --json` mixed its log into the JSON).
// Nothing here is timed: the figures are the benchmark's to print, not a test's to judge. What is
// checked is that each run completes, that --json prints the result alone on stdout (a log line
// there fails the parse), and what it counted.
import { describe, expect, it } from 'vitest'
import { spawnCli } from '../helpers/service-process.ts'
import { hasPostgres, PG_ADMIN_URL } from '../helpers/services.ts'

const pgUp = await hasPostgres()

async function benchJson(args: string[]): Promise<Record<string, unknown>> {
  const { child, exited, output } = spawnCli(['bench', ...args, '--json'], { DATABASE_URL: PG_ADMIN_URL, LOG_LEVEL: 'info' })
  let stdout = ''
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
  const { code } = await exited
  expect(code, output().slice(-4000)).toBe(0)
  return JSON.parse(stdout) as Record<string, unknown>
}

describe.skipIf(!pgUp)('benchmarks, small', () => {
  it('bench alerts: every injected fault reaches the live stream as an alert, under background telemetry', { timeout: 120_000 }, async () => {
    const result = await benchJson(['alerts', '--devices', '10', '--rate', '100', '--faults', '3', '--warmup', '1', '--down', '2'])
    expect(result).toMatchObject({ faults: 3, missed: 0 })
    expect(result.backgroundReadingsPerSecond).toBeGreaterThan(0)
    // The engine evaluated the load from the feed, and read again what committed while it was down.
    expect((result.commitToEvaluationMs as { rows: number }).rows).toBeGreaterThan(0)
    const catchUp = result.catchUp as { backlogReadings: number; readingsPerSecond: number }
    expect(catchUp.backlogReadings).toBeGreaterThan(0)
    expect(catchUp.readingsPerSecond).toBeGreaterThan(0)
  })

  it('bench feed: every report is seen by both API processes', { timeout: 120_000 }, async () => {
    const result = await benchJson(['feed', '--reports', '40', '--concurrency', '4'])
    expect(result).toMatchObject({ reports: 40, seenByBoth: 40 })
  })

  it('bench notify: every page of every raised alert is delivered, live and from a backlog', { timeout: 120_000 }, async () => {
    const result = await benchJson(['notify', '--alerts', '20', '--concurrency', '2'])
    expect(result).toMatchObject({ alerts: 20, live: { delivered: { count: 20 } }, backlog: { drained: { count: 20 } } })
  })
})
