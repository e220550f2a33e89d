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
// - Runs are serial (one worker) and the queue is bounded (`maxQueued`); beyond it a run fails at
//   once. A failure of any kind is a `DecodeFailure` with a reason for the dead letter, never a throw.
import { Worker } from 'node:worker_threads'

export interface SandboxLimits {
  timeLimitMs: number
  memoryLimitBytes: number
  maxStackBytes: number
  maxOutputBytes: number
  /** How long past the time limit a run may go before its worker is terminated. */
  killAfterMs: number
  /** Runs waiting for the worker; more fail at once. */
  maxQueued: number
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  timeLimitMs: 250,
  memoryLimitBytes: 8 * 1024 * 1024,
  maxStackBytes: 256 * 1024,
  maxOutputBytes: 64 * 1024,
  killAfterMs: 400,
  maxQueued: 10_000,
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
  source: string
  input: string
  resolve: (outcome: DecodeOutcome) => void
}

type Answer = { id: number; ok: true; output: string } | { id: number; ok: false; reason: string }

const WORKER_URL = new URL('./sandbox-worker.js', import.meta.url)

export class DecoderSandbox {
  private worker: Worker | undefined
  private ready: Promise<void> | undefined
  private readonly queue: Job[] = []
  private current: { job: Job; timer: NodeJS.Timeout | undefined } | undefined
  private nextId = 1
  private stopped = false

  constructor(private readonly limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS) {}

  /** Decodes one payload; resolves with the decoder's return value or why there is none. */
  run(source: string, input: UplinkInput): Promise<DecodeOutcome> {
    if (this.stopped) return Promise.resolve({ ok: false, reason: 'the decoder sandbox is stopped' })
    if (this.queue.length >= this.limits.maxQueued) return Promise.resolve({ ok: false, reason: `more than ${this.limits.maxQueued} payloads wait for a decoder` })
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, source, input: JSON.stringify(input), resolve })
      void this.pump()
    })
  }

  /** Starts the worker ahead of the first payload (loading the WebAssembly module takes a moment). */
  async start(): Promise<void> {
    await this.spawn()
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const job of this.queue.splice(0)) job.resolve({ ok: false, reason: 'the decoder sandbox is stopped' })
    if (this.current) this.finish({ ok: false, reason: 'the decoder sandbox is stopped' })
    const worker = this.worker
    this.worker = undefined
    this.ready = undefined
    await worker?.terminate()
  }

  private spawn(): Promise<void> {
    if (this.ready) return this.ready
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: 64 } })
    // A worker waiting for work must not keep the process alive.
    worker.unref()
    this.worker = worker
    this.ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve())
      worker.once('error', reject)
    })
    worker.on('message', (msg: Answer | { ready: true }) => {
      if (!('id' in msg) || this.current?.job.id !== msg.id) return
      this.finish(msg.ok ? parseOutput(msg.output) : { ok: false, reason: msg.reason })
    })
    worker.on('error', (err) => this.lose(worker, `the decoder sandbox failed: ${err.message}`))
    worker.on('exit', () => this.lose(worker, 'the decoder sandbox exited'))
    return this.ready
  }

  /** The worker is gone: the run in it fails, and the next run starts a new one. */
  private lose(worker: Worker, reason: string): void {
    if (this.worker !== worker) return
    this.worker = undefined
    this.ready = undefined
    if (this.current) this.finish({ ok: false, reason })
  }

  private async pump(): Promise<void> {
    if (this.current || this.stopped) return
    const job = this.queue.shift()
    if (!job) return
    const current: { job: Job; timer: NodeJS.Timeout | undefined } = { job, timer: undefined }
    this.current = current
    try {
      await this.spawn()
    } catch (err) {
      this.ready = undefined
      this.finish({ ok: false, reason: `the decoder sandbox could not start: ${err instanceof Error ? err.message : String(err)}` })
      return
    }
    if (this.current !== current) return
    const { maxQueued: _q, killAfterMs: _k, ...limits } = this.limits
    // The hard deadline counts from the hand-over, not from a worker's start-up.
    current.timer = setTimeout(() => void this.kill(), this.limits.timeLimitMs + this.limits.killAfterMs)
    this.worker?.postMessage({ id: job.id, source: job.source, input: job.input, limits })
  }

  /** Past the hard deadline: the worker is terminated with the run in it. */
  private async kill(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    this.ready = undefined
    this.finish({ ok: false, reason: `the decoder ran longer than ${this.limits.timeLimitMs} ms and was stopped` })
    await worker?.terminate()
  }

  private finish(outcome: DecodeOutcome): void {
    const current = this.current
    if (!current) return
    clearTimeout(current.timer)
    this.current = undefined
    current.job.resolve(outcome)
    void this.pump()
  }
}

function parseOutput(text: string): DecodeOutcome {
  try {
    return { ok: true, output: JSON.parse(text) as unknown }
  } catch {
    return { ok: false, reason: 'the decoder returned something JSON cannot carry' }
  }
}
