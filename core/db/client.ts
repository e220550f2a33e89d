// One database interface over two engines: a PostgreSQL/TimescaleDB server through `pg`, and the
// embedded PGlite (Postgres compiled to WASM) for the all-in-one mode and in-process tests.
import { mkdir } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { PGliteInterface } from '@electric-sql/pglite'

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
  close(): Promise<void>
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

class PostgresDb implements Db {
  readonly engine = 'postgres'
  constructor(readonly pool: pg.Pool) {}

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const res = await this.pool.query(sql, params as unknown[])
    return res.rows as T[]
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql)
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
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
      await client.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      client.release()
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
    const connect = async (): Promise<void> => {
      const c = new pg.Client(this.pool.options)
      c.on('notification', (n) => {
        if (n.channel === name) handler(n.payload ?? '')
      })
      c.on('error', () => {
        if (stopped) return
        void c.end().catch(() => undefined)
        setTimeout(() => void connect().catch(() => undefined), delay).unref()
        delay = Math.min(delay * 2, 10_000)
      })
      await c.connect()
      await c.query(`LISTEN ${name}`)
      delay = 200
      client = c
    }
    await connect()
    return async () => {
      stopped = true
      await client?.end().catch(() => undefined)
    }
  }

  async close(): Promise<void> {
    await this.pool.end()
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

  async close(): Promise<void> {
    if (this.owned && !this.lite.closed) await this.lite.close()
  }
}

export interface OpenDbOptions {
  /** A postgres:// URL; when absent the embedded PGlite is used. */
  url?: string | undefined
  /** Where the embedded database keeps its files; in memory when absent. */
  dataDir?: string | undefined
  /** An already-open PGlite (for example the TimescaleDB build in tests); not closed by `close()`. */
  pglite?: PGliteInterface
  poolSize?: number
  /** Shown in pg_stat_activity, to tell the services apart. */
  applicationName?: string
}

export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.pglite) return new PgliteDb(opts.pglite, false)
  if (opts.url) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      types: pgTypes,
      application_name: opts.applicationName ?? 'housing-brain',
      connectionTimeoutMillis: 10_000,
    })
    // An idle client losing its server is reported here; the next query reconnects.
    pool.on('error', () => undefined)
    const db = new PostgresDb(pool)
    await db.query('SELECT 1')
    return db
  }
  // Loaded only in embedded mode, so the server path never pays for the WASM module.
  const { PGlite } = await import('@electric-sql/pglite')
  if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true })
  const lite = await PGlite.create(opts.dataDir)
  return new PgliteDb(lite, true)
}
