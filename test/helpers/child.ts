// A housing-brain command as a child process of a test: started, its output kept (bounded: the
// tail is what explains a failure), and awaited until it prints the line that says it is up.
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { eventually } from './services.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')

export interface Child {
  child: ChildProcess
  pid: number
  /** Settles with the exit code (null when killed by a signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  gone: () => boolean
  output: () => string
}

/** Runs `housing-brain {args}` and resolves once its output contains `ready`; fails with its output if it exits first. */
export async function startCommand(args: readonly string[], env: Record<string, string>, ready: string, timeoutMs: number): Promise<Child> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-200_000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let gone = false
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      gone = true
      resolve({ code, signal })
    })
  })
  try {
    await eventually(() => {
      if (gone) throw new Error(`housing-brain ${args[0] ?? ''} exited before it was up:\n${out.slice(-4000)}`)
      return out.includes(ready) ? true : undefined
    }, timeoutMs, `housing-brain ${args[0] ?? ''} to be up`)
  } catch (err) {
    child.kill('SIGKILL')
    await exited
    throw err
  }
  return { child, pid: child.pid ?? 0, exited, gone: () => gone, output: () => out }
}
