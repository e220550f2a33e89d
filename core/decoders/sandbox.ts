// Runs a device profile's JavaScript decoder — `decodeUplink(input)` in the ChirpStack v4 / The
// Things Stack codec convention — inside QuickJS compiled to WebAssembly (quickjs-emscripten), in
// a worker thread; never in Node's own engine: the decoder is code an operator pasted, maybe
// copied from a vendor.
//
// - Isolation: the decoder sees only the ECMAScript built-ins of QuickJS. There is no `process`,
//   `require`, file system, network or timer; the WebAssembly memory is all it can touch. Input
//   enters and output leaves as JSON text.
// - Each run gets a fresh QuickJS runtime (sandbox-worker.js), so nothing one payload leaves
//   behind reaches the next.
// - Limits per run: `timeLimitMs` through QuickJS's interrupt handler (an endless loop is
//   stopped), `memoryLimitBytes` on the runtime's heap, `maxStackBytes` on its stack, and
//   `maxOutputBytes` on the JSON it returns. The interrupt handler is not consulted inside native
//   built-ins or the garbage collector: `new Array(1e5).fill(1)` in a loop took 5–30 s to reach an
//   8 MB limit when measured. So the host also holds a hard deadline (`timeLimitMs + killAfterMs`)
//   and terminates the worker past it; the next run gets a new worker. The event loop of the
//   ingest is never held by a decoder.
// - Runs go to a small pool of workers (`workers`), taken fairly per key (the profile) with a
//   breaker per key (fair-queue.ts says why): one looping profile no longer holds the others'
//   payloads. A failure of any kind is a `DecodeFailure` with a reason for the dead letter, never
//   a throw.
import { Worker } from 'node:worker_threads'
import { FairQueue } from './fair-queue.ts'

export interface SandboxLimits {
  timeLimitMs: number
  memoryLimitBytes: number
  maxStackBytes: number
  maxOutputBytes: number
  /** How long past the time limit a run may go before its worker is terminated. */
  killAfterMs: number
  /** Runs waiting for a worker, all keys together; more fail at once. */
  maxQueued: number
  /** Runs of one key (profile) waiting; more fail at once, while other keys' still queue. */
  maxQueuedPerKey: number
  /** Worker threads, each started when first needed; a key runs on at most `workers - 1` (1 if alone). */
  workers: number
  /** Runs of a key in a row that used their whole time budget before the key is suspended. */
  suspendAfter: number
  /** How long a suspended key's payloads fail at once ("decoder suspended until …"). */
  suspendForMs: number
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  timeLimitMs: 250,
  memoryLimitBytes: 8 * 1024 * 1024,
  maxStackBytes: 256 * 1024,
  maxOutputBytes: 64 * 1024,
  killAfterMs: 400,
  maxQueued: 10_000,
  maxQueuedPerKey: 1_000,
  workers: 2,
  suspendAfter: 3,
  suspendForMs: 60_000,
}

/** The argument of `decodeUplink`, as ChirpStack v4 passes it (recvTime as an ISO date-time). */
export interface UplinkInput {
  bytes: readonly number[]
  fPort: number
  recvTime: string
  variables: Readonly<Record<string, string>>
}

export type DecodeOutcome = { ok: true; output: unknown } | DecodeFailure
export interface DecodeFailure {
  ok: false
  reason: string
}

interface Job {
  id: number
  key: string
  source: string
  input: string
  resolve: (outcome: DecodeOutcome) => void
}

type Answer = { id: number; ok: true; output: string } | { id: number; ok: false; reason: string; timedOut?: boolean }

/** One worker thread and the run in it. */
interface Slot {
  worker: Worker | undefined
  ready: Promise<void> | undefined
  current: { job: Job; timer: NodeJS.Timeout | undefined } | undefined
}

const WORKER_URL = new URL('./sandbox-worker.js', import.meta.url)

export class DecoderSandbox {
  private readonly slots: Slot[]
  private readonly queue: FairQueue<Job>
  private nextId = 1
  private stopped = false

  constructor(private readonly limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS) {
    const workers = Math.max(1, limits.workers)
    this.slots = Array.from({ length: workers }, () => ({ worker: undefined, ready: undefined, current: undefined }))
    this.queue = new FairQueue({
      maxQueued: limits.maxQueued,
      maxQueuedPerKey: limits.maxQueuedPerKey,
      maxRunningPerKey: Math.max(1, workers - 1),
      suspendAfter: limits.suspendAfter,
      suspendForMs: limits.suspendForMs,
      maxTrackedKeys: 10_000,
    })
  }

  /**
   * Decodes one payload; resolves with the decoder's return value or why there is none. `key`
   * names whose runs these are for fairness and the breaker (the profile); by default the source.
   */
  run(source: string, input: UplinkInput, key: string = source): Promise<DecodeOutcome> {
    if (this.stopped) return Promise.resolve({ ok: false, reason: 'the decoder sandbox is stopped' })
    return new Promise((resolve) => {
      const refused = this.queue.offer({ id: this.nextId++, key, source, input: JSON.stringify(input), resolve }, Date.now())
      if (refused !== undefined) return resolve({ ok: false, reason: refused })
      this.pump()
    })
  }

  /** Starts the workers ahead of the first payload (loading the WebAssembly module takes a moment). */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.spawn(slot)))
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const job of this.queue.drain()) job.resolve({ ok: false, reason: 'the decoder sandbox is stopped' })
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.current) this.finish(slot, { ok: false, reason: 'the decoder sandbox is stopped' }, false)
        const worker = slot.worker
        slot.worker = undefined
        slot.ready = undefined
        await worker?.terminate()
      }),
    )
  }

  private spawn(slot: Slot): Promise<void> {
    if (slot.ready) return slot.ready
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: 64 } })
    // A worker waiting for work must not keep the process alive.
    worker.unref()
    slot.worker = worker
    slot.ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve())
      worker.once('error', reject)
    })
    worker.on('message', (msg: Answer | { ready: true }) => {
      if (!('id' in msg) || slot.current?.job.id !== msg.id) return
      this.finish(slot, msg.ok ? parseOutput(msg.output) : { ok: false, reason: msg.reason }, !msg.ok && msg.timedOut === true)
    })
    worker.on('error', (err) => this.lose(slot, worker, `the decoder sandbox failed: ${err.message}`))
    worker.on('exit', () => this.lose(slot, worker, 'the decoder sandbox exited'))
    return slot.ready
  }

  /** The worker is gone: the run in it fails, and the slot's next run starts a new one. */
  private lose(slot: Slot, worker: Worker, reason: string): void {
    if (slot.worker !== worker) return
    slot.worker = undefined
    slot.ready = undefined
    if (slot.current) this.finish(slot, { ok: false, reason }, false)
  }

  /** Hands waiting runs to idle workers. */
  private pump(): void {
    if (this.stopped) return
    for (const slot of this.slots) {
      if (slot.current) continue
      const job = this.queue.take()
      if (!job) return
      void this.begin(slot, job)
    }
  }

  private async begin(slot: Slot, job: Job): Promise<void> {
    const current: { job: Job; timer: NodeJS.Timeout | undefined } = { job, timer: undefined }
    slot.current = current
    try {
      await this.spawn(slot)
    } catch (err) {
      slot.ready = undefined
      this.finish(slot, { ok: false, reason: `the decoder sandbox could not start: ${err instanceof Error ? err.message : String(err)}` }, false)
      return
    }
    if (slot.current !== current) return
    const { timeLimitMs, memoryLimitBytes, maxStackBytes, maxOutputBytes } = this.limits
    // The hard deadline counts from the hand-over, not from a worker's start-up.
    current.timer = setTimeout(() => void this.kill(slot), timeLimitMs + this.limits.killAfterMs)
    slot.worker?.postMessage({ id: job.id, source: job.source, input: job.input, limits: { timeLimitMs, memoryLimitBytes, maxStackBytes, maxOutputBytes } })
  }

  /** Past the hard deadline: the worker is terminated with the run in it. */
  private async kill(slot: Slot): Promise<void> {
    const worker = slot.worker
    slot.worker = undefined
    slot.ready = undefined
    this.finish(slot, { ok: false, reason: `the decoder ran longer than ${this.limits.timeLimitMs} ms and was stopped` }, true)
    await worker?.terminate()
  }

  private finish(slot: Slot, outcome: DecodeOutcome, overBudget: boolean): void {
    const current = slot.current
    if (!current) return
    clearTimeout(current.timer)
    slot.current = undefined
    const suspended = this.queue.done(current.job, overBudget, Date.now())
    current.job.resolve(outcome)
    for (const job of suspended?.failed ?? []) job.resolve({ ok: false, reason: suspended?.reason ?? '' })
    this.pump()
  }
}
function parseOutput(text: string): DecodeOutcome {
  try {
    return { ok: true, output: JSON.parse(text) as unknown }
  } catch {
    return { ok: false, reason: 'the decoder returned something JSON cannot carry' }
  }
}
