// What the resource plugins work with, as one typed decoration (`app.deps`), as fastify/demo
// does with its infrastructure plugins: every plugin under routes/ takes no options and reads
// its database, services and settings from here, so adding a route never adds a new shape. (The
// receivers of intake/http/ sit below the API and are registered with their options instead.)
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from '../../core/db/client.ts'
import type { ReceiverDeps } from '../../intake/receiver.ts'
import type { DbFeatures } from '../../core/db/migrate.ts'
import type { Metrics } from '../../core/metrics.ts'
import type { NotifyContext } from '../../notify/notifications.ts'
import type { ResidentLimits } from '../alerts/resident-limits.ts'
import type { AlertService } from '../../alerts/service.ts'
import type { Weights } from '../../alerts/score.ts'
import type { StreamLimits } from '../routes/alert-stream.ts'
import type { DestinationPolicy } from '../../core/egress.ts'
import type { SimulateFaultMode } from '../../intake/simulated-fault.ts'

/** The services the API is built over (cli/stack.ts wires them; tests build their own). */
export interface AppDeps {
  db: Db
  features: DbFeatures
  metrics: Metrics
  alerts: AlertService
  /** Checks of other units in this process (the ingest in `up`); each names what is wrong, or undefined. */
  probes?: readonly (() => string | undefined)[]
  /** Whether this process runs the timed jobs now (the leader among API processes; core/leader.ts). */
  leading?: (() => boolean) | undefined
  /** The notification core (channels, rotas, policies, links); its routes are registered when present. */
  notify?: NotifyContext | undefined
  /** The ingest this process feeds the HTTP device API and the receivers into; without it they answer 503. */
  intake?: ReceiverDeps | undefined
}

/** Photo limits (PHOTO_MAX_BYTES, PHOTOS_PER_ALERT). */
export interface PhotoLimits {
  /** Largest image accepted, in bytes. */
  maxBytes: number
  /** Most photos one alert may carry (crews' and the reporting resident's together). */
  perAlert: number
}

export const DEFAULT_PHOTO_LIMITS: PhotoLimits = { maxBytes: 5 * 1024 * 1024, perAlert: 10 }

/** The map's base layer (MAP_TILE_URL …) and the site plans' size limit (SITE_PLAN_MAX_BYTES). */
export interface MapSettings {
  tileUrl: string | undefined
  tileAttribution: string | undefined
  tileMaxZoom: number
  tileSubdomains: string[]
  labelUrl: string | undefined
  sitePlanMaxBytes: number
}

/** No base layer (a plain background that works offline), plans up to 5 MB. */
export const DEFAULT_MAP_SETTINGS: MapSettings = { tileUrl: undefined, tileAttribution: undefined, tileMaxZoom: 18, tileSubdomains: [], labelUrl: undefined, sitePlanMaxBytes: 5 * 1024 * 1024 }

/** Settings of the resource plugins, resolved (defaults filled in) by buildApp. */
export interface ApiSettings {
  weights: Weights
  /** A hotline case handled within this of being received is on time (HOTLINE_HANDLE_DEADLINE). */
  hotlineDeadlineMs: number
  streamLimits: StreamLimits
  egress: DestinationPolicy
  photos: PhotoLimits
  /** Residents' hazard reports and photo bytes (RESIDENT_REPORTS_PER_HOUR, _PER_DAY, RESIDENT_PHOTO_BYTES_PER_DAY). */
  residents: ResidentLimits
  /** The CSV exports (api/routes/exports.ts): most rows one file holds. */
  exports: { maxRows: number }
  map: MapSettings
  /** Which devices an admin may make report a fault (SIMULATE_FAULTS; intake/simulated-fault.ts). */
  simulateFaults: SimulateFaultMode
}

export interface ApiDeps extends AppDeps {
  settings: ApiSettings
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: ApiDeps
  }
}

export default fp(
  (app: FastifyInstance, deps: ApiDeps) => {
    app.decorate('deps', deps)
  },
  { name: 'deps' },
)

/** The notification context, for the plugins app.ts registers only where notifications are on. */
export function notifyOf(app: FastifyInstance): NotifyContext {
  const ctx = app.deps.notify
  if (!ctx) throw new Error('these routes need the notification context (register them only where notifications are on)')
  return ctx
}
