// Latency histogram with logarithmic buckets (about 1 % relative precision), so every acked
// message is counted in constant memory and generator histograms merge exactly.

/** Bucket i holds values in [GROWTH^i, GROWTH^(i+1)) microseconds. */
const GROWTH = 1.01
const LOG_GROWTH = Math.log(GROWTH)

/** The JSON shape a load generator sends back: sparse [bucket, count] pairs. */
export interface HistogramJson {
  buckets: [number, number][]
  count: number
  maxMs: number
}

export class LatencyHistogram {
  private readonly counts = new Map<number, number>()
  count = 0
  maxMs = 0

  record(ms: number): void {
    const us = Math.max(1, ms * 1000)
    const bucket = Math.floor(Math.log(us) / LOG_GROWTH)
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1)
    this.count++
    if (ms > this.maxMs) this.maxMs = ms
  }

  merge(other: HistogramJson): void {
    for (const [bucket, n] of other.buckets) this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + n)
    this.count += other.count
    this.maxMs = Math.max(this.maxMs, other.maxMs)
  }

  /** The value below which `q` (0..1) of the samples fall, in ms; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket) ?? 0
      // The bucket's geometric middle: at most ~0.5 % off the true sample.
      if (seen >= rank) return Math.min(GROWTH ** (bucket + 0.5) / 1000, this.maxMs)
    }
    return this.maxMs
  }

  toJSON(): HistogramJson {
    return { buckets: [...this.counts.entries()], count: this.count, maxMs: this.maxMs }
  }
}
