// An API instance over a given database, with an admin token, for inject() tests.
import { AlertService, DEFAULT_DEADLINES } from '../../api/alerts/service.ts'
import { buildApp, type App, type AppDeps, type AppOptions } from '../../api/app.ts'
import type { Db } from '../../core/db/client.ts'
import type { DbFeatures } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { insertUser, issueToken, type Role } from '../../core/repos/tokens.ts'

export async function apiFor(db: Db, features: DbFeatures, opts: AppOptions = {}, probes?: AppDeps['probes']): Promise<{ app: App; alerts: AlertService; token: string; tokenFor: (role: Role) => Promise<string> }> {
  const alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger)
  const app = await buildApp({ db, features, metrics: createMetrics({ defaults: false }), alerts, ...(probes ? { probes } : {}) }, silentLogger, opts)
  await app.ready()
  const tokenFor = async (role: Role) => {
    const userId = await insertUser(db, { name: `${role}-${Math.random().toString(36).slice(2)}`, role })
    return (await issueToken(db, userId)).token
  }
  return { app, alerts, token: await tokenFor('admin'), tokenFor }
}
