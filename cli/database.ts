// The database every command opens: the configured server (DATABASE_URL) or the embedded one,
// its schema brought up to date and the shipped rules and device profiles seeded.
import { access } from 'node:fs/promises'
import path from 'node:path'
import type { Config } from '../core/config.ts'
import { openDb, type Db } from '../core/db/client.ts'
import { migrate, type DbFeatures } from '../core/db/migrate.ts'
import type { Logger } from '../core/log.ts'
import { seedProfiles } from '../core/repos/profiles.ts'
import { ruleRow, seedRules } from '../core/repos/rules.ts'
import { SHIPPED_PROFILES } from '../core/profiles/catalogue.ts'
import { profileSchema } from '../core/profiles/schema.ts'
import type { Unit } from '../core/units.ts'
import { DEFAULT_RULES } from '../rules/catalogue.ts'

export interface Database {
  db: Db
  features: DbFeatures
}

/**
 * Where the embedded database lives. The two engines' files differ (a PostgreSQL 18 cluster, a
 * PGlite 17 one), so each has its own directory: switching EMBEDDED_DB never opens one with the
 * other. `pgdata` is PGlite's, where it lived when it was the default.
 */
export function embeddedDir(cfg: Pick<Config, 'server' | 'database'>): string {
  return path.join(cfg.server.dataDir, cfg.database.embedded === 'postgres' ? 'postgres' : 'pgdata')
}

const hasPgliteData = (dataDir: string) => access(path.join(dataDir, 'pgdata', 'PG_VERSION')).then(
  () => true,
  () => false,
)

/**
 * Opens the configured database (server or embedded) and brings its schema up to date. `join`: a
 * short command (`users`) uses the embedded server a running `up` holds instead of being refused.
 */
export async function openDatabase(cfg: Pick<Config, 'server' | 'database' | 'retention'>, log: Logger, applicationName: string, join = false): Promise<Database> {
  const { url, embedded } = cfg.database
  const { dataDir } = cfg.server
  if (!url && embedded === 'postgres' && (await hasPgliteData(dataDir))) {
    log.warn(`${path.join(dataDir, 'pgdata')} holds the PGlite database of an earlier version; the embedded PostgreSQL starts anew in ${embeddedDir(cfg)} (EMBEDDED_DB=pglite opens the old one)`)
  }
  const db = await openDb({ url, dataDir: url ? undefined : embeddedDir(cfg), embedded, applicationName, log: log.child({ module: 'db' }), joinRunning: join })
  try {
    const { readingsMs, compressAfterMs } = cfg.retention
    const features = await migrate(db, { log: log.child({ module: 'migrate' }), readings: { retentionMs: readingsMs, compressAfterMs } })
    // The default rule catalogue: rules that are missing are added; edited ones stay as edited.
    const added = await seedRules(db, DEFAULT_RULES.map(ruleRow))
    if (added > 0) log.info({ added }, 'added default rules')
    // The shipped device profiles, likewise: missing ones are added, edited ones stay as edited.
    const profiles = SHIPPED_PROFILES.map((p) => profileSchema.parse(p))
    const addedProfiles = await seedProfiles(db, profiles.map((p) => ({ id: p.id, kind: p.kind, definition: p })))
    if (addedProfiles > 0) log.info({ added: addedProfiles }, 'added shipped device profiles')
    return { db, features }
  } catch (err) {
    await db.close()
    throw err
  }
}

/** The database as a unit, so it closes after everything that uses it. */
export function databaseUnit(database: Database): Unit {
  return {
    name: 'database',
    start: () => Promise.resolve(),
    stop: () => database.db.close(),
  }
}
