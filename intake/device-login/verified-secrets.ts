// Device secrets recently proven right, so a device that authenticates on every request (a DTU
// posting over HTTP every few seconds, RabbitMQ asking at every MQTT connect) costs one scrypt
// per TTL instead of one per request. Each scrypt holds a libuv thread-pool thread for tens of
// milliseconds (core/secrets.ts); the HTTP device API ran one per POST.
//
// What is kept: per device, an HMAC-SHA256 of the secret under a random key made at start-up and
// never stored. Not the secret, and not a plain fast hash of it: a memory dump gives nothing to
// brute-force offline. A presented secret is a hit only if its HMAC equals the kept one
// (constant-time compare) and the entry is younger than the TTL.
//
// Bounded (oldest entries evicted first) and invalidated by the owner when a device changes
// (DEVICE_CHANGED_CHANNEL: secret rotated, disabled, deleted — in any process); the TTL bounds
// how long a missed notification (a listener reconnecting) can keep an old secret valid.
// Only successes are cached: a wrong secret always pays the full, bounded check.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { DeviceKind } from '../../core/contract.ts'
import { TtlCache, type TtlCacheOptions } from '../../core/ttl-cache.ts'

export type VerifiedSecretsOptions = TtlCacheOptions

export const DEFAULT_VERIFIED_SECRETS: VerifiedSecretsOptions = { ttlMs: 60_000, maxEntries: 50_000 }

export class VerifiedSecrets {
  private readonly key = randomBytes(32)
  private readonly entries: TtlCache<{ mac: Buffer; kind: DeviceKind }>
  /** Lookups answered from the cache / that needed a full check; for the metrics and tests. */
  hits = 0
  misses = 0

  constructor(opts: VerifiedSecretsOptions = DEFAULT_VERIFIED_SECRETS) {
    this.entries = new TtlCache(opts)
  }

  /** The device's kind when this secret was verified for it within the TTL; undefined otherwise. */
  check(deviceId: string, secret: string): DeviceKind | undefined {
    const entry = this.entries.get(deviceId)
    if (entry && timingSafeEqual(entry.mac, this.mac(deviceId, secret))) {
      this.hits++
      return entry.kind
    }
    this.misses++
    return undefined
  }

  /** After a full check succeeded. */
  remember(deviceId: string, secret: string, kind: DeviceKind): void {
    this.entries.set(deviceId, { mac: this.mac(deviceId, secret), kind })
  }

  /** The device changed (secret, enabled flag, deletion): its next request is checked in full. */
  forget(deviceId: string): void {
    this.entries.delete(deviceId)
  }

  /** Everything (a change notification could not be read). */
  clear(): void {
    this.entries.clear()
  }

  private mac(deviceId: string, secret: string): Buffer {
    // The id is part of the MAC input so one device's entry can never vouch for another's secret.
    return createHmac('sha256', this.key).update(deviceId).update('\0').update(secret, 'utf8').digest()
  }
}
