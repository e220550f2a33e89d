// Object-first logging (pino). Pretty output only when a person is watching a TTY.
import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

/** Paths that must never reach a log line, whatever object they ride on. */
const REDACT = [
  'password',
  'secret',
  'token',
  '*.password',
  '*.secret',
  '*.token',
  'clientSecret',
  '*.clientSecret',
  'req.headers.authorization',
  'headers.authorization',
]

export function createLogger(level: LevelWithSilent, opts: { pretty?: boolean; stderr?: boolean } = {}): Logger {
  const pretty = opts.pretty ?? process.stdout.isTTY
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' } }
  // stderr: for a command whose stdout is data (a benchmark's --json), the log must not mix in.
  if (opts.stderr) return pino(options, pino.destination(2))
  return pino({
    ...options,
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } }
      : {}),
  })
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' })

/**
 * Expected, handled events that come in bursts (a login refused while the password checks are
 * busy, a device retrying): one line per kind and interval with their count, at info or warn and
 * without a stack trace — stack traces are for the unexpected (issue 16: 13 refused logins at the
 * demo's first start were 13 warnings with a stack each). The first event of a kind opens its
 * interval; the line is written when it ends, or at `flush()` (call it on stop). Bounded: past
 * `maxKinds` kinds, events are counted under one "other" kind.
 */
export class CountedLog {
  private readonly open = new Map<string, { count: number; since: number; fields: Record<string, unknown>; timer: NodeJS.Timeout }>()

  constructor(
    private readonly log: Logger,
    private readonly opts: { level: 'info' | 'warn'; intervalMs: number; maxKinds?: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one event; `kind` is its line's message, `fields` (of the interval's last event) go with the count. */
  note(kind: string, fields: Record<string, unknown> = {}): void {
    const key = this.open.has(kind) || this.open.size < (this.opts.maxKinds ?? 50) ? kind : 'other events'
    const held = this.open.get(key)
    if (held) {
      held.count++
      held.fields = fields
      return
    }
    const timer = setTimeout(() => this.write(key), this.opts.intervalMs)
    // A pending count never keeps the process alive; stop() flushes it.
    timer.unref()
    this.open.set(key, { count: 1, since: this.now(), fields, timer })
  }

  /** Writes every open count now. */
  flush(): void {
    for (const key of [...this.open.keys()]) this.write(key)
  }

  private write(key: string): void {
    const held = this.open.get(key)
    if (!held) return
    clearTimeout(held.timer)
    this.open.delete(key)
    const seconds = Math.max(1, Math.round((this.now() - held.since) / 1000))
    this.log[this.opts.level]({ ...held.fields, count: held.count, seconds }, `${key} (${held.count}× in ${seconds} s)`)
  }
}
