// What every command is handed: the configuration read once, the logger, its own arguments and
// the shutdown hook. Its own module so commands and benchmarks import the type without
// importing cli/main.ts, the entry point that runs the CLI.
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/log.ts'

export interface CommandContext {
  cfg: Config
  log: Logger
  args: string[]
  /**
   * Registers the graceful shutdown of a long-running command (Ctrl-C, SIGTERM): `fn` drains and
   * stops; `pending` names what is not stopped yet, for the log line of a forced exit.
   */
  onShutdown(fn: () => Promise<void>, pending?: () => string[]): void
}

export type Command = (ctx: CommandContext) => Promise<void>
