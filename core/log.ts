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

export function createLogger(level: LevelWithSilent, opts: { pretty?: boolean } = {}): Logger {
  const pretty = opts.pretty ?? process.stdout.isTTY
  return pino({
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } }
      : {}),
  })
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' })
