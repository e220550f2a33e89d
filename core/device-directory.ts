// A bounded, expiring cache of device kinds and gateway links, so validation does not query the
// database for every message. Misses are fetched in one query per batch of ids.
import type { DeviceKind } from './contract.ts'
import type { Queryable } from './db/client.ts'
import { getDeviceKinds } from './repos/devices.ts'

export interface DeviceInfo {
  id: string
  kind: DeviceKind
  gatewayId: string | null
  enabled: boolean
}

interface Entry {
  info: DeviceInfo | undefined
  expires: number
}

export interface DeviceDirectoryOptions {
  /** How long a known device is trusted before it is read again (a disabled flag propagates within this). */
  ttlMs?: number
  /** How long an unknown id is remembered as unknown (so a flood of bad ids costs one query each). */
  negativeTtlMs?: number
  maxEntries?: number
  now?: () => number
}

export class DeviceDirectory {
  private readonly cache = new Map<string, Entry>()
  private readonly ttlMs: number
  private readonly negativeTtlMs: number
  private readonly maxEntries: number
  private readonly now: () => number

  constructor(
    private readonly db: Queryable,
    opts: DeviceDirectoryOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 60_000
    this.negativeTtlMs = opts.negativeTtlMs ?? 10_000
    this.maxEntries = opts.maxEntries ?? 200_000
    this.now = opts.now ?? Date.now
  }

  /** Resolves every id (cached or fetched); returns the known, enabled-or-not devices by id. */
  async resolve(ids: Iterable<string>): Promise<Map<string, DeviceInfo>> {
    const now = this.now()
    const found = new Map<string, DeviceInfo>()
    const missing: string[] = []
    for (const id of new Set(ids)) {
      const hit = this.cache.get(id)
      if (hit && hit.expires > now) {
        if (hit.info) found.set(id, hit.info)
      } else {
        missing.push(id)
      }
    }
    if (missing.length > 0) {
      const rows = await getDeviceKinds(this.db, missing)
      const byId = new Map(rows.map((r) => [r.id, r]))
      for (const id of missing) {
        const info = byId.get(id)
        this.put(id, info, now + (info ? this.ttlMs : this.negativeTtlMs))
        if (info) found.set(id, info)
      }
    }
    return found
  }

  /**
   * The cached answer for one id without touching the database: the device, `null` when it is
   * known not to exist, or undefined when the cache cannot say (absent or expired).
   */
  peek(id: string): DeviceInfo | null | undefined {
    const hit = this.cache.get(id)
    if (!hit || hit.expires <= this.now()) return undefined
    return hit.info ?? null
  }

  async get(id: string): Promise<DeviceInfo | undefined> {
    return (await this.resolve([id])).get(id)
  }

  /** Forget one device (after it is changed, disabled or deleted). */
  invalidate(id: string): void {
    this.cache.delete(id)
  }

  private put(id: string, info: DeviceInfo | undefined, expires: number): void {
    this.cache.delete(id)
    if (this.cache.size >= this.maxEntries) {
      // Map iteration order is insertion order: the first key is the oldest entry.
      const oldest = this.cache.keys().next()
      if (!oldest.done) this.cache.delete(oldest.value)
    }
    this.cache.set(id, { info, expires })
  }
}
