// An API instance over a given database, with an admin token, for inject() tests. It serves the
// notification routes too (their context, not the dispatcher: nothing is sent), so the route-wide
// tests (OpenAPI, roles, fuzz) reach every route a deployment has.
import { randomBytes } from 'node:crypto'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { buildApp, type App, type AppDeps, type AppOptions } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate, type DbFeatures } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { type Role } from '../../shared/domain.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { DEFAULT_NOTIFY_DISPATCH } from '../../notify/dispatcher.ts'
import { notifyContext } from '../../notify/notifications.ts'
import { webhookOutbox } from '../../notify/webhook-outbox.ts'
import { createTestDatabase } from './services.ts'
import { seed } from './stack.ts'

export async function apiFor(
  db: Db,
  features: DbFeatures,
  opts: AppOptions = {},
  probes?: AppDeps['probes'],
  /** The alert service's clock (default: the real one). */
  clock?: () => Date,
  /** Where the HTTP device API submits telemetry (default: nowhere, it answers 503). */
  intake?: AppDeps['intake'],
): Promise<{ app: App; alerts: AlertService; token: string; tokenFor: (role: Role) => Promise<string> }> {
  const alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger, clock)
  // As cli/stack.ts wires it: webhook deliveries are queued with each event.
  alerts.outboxes.push(webhookOutbox)
  const notify = notifyContext(alerts, randomBytes(32), { linkBaseUrl: 'https://hb.example', linkTtlMs: 3_600_000, timezone: DEFAULT_NOTIFY_DISPATCH.timezone }, clock)
  const app = await buildApp({ db, features, metrics: createMetrics({ defaults: false }), alerts, notify, ...(probes ? { probes } : {}), intake }, silentLogger, opts)
  await app.ready()
  const tokenFor = async (role: Role) => {
    const userId = await insertUser(db, { name: `${role}-${Math.random().toString(36).slice(2)}`, role })
    return (await issueToken(db, userId)).token
  }
  return { app, alerts, token: await tokenFor('admin'), tokenFor }
}

/** An API on a PostgreSQL database of its own, migrated and seeded; `close()` drops it. */
export async function apiOnPostgres(opts: AppOptions = {}): Promise<Awaited<ReturnType<typeof apiFor>> & { db: Db; close: () => Promise<void> }> {
  const tdb = await createTestDatabase()
  const db = await openDb({ url: tdb.url })
  const features = await migrate(db, { log: silentLogger })
  await seed(db)
  const api = await apiFor(db, features, opts)
  return {
    ...api,
    db,
    close: async () => {
      await api.app.close()
      await db.close()
      await tdb.drop()
    },
  }
}

/**
 * An embedded database, migrated, with one property company (`co-a`, "Alpha Property") looking
 * after one community (`cm-a`): the smallest district the alert and ranking tests build on.
 */
export async function embeddedDistrict(): Promise<{ db: Db; features: DbFeatures }> {
  const db = await openDb({})
  return { db, features: await district(db) }
}

/** The same district on a PostgreSQL database of its own; `drop()` removes the database. */
export async function postgresDistrict(): Promise<{ db: Db; features: DbFeatures; drop: () => Promise<void> }> {
  const tdb = await createTestDatabase()
  const db = await openDb({ url: tdb.url })
  return { db, features: await district(db), drop: tdb.drop }
}

async function district(db: Db): Promise<DbFeatures> {
  const features = await migrate(db, { log: silentLogger })
  await createCompany(db, { id: 'co-a', name: 'Alpha Property', contact: null })
  await createCommunity(db, 'cm-a', { name: 'cm-a', district: null, street: null, address: null, lat: null, lon: null })
  await assignCommunity(db, 'cm-a', 'co-a', 'fixture', null)
  return features
}

/** The district's people, as bearer headers: Wang of co-a's crew and three residents of cm-a. */
export async function districtPeople(db: Db): Promise<Record<'crew' | 'li' | 'zhou' | 'sun', Record<string, string>>> {
  const token = async (name: string, binding: { role: 'crew'; companyId: string } | { role: 'resident'; communityId: string }) =>
    ({ authorization: `Bearer ${(await issueToken(db, await insertUser(db, { name, ...binding }))).token}` })
  return {
    crew: await token('wang-crew', { role: 'crew', companyId: 'co-a' }),
    li: await token('li-resident', { role: 'resident', communityId: 'cm-a' }),
    zhou: await token('zhou-resident', { role: 'resident', communityId: 'cm-a' }),
    sun: await token('sun-resident', { role: 'resident', communityId: 'cm-a' }),
  }
}
