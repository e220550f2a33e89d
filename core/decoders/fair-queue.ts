// Which decoder run goes next, so one profile's looping decoder holds the others' payloads for one
// time budget at most (issue 18, item 7: with one FIFO, another profile's payload waited 19.9 s
// behind 20 looping ones; figures: README "Real devices", test/integration/decoder-fairness.test.ts).
// Both options of the issue, as either alone falls short — a breaker on one worker still puts
// `suspendAfter` budgets ahead of the others; a pool gives its workers to as many profiles as loop:
// - per-key (profile) queues taken in turn, a key on at most `maxRunningPerKey` of the workers;
// - keys whose last run used its whole budget served only when no other key waits;
// - a breaker: `suspendAfter` such runs in a row suspend the key for `suspendForMs`, its waiting
//   and new payloads failing at once with the reason.
// Every queue is bounded, and so is the breaker's memory. Pure state handed the time;
// core/decoders/sandbox.ts owns the workers.

export interface FairQueueLimits {
  maxQueued: number
  maxQueuedPerKey: number
  maxRunningPerKey: number
  suspendAfter: number
  suspendForMs: number
  /** Keys whose recent over-budget runs are remembered; the oldest are forgotten beyond. */
  maxTrackedKeys: number
}

export interface QueuedRun {
  key: string
  /** The decoder's text: an edited decoder is not held to its predecessor's suspension. */
  source: string
}

interface Strikes {
  source: string
  inARow: number
  /** Epoch ms until which the key's runs fail at once; 0 when not suspended. */
  until: number
}

export class FairQueue<R extends QueuedRun> {
  /** Waiting runs by key; the Map's order is the round-robin ring (a served key goes to its end). */
  private readonly waiting = new Map<string, R[]>()
  private readonly running = new Map<string, number>()
  private readonly strikes = new Map<string, Strikes>()
  private queued = 0

  constructor(private readonly limits: FairQueueLimits) {}

  get size(): number {
    return this.queued
  }

  /** Why the run cannot wait (suspended, or a queue is full), or undefined once it is queued. */
  offer(run: R, now: number): string | undefined {
    const suspended = this.suspension(run, now)
    if (suspended !== undefined) return suspended
    if (this.queued >= this.limits.maxQueued) return `more than ${this.limits.maxQueued} payloads wait for a decoder`
    const queue = this.waiting.get(run.key) ?? []
    if (queue.length >= this.limits.maxQueuedPerKey) return `more than ${this.limits.maxQueuedPerKey} payloads wait for this decoder`
    queue.push(run)
    this.waiting.set(run.key, queue)
    this.queued++
    return undefined
  }

  /**
   * The next run for a free worker: the first key in the ring not at its share of the workers,
   * keys whose last run used its whole budget only when no other key waits — so a payload of a
   * decoder in good standing waits behind looping ones for one run at most, however many loop.
   */
  take(): R | undefined {
    return this.takeFrom(false) ?? this.takeFrom(true)
  }

  private takeFrom(striking: boolean): R | undefined {
    for (const [key, queue] of this.waiting) {
      if ((this.running.get(key) ?? 0) >= this.limits.maxRunningPerKey) continue
      if (this.strikes.has(key) !== striking) continue
      const run = queue.shift()
      if (!run) continue
      this.queued--
      // Served: to the end of the ring, or out of it.
      this.waiting.delete(key)
      if (queue.length > 0) this.waiting.set(key, queue)
      this.running.set(key, (this.running.get(key) ?? 0) + 1)
      return run
    }
    return undefined
  }

  /**
   * A run ended; `overBudget` when it used its whole time budget. Returns the waiting runs of a
   * key this suspends, with the reason they fail.
   */
  done(run: R, overBudget: boolean, now: number): { failed: R[]; reason: string } | undefined {
    const n = (this.running.get(run.key) ?? 1) - 1
    if (n > 0) this.running.set(run.key, n)
    else this.running.delete(run.key)
    if (!overBudget) {
      this.strikes.delete(run.key)
      return undefined
    }
    const prior = this.strikes.get(run.key)
    const s: Strikes = prior?.source === run.source ? prior : { source: run.source, inARow: 0, until: 0 }
    s.inARow++
    this.strikes.delete(run.key)
    if (this.strikes.size >= this.limits.maxTrackedKeys) this.strikes.delete(this.strikes.keys().next().value ?? '')
    this.strikes.set(run.key, s)
    // Past a suspension, one more run is tried; over budget again, it is suspended again at once.
    if (s.inARow < this.limits.suspendAfter) return undefined
    s.until = now + this.limits.suspendForMs
    const reason = this.suspension(run, now) ?? ''
    const queue = this.waiting.get(run.key) ?? []
    const failed = queue.filter((r) => r.source === run.source)
    const kept = queue.filter((r) => r.source !== run.source)
    this.queued -= failed.length
    if (kept.length > 0) this.waiting.set(run.key, kept)
    else this.waiting.delete(run.key)
    return { failed, reason }
  }

  /** Every waiting run, for a stop. */
  drain(): R[] {
    const all = [...this.waiting.values()].flat()
    this.waiting.clear()
    this.queued = 0
    return all
  }

  private suspension(run: QueuedRun, now: number): string | undefined {
    const s = this.strikes.get(run.key)
    if (!s || s.source !== run.source || s.until <= now) return undefined
    return `decoder suspended until ${new Date(s.until).toISOString()}: it used its whole time budget ${s.inARow} times in a row`
  }
}
