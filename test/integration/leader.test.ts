// The advisory-lock leader (core/leader.ts) on the real PostgreSQL server: one of two contenders
// runs the jobs; a leader whose database path is cut stops them and the other takes over; a
// leader that stops hands over too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { LOCK_SESSION_NAME, lockSessionConfig, openDb, type Db } from '../../core/db/client.ts'
import { Leader } from '../../core/leader.ts'
import { silentLogger } from '../../core/log.ts'
import type { Unit } from '../../core/units.ts'
import { createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { tcpProxy } from '../helpers/tcp-proxy.ts'

const pgUp = await hasPostgres()
const KEY = 0x7465737431

/** A job that says whether it runs. */
function job(name: string): Unit & { running: boolean; starts: number } {
  return {
    name,
    running: false,
    starts: 0,
    start() {
      this.running = true
      this.starts++
      return Promise.resolve()
    },
    stop() {
      this.running = false
      return Promise.resolve()
    },
  }
}

describe.skipIf(!pgUp)('advisory-lock leader', () => {
  const proxy = tcpProxy()
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let viaProxy: Db
  let direct: Db

  beforeAll(async () => {
    tdb = await createTestDatabase()
    const port = await proxy.start()
    viaProxy = await openDb({ url: `postgres://postgres@127.0.0.1:${port}/${tdb.name}` })
    direct = await openDb({ url: tdb.url })
  })

  afterAll(async () => {
    proxy.restore()
    await viaProxy.close()
    await direct.close()
    await proxy.stop()
    await tdb.drop()
  })

  it('runs the jobs in one process; a leader cut off from the database stops them and the other takes over', async () => {
    const jobA = job('a')
    const jobB = job('b')
    const a = new Leader(viaProxy, KEY, [jobA], 200, silentLogger)
    const b = new Leader(direct, KEY, [jobB], 200, silentLogger)
    try {
      await a.start()
      await eventually(() => (a.leading ? true : undefined), 10_000, 'A to lead')
      await b.start()
      // B keeps trying while A leads, and never gets the lock.
      await eventually(async () => ((await direct.query(`SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.granted`)).length === 1 ? true : undefined), 10_000, 'one advisory lock held')
      expect(jobA.running).toBe(true)
      expect(b.leading).toBe(false)
      expect(jobB.starts).toBe(0)

      proxy.cut()
      await eventually(() => (b.leading && jobB.running ? true : undefined), 20_000, 'B to take over')
      await eventually(() => (!a.leading && !jobA.running ? true : undefined), 20_000, 'A to stop its jobs')

      // Back on the network, A stays a standby while B leads.
      proxy.restore()
      await new Promise((r) => setTimeout(r, 600))
      expect(a.leading).toBe(false)
      expect(jobB.running).toBe(true)

      // B stopping hands the jobs to A.
      await b.stop()
      expect(jobB.running).toBe(false)
      await eventually(() => (a.leading && jobA.running ? true : undefined), 20_000, 'A to lead again')
    } finally {
      await a.stop()
      await b.stop()
    }
  }, 60_000)

  it("names the lock's session for the DBA, and has PostgreSQL give up on a vanished leader within half a minute, not the kernel's two hours", async () => {
    const lock = await direct.tryAdvisoryLock(KEY + 1)
    expect(lock).toBeDefined()
    try {
      const [holder] = await direct.query<{ application_name: string }>(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()",
      )
      expect(holder?.application_name).toBe(LOCK_SESSION_NAME)
      // The settings that session runs with, read back from the server over TCP.
      const c = new pg.Client(lockSessionConfig({ connectionString: tdb.url }))
      await c.connect()
      try {
        // pg_settings gives each in its base unit: seconds for the keepalives, ms for the user timeout.
        const { rows } = await c.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name LIKE 'tcp\\_%' ORDER BY name")
        expect(Object.fromEntries(rows.map((r) => [r.name, r.setting]))).toEqual({ tcp_keepalives_count: '3', tcp_keepalives_idle: '10', tcp_keepalives_interval: '5', tcp_user_timeout: '30000' })
      } finally {
        await c.end()
      }
    } finally {
      await lock?.release()
    }
  })
})
