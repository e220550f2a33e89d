// The device credential check of the API's HTTP entry points (the device API, RabbitMQ's auth
// backend), and the caches that keep it cheap, as one decoration (`app.deviceLogins`):
//
// - `gate`: the broker's LoginGate (broker/auth.ts) — failure throttle per address, at most
//   `maxConcurrent` scrypt checks at once (`maxConcurrentPerAddress` per address), 'busy' beyond —
//   with `verified` (core/verified-secrets.ts) so a secret proven right is not checked again
//   within its TTL.
// - The intake's profile cache (core/profiles/cache.ts) and platform-device cache, when it has them.
//
// Both caches are dropped per device on DEVICE_CHANGED_CHANNEL (secret rotated, disabled, profile
// link changed — by this process or another) and the profile cache on PROFILE_CHANGED_CHANNEL;
// the listeners end when the app closes.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { LoginGate } from '../../broker/auth.ts'
import { DEVICE_CHANGED_CHANNEL } from '../../core/repos/devices.ts'
import { PROFILE_CHANGED_CHANNEL } from '../../core/repos/profiles.ts'
import { DEFAULT_VERIFIED_SECRETS, VerifiedSecrets, type VerifiedSecretsOptions } from '../../core/verified-secrets.ts'

export interface DeviceLoginLimits {
  /** scrypt checks at once (MQTT_AUTH_MAX_CONCURRENT). */
  maxConcurrent: number
  /** The same per client address (MQTT_AUTH_MAX_CONCURRENT_PER_ADDRESS). */
  maxConcurrentPerAddress: number
  /** The verified-secret cache. */
  cache?: VerifiedSecretsOptions
}

export const DEFAULT_DEVICE_LOGIN_LIMITS: DeviceLoginLimits = { maxConcurrent: 32, maxConcurrentPerAddress: 8 }

export interface DeviceLogins {
  gate: LoginGate
  verified: VerifiedSecrets
}

declare module 'fastify' {
  interface FastifyInstance {
    deviceLogins: DeviceLogins
  }
}

export default fp(
  async (app: FastifyInstance, limits: DeviceLoginLimits) => {
    const { db, metrics } = app.deps
    const profiles = app.deps.intake?.profiles
    const platformDevices = app.deps.intake?.platformDevices
    const verified = new VerifiedSecrets(limits.cache ?? DEFAULT_VERIFIED_SECRETS)
    const gate = new LoginGate(db, { max: limits.maxConcurrent, maxPerKey: limits.maxConcurrentPerAddress }, { onHeld: () => metrics.loginsHeld.inc() }, undefined, verified)
    app.decorate('deviceLogins', { gate, verified })
    const unlistenDevices = await db.listen(DEVICE_CHANGED_CHANNEL, (payload) => {
      let id: unknown
      try {
        id = (JSON.parse(payload) as { id?: unknown }).id
      } catch {
        id = undefined
      }
      // An IMEI may have moved from one device to another: the platform lookups start afresh.
      platformDevices?.clear()
      if (typeof id === 'string') {
        verified.forget(id)
        profiles?.forgetDevice(id)
      } else {
        // Not a payload we know: forget everything rather than trust a stale entry.
        verified.clear()
        profiles?.clear()
      }
    })
    const unlistenProfiles = await db.listen(PROFILE_CHANGED_CHANNEL, () => profiles?.clear())
    app.addHook('onClose', async () => {
      await unlistenDevices()
      await unlistenProfiles()
    })
  },
  { name: 'device-logins', dependencies: ['deps'] },
)
