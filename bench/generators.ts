// Runs the load-generator processes of one scenario: spawns them, waits until every client is
// connected, starts them together on a shared wall-clock window, and collects their results.
// Every wait is bounded, and the processes are killed on any failure or when the hard cap passes.
import { spawn, type ChildProcess } from 'node:child_process'
import { childModuleArgs } from '../core/package-root.ts'
import type { FromGenerator, LoadgenConfig, LoadgenResult, ToGenerator } from './protocol.ts'

export interface RunTiming {
  warmupMs: number
  measureMs: number
  /** Connecting every client (each login costs the broker one scrypt verification). */
  connectTimeoutMs: number
  /** After the measured interval, before the generators are killed. */
  graceMs: number
}

export interface WindowHooks {
  /** Called when the measured interval starts and ends (the caller snapshots its counters). */
  onMeasureStart(): Promise<void> | void
  onMeasureEnd(): Promise<void> | void
}

// From the sources the child loads TypeScript through tsx, resolved from here so the working directory does not matter.
const LOADGEN = childModuleArgs(import.meta.url, 'loadgen')

class Generator {
  readonly exited: Promise<void>
  private readonly messages: FromGenerator[] = []
  private waiter: (() => void) | undefined

  constructor(readonly proc: ChildProcess) {
    proc.on('message', (m) => {
      this.messages.push(m as FromGenerator)
      this.waiter?.()
    })
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()))
    void this.exited.then(() => this.waiter?.())
  }

  send(msg: ToGenerator): void {
    if (this.proc.connected) this.proc.send(msg)
  }

  /** The next message of the given type; rejects if the process fails or exits first. */
  async next<T extends FromGenerator['type']>(type: T): Promise<Extract<FromGenerator, { type: T }>> {
    for (;;) {
      const failed = this.messages.find((m) => m.type === 'failed')
      if (failed?.type === 'failed') throw new Error(`load generator failed: ${failed.message}`)
      const hit = this.messages.find((m): m is Extract<FromGenerator, { type: T }> => m.type === type)
      if (hit) return hit
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`load generator exited (${this.proc.exitCode ?? this.proc.signalCode ?? '?'}) before sending "${type}"`)
      }
      await new Promise<void>((resolve) => (this.waiter = resolve))
    }
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL')
  }
}

function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export async function runGenerators(configs: LoadgenConfig[], timing: RunTiming, hooks: WindowHooks): Promise<LoadgenResult[]> {
  const generators = configs.map(
    () =>
      new Generator(
        spawn(process.execPath, LOADGEN, {
          // stdout/stderr inherited so a crash is visible; results travel over IPC only.
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          serialization: 'advanced',
        }),
      ),
  )
  const timers: NodeJS.Timeout[] = []
  try {
    configs.forEach((config, i) => generators[i]?.send({ type: 'config', config }))
    await deadline(Promise.all(generators.map((g) => g.next('ready'))), timing.connectTimeoutMs, 'connecting the load generators')

    const measureFrom = Date.now() + timing.warmupMs
    const measureUntil = measureFrom + timing.measureMs
    // Hooks run on this process's event loop, busy with the broker: they may fire a few ms late,
    // so the caller times its interval from when they actually run.
    const at = (epochMs: number) =>
      new Promise<void>((resolve) => timers.push(setTimeout(resolve, Math.max(0, epochMs - Date.now()))))
    const startHook = at(measureFrom).then(() => hooks.onMeasureStart())
    const endHook = startHook.then(() => at(measureUntil)).then(() => hooks.onMeasureEnd())
    // Awaited below; this only keeps a failed snapshot from crashing the process as unhandled
    // when the run fails first and the await is never reached.
    endHook.catch(() => undefined)
    for (const g of generators) g.send({ type: 'start', measureFrom, measureUntil })

    const hardCap = measureUntil - Date.now() + timing.graceMs
    const results = await deadline(Promise.all(generators.map((g) => g.next('result'))), hardCap, 'the load run')
    await endHook
    await deadline(Promise.all(generators.map((g) => g.exited)), 5000, 'the load generators exiting')
    return results.map((r) => r.result)
  } finally {
    for (const t of timers) clearTimeout(t)
    for (const g of generators) g.kill()
  }
}
