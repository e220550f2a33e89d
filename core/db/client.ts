// One database interface over two engines: a PostgreSQL/TimescaleDB server through `pg` (also the
// all-in-one mode's embedded server, core/db/embedded-postgres.ts), and PGlite (Postgres compiled
// to WASM) for in-process tests and as the embedded fallback where no server binaries exist.
//
// A server can go away at any moment (restart, failover, a cut network path). `pg` reports a lost
// connection as an 'error' event on the Client, and an 'error' event nobody listens to is an
// uncaught exception that ends the process (issue 7, item 0). So every Client this module creates
// has a listener for the whole of its life: in the pool while idle (`pool.on('error')`), while
// checked out for a transaction, and on LISTEN connections. A lost connection fails the statement
// that was running; callers treat that as transient (see core/db/errors.ts) and retry.
import { mkdir } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { PGliteInterface } from '@electric-sql/pglite'
import { silentLogger, type Logger } from '../log.ts'
import { DbConnectError } from './errors.ts'
import { EmbeddedPostgres } from './embedded-postgres.ts'

export interface Queryable {
  /** Runs one parameterised statement and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

/** A transaction's handle: statements, and COPY FROM STDIN for bulk loads. */
export interface Transaction extends Queryable {
  /**
   * Streams `data` (COPY text format) into `COPY <target> FROM STDIN`; `target` is a table and
   * column list written by the caller, never input.
   */
  copyFrom(target: string, data: string): Promise<void>
}

export interface Db extends Queryable {
  readonly engine: 'postgres' | 'pglite'
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>
  /**
   * Calls `handler` with the payload of every NOTIFY on `channel` (also from other processes on a
   * server); resolves with a function that stops listening.
   */
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>
  /**
   * Takes the session-level advisory lock `key` on a connection of its own, or resolves undefined
   * when another session holds it. The lock lives as long as that connection: a process that dies
   * loses it when PostgreSQL sees the connection close (core/leader.ts).
   */
  tryAdvisoryLock(key: number): Promise<AdvisoryLock | undefined>
  close(): Promise<void>
}

export interface AdvisoryLock {
  /** Settles when the lock's connection is gone (and with it the lock). */
  readonly lost: Promise<void>
  /** Asks the connection; false (and `lost` settles) when it does not answer within `timeoutMs`. */
  check(timeoutMs: number): Promise<boolean>
  release(): Promise<void>
}

/** One process owns a PGlite database: it always leads, and never loses the lock. */
export function soleOwnerLock(): AdvisoryLock {
  return { lost: new Promise<void>(() => undefined), check: () => Promise.resolve(true), release: () => Promise.resolve() }
}

/** Channel names are identifiers in LISTEN; only these characters are accepted. */
function checkChannel(channel: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`invalid channel name "${channel}"`)
  return channel
}

// int8 (count(*), bigserial ids) and numeric as JS numbers, as PGlite returns them: our counts,
// ids and aggregates stay far below 2^53.
const pgTypes = new pg.TypeOverrides()
pgTypes.setTypeParser(pg.types.builtins.INT8, Number)
pgTypes.setTypeParser(pg.types.builtins.NUMERIC, Number)

/** What a DBA sees in pg_stat_activity.application_name for the connection that holds a leader's lock. */
export const LOCK_SESSION_NAME = 'housing-brain leader'

/**
 * The advisory lock's own connection. A leader whose machine vanishes (power, network, a VM host)
 * never closes its socket, and PostgreSQL keeps the session — and the lock — until it notices:
 * with the kernel's keepalive defaults, two hours. The session therefore asks PostgreSQL to probe
 * a silent client after 10 s, every 5 s, 3 times, and to give up on unacknowledged data after
 * 30 s (tcp_user_timeout), so another process takes over within about half a minute. Our side
 * keeps TCP keepalive too, and the leader's own check (core/leader.ts) stops a leader cut off.
 * Over a Unix socket (the embedded server) these settings read 0 and do not apply: the kernel
 * closes a dead local peer's socket at once.
 */
export function lockSessionConfig(base: pg.ClientConfig): pg.ClientConfig {
  const probes = '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 -c tcp_user_timeout=30000'
  return { ...base, keepAlive: true, keepAliveInitialDelayMillis: 5000, application_name: LOCK_SESSION_NAME, options: [base.options, probes].filter(Boolean).join(' ') }
}

/** How long close() waits for the pool's connections to end before the embedded server stops anyway. */
const CLOSE_WAIT_MS = 5000

class PostgresDb implements Db {
  readonly engine = 'postgres'
  /** The pool's connections until each has ended (pg-pool's 'remove' comes once its socket closed). */
  private readonly connections = new Set<pg.PoolClient>()

  constructor(
    readonly pool: pg.Pool,
    private readonly log: Logger,
    /** Runs after the pool has closed: the embedded server stops there. */
    private readonly afterClose: () => Promise<void> = () => Promise.resolve(),
  ) {
    pool.on('connect', (c) => this.connections.add(c))
    pool.on('remove', (c) => this.connections.delete(c))
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const res = await this.pool.query(sql, params as unknown[])
    return res.rows as T[]
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql)
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((err: unknown) => {
      throw new DbConnectError(err)
    })
    // Checked out, the client has no pool listener: a connection lost now would be uncaught.
    let lost: Error | undefined
    const onError = (err: Error) => {
      lost ??= err
    }
    client.on('error', onError)
    try {
      await client.query('BEGIN')
      const result = await fn({
        query: async <R>(sql: string, params: readonly unknown[] = []) =>
          (await client.query(sql, params as unknown[])).rows as R[],
        exec: async (sql: string) => {
          await client.query(sql)
        },
        copyFrom: async (target: string, data: string) => {
          await pipeline(Readable.from([data]), client.query(copyFrom(`COPY ${target} FROM STDIN`)))
        },
      })
      await client.query('COMMIT')
      return result
    } catch (err) {
      // A failed ROLLBACK leaves the session in an unknown state: it is discarded, not pooled.
      if (!lost) await client.query('ROLLBACK').catch((rollbackErr: unknown) => (lost = rollbackErr as Error))
      if (lost) this.log.warn({ err: lost }, 'database connection lost during a transaction')
      throw err
    } finally {
      client.off('error', onError)
      // Released with an error, the client is closed instead of returning to the pool.
      client.release(lost)
    }
  }

  /**
   * A dedicated connection per channel (a pooled one would be handed to other queries). When it
   * drops, it reconnects with backoff; notifications sent meanwhile are missed, so listeners treat
   * them as hints (e.g. "look at this device again"), never as the only copy of a change.
   */
  async listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    const name = checkChannel(channel)
    let client: pg.Client | undefined
    let stopped = false
    let delay = 200
    let timer: NodeJS.Timeout | undefined
    // Retries until connected again, however long the database stays away.
    const reconnect = () => {
      if (stopped || timer) return
      timer = setTimeout(() => {
        timer = undefined
        connect().catch((err: unknown) => {
          this.log.debug({ err, channel: name }, 'LISTEN connection not back yet; retrying')
          reconnect()
        })
      }, delay)
      timer.unref()
      delay = Math.min(delay * 2, 10_000)
    }
    const connect = async (): Promise<void> => {
      const c = new pg.Client(this.pool.options)
      let failed = false
      c.on('notification', (n) => {
        if (n.channel === name) handler(n.payload ?? '')
      })
      // Attached before connecting and never removed: a Client may emit 'error' more than once.
      c.on('error', (err) => {
        if (failed || stopped) return
        failed = true
        if (client === c) client = undefined
        this.log.warn({ err, channel: name }, 'LISTEN connection lost; reconnecting (notifications meanwhile are missed)')
        void c.end().catch(() => undefined)
        reconnect()
      })
      try {
        await c.connect()
        await c.query(`LISTEN ${name}`)
      } catch (err) {
        failed = true
        void c.end().catch(() => undefined)
        throw err
      }
      if (stopped) {
        await c.end().catch(() => undefined)
        return
      }
      if (delay > 200) this.log.info({ channel: name }, 'LISTEN connection restored')
      delay = 200
      client = c
    }
    await connect()
    return async () => {
      stopped = true
      clearTimeout(timer)
      await client?.end().catch(() => undefined)
    }
  }

  /** Per lock key, the connection a standby keeps asking on (rather than one connection per try). */
  private readonly lockSessions = new Map<number, { c: pg.Client; lost: Promise<void>; markLost: () => void }>()

  async tryAdvisoryLock(key: number): Promise<AdvisoryLock | undefined> {
    let session = this.lockSessions.get(key)
    if (!session) {
      const c = new pg.Client(lockSessionConfig(this.pool.options))
      let markLost: () => void = () => undefined
      const lost = new Promise<void>((resolve) => (markLost = resolve))
      const gone = () => {
        markLost()
        if (this.lockSessions.get(key)?.c === c) this.lockSessions.delete(key)
      }
      c.on('error', (err) => {
        this.log.warn({ err, key }, 'advisory lock connection lost')
        gone()
      })
      c.on('end', gone)
      try {
        await c.connect()
      } catch (err) {
        void c.end().catch(() => undefined)
        throw err
      }
      session = { c, lost, markLost }
      this.lockSessions.set(key, session)
    }
    const { c, lost, markLost } = session
    let ok: boolean
    try {
      ok = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key])).rows[0]?.ok === true
    } catch (err) {
      // A broken standby connection: the next try opens a new one.
      this.lockSessions.delete(key)
      void c.end().catch(() => undefined)
      throw err
    }
    if (!ok) return undefined
    // The holder's connection from now on: no longer the standby's.
    this.lockSessions.delete(key)
    return {
      lost,
      check: async (timeoutMs) => {
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))
        const ok = await Promise.race([c.query('SELECT 1').then(() => true, () => false), late])
        clearTimeout(timer)
        if (!ok) {
          markLost()
          void c.end().catch(() => undefined)
        }
        return ok
      },
      // Ending the session releases every advisory lock it holds.
      release: () => c.end().catch(() => undefined),
    }
  }

  private closed: Promise<void> | undefined

  close(): Promise<void> {
    this.closed ??= (async () => {
      for (const { c } of this.lockSessions.values()) await c.end().catch(() => undefined)
      this.lockSessions.clear()
      await this.pool.end()
      // pool.end() resolves once it has asked each client to end, not once they have: a server
      // stopped now terminates backends that have not read their Terminate yet, and each client
      // reports it as a lost connection with a stack trace (issue 16). So wait for them, bounded.
      await this.ended(CLOSE_WAIT_MS)
    })().finally(this.afterClose)
    return this.closed
  }

  private ended(ms: number): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.pool.off('remove', check)
        resolve()
      }
      const check = () => {
        if (this.connections.size === 0) done()
      }
      const timer = setTimeout(done, ms)
      this.pool.on('remove', check)
    })
  }
}

class PgliteDb implements Db {
  readonly engine = 'pglite'
  constructor(
    readonly lite: PGliteInterface,
    private readonly owned: boolean,
  ) {}

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.lite.query<T>(sql, params as unknown[])).rows
  }

  async exec(sql: string): Promise<void> {
    await this.lite.exec(sql)
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.lite.transaction(async (tx) =>
      fn({
        query: async <R>(sql: string, params: readonly unknown[] = []) => (await tx.query<R>(sql, params as unknown[])).rows,
        exec: async (sql: string) => {
          await tx.exec(sql)
        },
        // PGlite has no COPY protocol stream: it reads COPY input from a Blob at /dev/blob.
        copyFrom: async (target: string, data: string) => {
          await tx.query(`COPY ${target} FROM '/dev/blob'`, [], { blob: new Blob([data]) })
        },
      }),
    )
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    const unlisten = await this.lite.listen(checkChannel(channel), handler)
    return async () => {
      if (!this.lite.closed) await unlisten()
    }
  }

  tryAdvisoryLock(): Promise<AdvisoryLock | undefined> {
    return Promise.resolve(soleOwnerLock())
  }

  async close(): Promise<void> {
    if (this.owned && !this.lite.closed) await this.lite.close()
  }
}

export interface OpenDbOptions {
  /** A postgres:// URL; when absent an embedded database is used. */
  url?: string | undefined
  /** Where the embedded database keeps its files; an in-memory PGlite when absent. */
  dataDir?: string | undefined
  /** The engine of an embedded database on disk: a PostgreSQL server child process (default), or PGlite. */
  embedded?: 'postgres' | 'pglite'
  /** An already-open PGlite (for example the TimescaleDB build in tests); not closed by `close()`. */
  pglite?: PGliteInterface
  poolSize?: number
  /** Shown in pg_stat_activity, to tell the services apart. */
  applicationName?: string
  /** Where lost connections are reported; silent when absent. */
  log?: Logger
  /** An embedded server another live process runs on `dataDir` is used, not refused (EmbeddedPostgresOptions.join). */
  joinRunning?: boolean
}

export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.pglite) return new PgliteDb(opts.pglite, false)
  if (opts.url) return openPool(opts.url, opts)
  if (opts.dataDir && (opts.embedded ?? 'postgres') === 'postgres') {
    const log = opts.log ?? silentLogger
    const server = await EmbeddedPostgres.start({ dir: opts.dataDir, log, join: opts.joinRunning ?? false })
    try {
      return await openPool(server.url, opts, () => server.stop())
    } catch (err) {
      await server.stop()
      throw err
    }
  }
  // Loaded only when used, so the server paths never pay for the WASM module.
  const { PGlite } = await import('@electric-sql/pglite')
  if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true })
  const lite = await PGlite.create(opts.dataDir)
  return new PgliteDb(lite, true)
}

async function openPool(url: string, opts: OpenDbOptions, afterClose?: () => Promise<void>): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    types: pgTypes,
    application_name: opts.applicationName ?? 'housing-brain',
    connectionTimeoutMillis: 10_000,
    // A path that silently drops packets (no reset) is noticed by keepalive, not after hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  })
  const log = opts.log ?? silentLogger
  // An idle client losing its server is reported here; the next query opens a new connection.
  pool.on('error', (err) => log.warn({ err }, 'idle database connection lost'))
  const db = new PostgresDb(pool, log, afterClose)
  await db.query('SELECT 1')
  return db
}
