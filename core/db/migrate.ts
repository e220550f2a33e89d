// Applies the versioned migrations, then the TimescaleDB layer where the server has it.
// Safe to run twice and from several processes at once: everything happens under one
// transaction-scoped advisory lock, and each step is idempotent.
import type { Logger } from '../log.ts'
import type { Db, Queryable } from './client.ts'
import { MIGRATIONS, type Migration } from './migrations.ts'

/** Arbitrary, fixed: identifies housing-brain's migration lock among other advisory locks. */
const MIGRATION_LOCK_KEY = 4_815_162_342

export interface DbFeatures {
  /** TimescaleDB version when the extension is active; undefined on plain PostgreSQL / PGlite. */
  timescale: string | undefined
}

export interface MigrateOptions {
  log: Logger
  /** TimescaleDB's policies on readings (the `retention` section); default 400 days and 7 days. */
  readings?: { retentionMs: number; compressAfterMs: number }
  migrations?: readonly Migration[]
}

const DAY_MS = 86_400_000
const DEFAULT_READINGS = { retentionMs: 400 * DAY_MS, compressAfterMs: 7 * DAY_MS }

export async function migrate(db: Db, opts: MigrateOptions): Promise<DbFeatures> {
  const migrations = opts.migrations ?? MIGRATIONS
  const applied = await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const done = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version),
    )
    const pending = migrations.filter((m) => !done.has(m.version))
    for (const m of pending) {
      await tx.exec(m.sql)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
    }
    return pending
  })
  for (const m of applied) opts.log.info({ version: m.version }, `applied migration: ${m.name}`)

  const timescale = await enableTimescale(db, opts)
  if (timescale === undefined) {
    opts.log.info(
      'TimescaleDB is not available: readings stay in a plain table (no hypertable, compression, retention policy ' +
        'or continuous aggregates); queries bucket with date_bin instead',
    )
  }
  return { timescale }
}

async function enableTimescale(db: Db, opts: MigrateOptions): Promise<string | undefined> {
  const available = await db.query('SELECT 1 FROM pg_available_extensions WHERE name = $1', ['timescaledb'])
  if (available.length === 0) return undefined
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
  } catch (err) {
    // Installed but not in shared_preload_libraries, or no privilege: run without it.
    opts.log.warn({ err }, 'TimescaleDB is installed but could not be enabled')
    return undefined
  }
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
    await applyTimescaleLayer(tx, opts)
  })
  const [row] = await db.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'")
  return row?.v
}

/**
 * Hypertable, compression, retention and the 1-minute / 1-hour continuous aggregates.
 * Policies are removed and re-added so that a changed READINGS_RETENTION or READINGS_COMPRESS_AFTER takes effect.
 * See https://docs.timescale.com/use-timescale/latest/ (hypertables, compression, data retention,
 * continuous aggregates, hierarchical continuous aggregates).
 */
async function applyTimescaleLayer(tx: Queryable, opts: MigrateOptions): Promise<void> {
  await tx.query(
    "SELECT create_hypertable('readings', by_range('ts', INTERVAL '1 day'), if_not_exists => true, migrate_data => true)",
  )
  const [ht] = await tx.query<{ compression_enabled: boolean }>(
    "SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_name = 'readings'",
  )
  if (ht?.compression_enabled !== true) {
    // Segment by series so a compressed chunk answers one device+metric scan from one segment.
    await tx.exec(`ALTER TABLE readings SET (timescaledb.compress,
      timescaledb.compress_segmentby = 'device_id, metric', timescaledb.compress_orderby = 'ts DESC')`)
  }
  await tx.query("SELECT remove_compression_policy('readings', if_exists => true)")
  // Milliseconds as an interval in days and hours ('30 days', not '720:00:00').
  const interval = 'justify_hours(make_interval(secs => $1::double precision / 1000))'
  const readings = opts.readings ?? DEFAULT_READINGS
  await tx.query(`SELECT add_compression_policy('readings', ${interval})`, [readings.compressAfterMs])
  await tx.query("SELECT remove_retention_policy('readings', if_exists => true)")
  await tx.query(`SELECT add_retention_policy('readings', ${interval})`, [readings.retentionMs])

  // Real-time aggregation (materialized_only = false) so the newest, not yet materialised buckets
  // still appear. sum and n are kept so that coarser buckets can be averaged exactly.
  await tx.exec(`
CREATE MATERIALIZED VIEW IF NOT EXISTS readings_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT device_id, metric, time_bucket(INTERVAL '1 minute', ts) AS bucket,
       count(*) AS n, sum(value) AS sum, min(value) AS min, max(value) AS max, last(value, ts) AS last
FROM readings GROUP BY device_id, metric, bucket
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS readings_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT device_id, metric, time_bucket(INTERVAL '1 hour', bucket) AS bucket,
       sum(n)::bigint AS n, sum(sum) AS sum, min(min) AS min, max(max) AS max, last(last, bucket) AS last
FROM readings_1m GROUP BY device_id, metric, time_bucket(INTERVAL '1 hour', bucket)
WITH NO DATA;`)
  await tx.query(`SELECT add_continuous_aggregate_policy('readings_1m', start_offset => INTERVAL '3 hours',
    end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute', if_not_exists => true)`)
  await tx.query(`SELECT add_continuous_aggregate_policy('readings_1h', start_offset => INTERVAL '3 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes', if_not_exists => true)`)
}
