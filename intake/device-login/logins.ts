// The device credential check of the API's HTTP entry points (the device API, RabbitMQ's auth
// backend), and the caches that keep it cheap, as one decoration (`app.deviceLogins`):
//
// - `gate`: the broker's LoginGate (intake/device-login/gate.ts) — failure throttle per address, at most
//   `maxConcurrent` scrypt checks at once (`maxConcurrentPerAddress` per address), 'busy' beyond —
//   with `verified` (intake/device-login/verified-secrets.ts) so a secret proven right is not checked again
//   within its TTL.
// - The intake's profile cache (core/profiles/cache.ts) and platform-device cache, when it has them.
//
// In one process with the broker (`housing-brain up`) the broker's gate and cache are given
// (`shared`): one bound on scrypt checks for MQTT and HTTP together, and a secret proven on one
// front is not checked again on the other.
//
// The caches are dropped per device on DEVICE_CHANGED_CHANNEL (secret rotated, disabled, profile
// link changed — by this process or another) and the profile cache on PROFILE_CHANGED_CHANNEL,
// through intake/device-caches.ts; the listeners end when the app closes.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { LoginGate } from './gate.ts'
import type { Db } from '../../core/db/client.ts'
import { watchDeviceChanges } from '../device-caches.ts'
import { DEFAULT_VERIFIED_SECRETS, VerifiedSecrets, type VerifiedSecretsOptions } from './verified-secrets.ts'

export interface DeviceLoginLimits {
  /** scrypt checks at once (MQTT_AUTH_MAX_CONCURRENT). */
  maxConcurrent: number
  /** The same per client address (MQTT_AUTH_MAX_CONCURRENT_PER_ADDRESS). */
  maxConcurrentPerAddress: number
  /** The verified-secret cache. */
  cache?: VerifiedSecretsOptions
  /** The broker's gate and cache, in one process with it: the limits above are then the broker's. */
  shared?: DeviceLogins | undefined
}

export const DEFAULT_DEVICE_LOGIN_LIMITS: DeviceLoginLimits = { maxConcurrent: 32, maxConcurrentPerAddress: 8 }

/** The gate of one process's device logins (MQTT_AUTH_MAX_CONCURRENT…), with its verified-secret cache. */
export function newDeviceLoginGate(db: Db, limits: Pick<DeviceLoginLimits, 'maxConcurrent' | 'maxConcurrentPerAddress'>, onHeld: () => void, verified: VerifiedSecrets): LoginGate {
  return new LoginGate(db, { max: limits.maxConcurrent, maxPerKey: limits.maxConcurrentPerAddress }, { onHeld }, undefined, verified)
}

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
    const verified = limits.shared?.verified ?? new VerifiedSecrets(limits.cache ?? DEFAULT_VERIFIED_SECRETS)
    const gate = limits.shared?.gate ?? newDeviceLoginGate(db, limits, () => metrics.loginsHeld.inc(), verified)
    app.decorate('deviceLogins', { gate, verified })
    const unlisten = await watchDeviceChanges(db, { verified, profiles, platformDevices })
    app.addHook('onClose', unlisten)
  },
  { name: 'device-logins', dependencies: ['deps'] },
)
