// One process's device logins: the gate (intake/device-login/gate.ts — failure throttle per
// address, at most `maxConcurrent` scrypt checks at once, `maxConcurrentPerAddress` per address,
// 'busy' beyond) with its verified-secret cache (verified-secrets.ts), so a secret proven right is
// not checked again within its TTL. The broker's authenticate hook, the HTTP device API and
// RabbitMQ's HTTP auth backend all log devices in through it.
//
// In one process with the broker (`housing-brain up`) the API is given the broker's (`shared`):
// one bound on scrypt checks for MQTT and HTTP together, and a secret proven on one front is not
// checked again on the other. The cache is dropped per device on a change (intake/device-caches.ts).
import type { Db } from '../../core/db/client.ts'
import { LoginGate } from './gate.ts'
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

export interface DeviceLogins {
  gate: LoginGate
  verified: VerifiedSecrets
}

/** The gate of one process's device logins (MQTT_AUTH_MAX_CONCURRENT…), with its verified-secret cache. */
export function newDeviceLoginGate(db: Db, limits: Pick<DeviceLoginLimits, 'maxConcurrent' | 'maxConcurrentPerAddress'>, onHeld: () => void, verified: VerifiedSecrets): LoginGate {
  return new LoginGate(db, { max: limits.maxConcurrent, maxPerKey: limits.maxConcurrentPerAddress }, { onHeld }, undefined, verified)
}

/** The shared gate and cache when given, else a gate and cache of this process's own. */
export function deviceLogins(db: Db, limits: DeviceLoginLimits, onHeld: () => void): DeviceLogins {
  if (limits.shared) return limits.shared
  const verified = new VerifiedSecrets(limits.cache ?? DEFAULT_VERIFIED_SECRETS)
  return { gate: newDeviceLoginGate(db, limits, onHeld, verified), verified }
}
