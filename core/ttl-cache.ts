// A bounded map whose entries expire: the shape of the HTTP entry points' caches (verified
// secrets, device decoders). At most `maxEntries`; when full, the oldest entry goes (a Map
// iterates in insertion order, and a `set` re-inserts). Expired entries are dropped when met.
export interface TtlCacheOptions {
  ttlMs: number
  maxEntries: number
  now?: () => number
}

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>()
  private readonly now: () => number

  constructor(private readonly opts: TtlCacheOptions) {
    this.now = opts.now ?? Date.now
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expires > this.now()) return entry.value
    this.entries.delete(key)
    return undefined
  }

  set(key: string, value: V): void {
    this.entries.delete(key)
    if (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
    this.entries.set(key, { value, expires: this.now() + this.opts.ttlMs })
  }

  delete(key: string): void {
    this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
  }

  get size(): number {
    return this.entries.size
  }
}
