// The device logins of the API's HTTP receivers (the device API, RabbitMQ's auth backend) as one
// decoration, `app.deviceLogins` (intake/device-login/logins.ts: the gate and its verified-secret
// cache, the broker's in one process with it).
//
// The caches are dropped per device on DEVICE_CHANGED_CHANNEL (secret rotated, disabled, profile
// link changed — by this process or another) and the profile cache on PROFILE_CHANGED_CHANNEL,
// through intake/device-caches.ts — the verified secrets and, when given, the receivers' decoders
// and platform devices; the listeners end when the app closes.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from '../../core/db/client.ts'
import type { Metrics } from '../../core/metrics.ts'
import { watchDeviceChanges, type DeviceCaches } from '../device-caches.ts'
import { deviceLogins, type DeviceLoginLimits, type DeviceLogins } from '../device-login/logins.ts'

export interface DeviceLoginsOptions {
  db: Db
  metrics: Metrics
  limits: DeviceLoginLimits
  /** The receivers' own caches, dropped with the secrets on a device change. */
  caches?: Omit<DeviceCaches, 'verified'> | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    deviceLogins: DeviceLogins
  }
}

export default fp(
  async (app: FastifyInstance, opts: DeviceLoginsOptions) => {
    const logins = deviceLogins(opts.db, opts.limits, () => opts.metrics.loginsHeld.inc())
    app.decorate('deviceLogins', logins)
    const unlisten = await watchDeviceChanges(opts.db, { verified: logins.verified, profiles: opts.caches?.profiles, platformDevices: opts.caches?.platformDevices })
    app.addHook('onClose', unlisten)
  },
  { name: 'device-logins' },
)
