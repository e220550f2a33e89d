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
