// One housing-brain service (`api`, `broker`, …) as a child process against a real database, for
// the tests of several processes, health endpoints and drain (issue 11): started on the given
// environment, resolved once its "listening" line is out, stopped for real — SIGKILL (kill -9)
// or SIGTERM (a drain).
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { eventually } from './services.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')

export interface ServiceProcess {
  child: ChildProcess
  /** Settles with the exit code (null when killed by a signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Everything written to stdout and stderr so far (the tail). */
  output(): string
  kill9(): Promise<void>
  /** SIGTERM; resolves with how the process ended. */
  terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Spawns the CLI with only `env` (and PATH) for environment, keeping the tail of its output;
 * `from` runs another checkout's CLI in its folder, as `npm start` there would.
 */
export function spawnCli(
  args: readonly string[],
  env: Record<string, string>,
  from?: { checkout: string },
): { child: ChildProcess; exited: ServiceProcess['exited']; output: () => string } {
  const bin = from ? path.join(from.checkout, 'bin/housing-brain.js') : BIN
  const child = spawn(process.execPath, [bin, ...args], { cwd: from?.checkout, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  // Bounded: the tail is what explains a failure.
  let out = ''
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-200_000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return { child, exited, output: () => out }
}

/** Starts `housing-brain <command> [args…]` and waits for `ready` in its output (its log line). */
export async function startService(commandLine: string | readonly string[], env: Record<string, string>, ready: string): Promise<ServiceProcess> {
  const args = typeof commandLine === 'string' ? [commandLine] : commandLine
  const command = args.join(' ')
  const { child, exited, output } = spawnCli(args, { HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env })
  let gone = false
  void exited.then(() => (gone = true))
  try {
    await eventually(() => {
      if (gone) throw new Error(`housing-brain ${command} exited before it was ready:\n${output().slice(-4000)}`)
      return output().includes(ready) ? true : undefined
    }, 60_000, `housing-brain ${command} to log "${ready}"`)
  } catch (err) {
    child.kill('SIGKILL')
    await exited
    throw err
  }
  return {
    child,
    exited,
    output,
    async kill9() {
      if (!gone) child.kill('SIGKILL')
      await exited
    },
    async terminate() {
      if (!gone) child.kill('SIGTERM')
      return exited
    },
  }
}
