// The bench's own databases, one per engine the bench compares, each dropped at the end so a
// benchmark never writes into real data:
// - postgres: a scratch database created on DATABASE_URL's server;
// - embedded: the all-in-one default, an embedded PostgreSQL server in a temporary directory;
// - pglite: PGlite on disk in this process (EMBEDDED_DB=pglite, the default before issue 11);
// - pglite-worker: PGlite on disk in a worker thread (option (a) of issue 11, bench/pglite-worker.ts).
// Also the one engine-specific operation the bench needs: COPY FROM STDIN.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { openDb, type Db } from '../core/db/client.ts'
import { EmbeddedPostgres } from '../core/db/embedded-postgres.ts'
import { migrate, type DbFeatures } from '../core/db/migrate.ts'
import type { Logger } from '../core/log.ts'
import { PgliteWorkerDb } from './pglite-worker.ts'

export const DATABASE_KINDS = ['embedded', 'pglite-worker', 'pglite', 'postgres'] as const
export type DatabaseKind = (typeof DATABASE_KINDS)[number]

export interface BenchDatabase {
  kind: DatabaseKind
  db: Db
  features: DbFeatures
  /** e.g. "PostgreSQL 15.20" or "PGlite 0.3.14 (PostgreSQL 17.5, WASM, in memory)". */
  engine: string
  /** Server settings that change write throughput, for the report. */
  settings: Record<string, string>
  /** Where it lives, for the report (never includes a password). */
  where: string
  /** The server runs on this machine (its processes' CPU can be read from /proc). */
  local: boolean
  /** The scratch database's URL, for benches that open more connection pools (undefined on PGlite). */
  url?: string | undefined
  /** Streams `chunks` into `COPY <table> (<columns>) FROM STDIN` (text format); returns rows written. */
  copyIn(table: string, columns: string, chunks: readonly Buffer[]): Promise<number>
  /** Closes every connection and drops the scratch database. Safe to call twice. */
  close(): Promise<void>
}

/** Settings reported with the figures: they move commit cost more than anything in the bench. */
const SETTINGS = ['synchronous_commit', 'fsync', 'wal_level', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout']

async function readSettings(db: Db): Promise<Record<string, string>> {
  const rows = await db.query<{ name: string; setting: string }>(
    'SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name',
    [SETTINGS],
  )
  return Object.fromEntries(rows.map((r) => [r.name, r.setting]))
}

const migrateOptions = (log: Logger) => ({ log })

export async function openBenchDatabase(kind: DatabaseKind, url: string | undefined, log: Logger): Promise<BenchDatabase> {
  switch (kind) {
    case 'postgres':
      if (!url) throw new Error('bench: the postgres database needs DATABASE_URL')
      return openScratchDatabase(url, log)
    case 'embedded':
      return openEmbedded(log)
    case 'pglite':
    case 'pglite-worker':
      return openPglite(kind, log)
  }
}

/** The embedded PostgreSQL of `up`, in a directory of its own, with the scratch database on it. */
async function openEmbedded(log: Logger): Promise<BenchDatabase> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hb-bench-embedded-'))
  let server: EmbeddedPostgres | undefined
  const remove = async () => {
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    server = await EmbeddedPostgres.start({ dir: path.join(dir, 'postgres'), log })
    const scratch = await openScratchDatabase(server.url, log)
    return {
      ...scratch,
      kind: 'embedded',
      engine: `embedded ${scratch.engine} (child process)`,
      where: `embedded server in a temporary directory (removed at the end), ${scratch.where}`,
      close: async () => {
        await scratch.close()
        await remove()
      },
    }
  } catch (err) {
    await remove()
    throw err
  }
}

/** Runs one statement on the server's maintenance connection (CREATE / DROP DATABASE cannot run in a transaction). */
async function admin(url: string, sql: string, log: Logger): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'housing-brain bench', connectionTimeoutMillis: 10_000 })
  // A lost connection fails the running statement; its 'error' event, unheard, would end the process.
  client.on('error', (err) => log.warn({ err }, 'bench maintenance connection lost'))
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

async function openScratchDatabase(url: string, log: Logger): Promise<BenchDatabase> {
  // Lower case hex: a valid identifier without quoting, and unlikely to collide with a parallel run.
  const name = `hb_bench_${randomBytes(4).toString('hex')}`
  const scratch = new URL(url)
  scratch.pathname = `/${name}`
  const scratchUrl = scratch.toString()
  try {
    await admin(url, `CREATE DATABASE ${name}`, log)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new Error(`bench: cannot create a scratch database on ${scratch.host} (${reason}); the DATABASE_URL user needs CREATEDB`, { cause: err })
  }
  let db: Db | undefined
  let dropped = false
  const drop = async () => {
    if (dropped) return
    dropped = true
    await db?.close()
    // FORCE (PostgreSQL 13+) ends any connection left behind, e.g. by a killed COPY.
    await admin(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, log)
  }
  try {
    db = await openDb({ url: scratchUrl, applicationName: 'housing-brain bench', poolSize: 10 })
    const features = await migrate(db, migrateOptions(log))
    const [row] = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v")
    const host = `${scratch.hostname}:${scratch.port || '5432'}`
    return {
      kind: 'postgres',
      db,
      features,
      engine: `PostgreSQL ${row?.v ?? '?'}${features.timescale ? ` + TimescaleDB ${features.timescale}` : ''}`,
      settings: await readSettings(db),
      where: `scratch database ${name} on ${host} (dropped at the end)`,
      local: ['127.0.0.1', 'localhost', '[::1]', ''].includes(scratch.hostname),
      url: scratchUrl,
      copyIn: async (table, columns, chunks) => {
        const client = new pg.Client({ connectionString: scratchUrl, application_name: 'housing-brain bench copy' })
        client.on('error', (err) => log.warn({ err }, 'bench COPY connection lost'))
        await client.connect()
        try {
          const stream = client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`))
          await pipeline(Readable.from(chunks), stream)
          return stream.rowCount
        } finally {
          await client.end()
        }
      },
      close: drop,
    }
  } catch (err) {
    await drop().catch(() => undefined)
    throw err
  }
}

async function openPglite(kind: 'pglite' | 'pglite-worker', log: Logger): Promise<BenchDatabase> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hb-bench-pglite-'))
  let lite: PGlite | undefined
  let worker: PgliteWorkerDb | undefined
  const close = async () => {
    if (lite && !lite.closed) await lite.close()
    await worker?.close()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    let db: Db
    if (kind === 'pglite') {
      const { PGlite } = await import('@electric-sql/pglite')
      lite = await PGlite.create(dir)
      db = await openDb({ pglite: lite })
    } else {
      db = worker = await PgliteWorkerDb.open(dir)
    }
    const features = await migrate(db, migrateOptions(log))
    const [row] = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v")
    return {
      kind,
      db,
      features,
      engine: `PGlite (PostgreSQL ${row?.v ?? '?'} in WASM, on disk, ${kind === 'pglite' ? "on the broker's own thread" : 'in a worker thread'})`,
      settings: await readSettings(db),
      where: `PGlite in a temporary directory (removed at the end)`,
      // PGlite runs inside this process: its CPU is counted as the broker's.
      local: false,
      copyIn: async (table, columns, chunks) => {
        const sql = `COPY ${table} (${columns}) FROM '/dev/blob'`
        if (worker) return worker.copyIn(sql, Buffer.concat(chunks).toString())
        // PGlite has no COPY protocol stream; it reads COPY input from a Blob at /dev/blob.
        const res = await (lite as PGlite).query(sql, [], { blob: new Blob([...chunks]) })
        return res.affectedRows ?? 0
      },
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}
