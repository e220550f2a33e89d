// housing-brain command line: reads the configuration once, runs one command, exits cleanly.
import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import { ConfigError, environment, loadConfig, type Config } from '../core/config.ts'
import { createLogger, type Logger } from '../core/log.ts'
import { UsageError } from '../core/errors.ts'
import { PortInUseError } from '../core/net.ts'
import { UnitStartError } from '../core/units.ts'
import type { Command, CommandContext } from './context.ts'

const USAGE = `housing-brain <command> [options]

Commands:
  up         everything in one process: broker + ingest, API, console and a simulated community
             (--chirpstack-sim: plus LoRaWAN sensors through CHIRPSTACK_MQTT_URL as ChirpStack events)
  broker     the MQTT broker with the ingest inside (PUBACK after commit)
  ingest     standalone ingest subscribed to an external broker (MQTT_URL);
             ingest --from amqp://… consumes RabbitMQ's telemetry queue instead
  api        the HTTP API (alerts, escalation, webhooks, live stream)
  rules      the rules engine: reads MQTT_URL, reports to API_URL with API_TOKEN
  node-red   Node-RED with the example flow: telemetry from MQTT_URL, alerts to API_URL
  simulate   a simulated fleet publishing to MQTT_URL   [--devices N] [--rate R] [--scenario NAME]
             [--credentials FILE] [--duration SECONDS]
             simulate --via chirpstack --chirpstack-url mqtt://… [--application-id ID]: LoRaWAN
             sensors as ChirpStack up events (provisions them with DevEUIs and profiles)
  migrate    apply database migrations and exit
  users      add|token|list|revoke users and API tokens (see housing-brain users)
  fault      make a demo device report a fault through the ingest: --device ID --fault entrapment|
             cover_displaced|low_level (the rules engine raises the alert)
  rabbitmq   setup|check the RabbitMQ tier's queues, bindings and alternate exchange (before devices
             connect; RABBITMQ_MANAGEMENT_URL)
  bench      benchmarks: bench ingest | bench alerts | bench console (bench ingest --help for options)

Configuration is read from the environment and a .env file; every setting is in docs/configuration.md.`


const COMMANDS: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./commands.ts')).up,
  broker: async () => (await import('./commands.ts')).broker,
  ingest: async () => (await import('./commands.ts')).ingest,
  api: async () => (await import('./commands.ts')).api,
  rules: async () => (await import('./commands.ts')).rules,
  'node-red': async () => (await import('./node-red.ts')).nodeRed,
  simulate: async () => (await import('./commands.ts')).simulate,
  migrate: async () => (await import('./commands.ts')).migrateCommand,
  users: async () => (await import('./users.ts')).usersCommand,
  fault: async () => (await import('./fault.ts')).faultCommand,
  rabbitmq: async () => (await import('./rabbitmq.ts')).rabbitmqCommand,
  bench: async () => (await import('../bench/index.ts')).bench,
}

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv.slice(0, 1), allowPositionals: true, strict: false })
  const name = positionals[0]
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(USAGE)
    return name === undefined ? 1 : 0
  }
  const load = COMMANDS[name]
  if (!load) {
    console.error(`Unknown command "${name}".\n\n${USAGE}`)
    return 1
  }
  let cfg: Config
  let envFile: string | undefined
  try {
    const read = environment()
    envFile = read.file
    cfg = loadConfig(read.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      return 1
    }
    throw err
  }
  const log = createLogger(cfg.server.logLevel)
  if (envFile !== undefined) log.info({ file: envFile }, 'settings read from the environment and this file (the environment wins)')
  for (const line of [...cfg.retired, ...cfg.unknown]) log.warn(line)
  const command = await load()
  await command({ cfg, log, args: argv.slice(1), onShutdown: shutdownHandler(cfg, log) })
  return 0
}

/**
 * A launcher forwards a terminal's Ctrl-C to its child although the terminal sent it to the child
 * too (the whole foreground process group gets it): npm does (`@npmcli/run-script`'s
 * signal-manager forwards SIGINT and SIGTERM), so `npm start` and Ctrl-C delivered it twice within
 * a few milliseconds, and the copy counted as a second signal (exit 1, the drain cut). One copy of
 * the first signal within this time is that same Ctrl-C.
 */
const SAME_SIGNAL_MS = 1000
const FORWARDED = ['SIGINT', 'SIGTERM'] as const

/**
 * The one shutdown mechanism of every command (issue 11): the first SIGTERM/SIGINT (or an
 * uncaught error) runs the registered drains in reverse order of registration; SHUTDOWN_TIMEOUT
 * after it, or at a second signal, the process exits with code 1 and a log line naming what it
 * abandoned.
 */
function shutdownHandler(cfg: Config, log: Logger): CommandContext['onShutdown'] {
  const drains: { fn: () => Promise<void>; pending: (() => string[]) | undefined }[] = []
  const abandoned = () => drains.flatMap((d) => d.pending?.() ?? [])
  const secondSignal = (signal: string) => log.error({ signal, abandoned: abandoned() }, 'second signal; exiting at once with these units not stopped')
  let installed = false
  return (fn, pending) => {
    drains.unshift({ fn, pending })
    if (installed) return
    installed = true
    /** The signal that began the shutdown; `echoed` once its forwarded copy has been seen (or none is awaited). */
    let first: { signal: string; at: number; echoed: boolean } | undefined
    const grace = closeWithGrace(
      {
        delay: cfg.server.shutdownTimeoutMs,
        logger: { error: (m: string) => log.error(m) },
        // SIGINT and SIGTERM are ours (below), for their forwarded copies.
        skip: [...FORWARDED],
        onTimeout: (ms: number) => log.error({ waitedMs: ms, abandoned: abandoned() }, 'shutdown timed out (SHUTDOWN_TIMEOUT); exiting with these units not stopped'),
        onSecondSignal: secondSignal,
      },
      async ({ signal, err }) => {
        first ??= { signal: signal ?? 'error', at: Date.now(), echoed: true }
        if (err) log.error({ err }, 'shutting down after an error')
        else log.info({ signal: first.signal, timeoutMs: cfg.server.shutdownTimeoutMs }, 'shutting down: draining')
        for (const d of drains) await d.fn()
        log.info('stopped')
      },
    )
    const onSignal = (signal: NodeJS.Signals) => {
      if (!first) {
        first = { signal, at: Date.now(), echoed: false }
        grace.close()
        return
      }
      if (!first.echoed && signal === first.signal && Date.now() - first.at < SAME_SIGNAL_MS) {
        first.echoed = true
        return
      }
      secondSignal(signal)
      process.exit(1)
    }
    for (const signal of FORWARDED) process.on(signal, onSignal)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code
  },
  (err: unknown) => {
    // Errors a person can act on are printed plainly; anything else with its stack.
    if (err instanceof UnitStartError && (err.cause instanceof PortInUseError || err.cause instanceof ConfigError)) {
      console.error(`housing-brain: ${err.cause.message}`)
    } else if (err instanceof PortInUseError || err instanceof ConfigError || err instanceof UsageError) {
      console.error(`housing-brain: ${err.message}`)
    } else if (err instanceof UnitStartError) {
      console.error(`housing-brain: ${err.message}`)
      console.error(err.cause)
    } else {
      console.error(err)
    }
    process.exitCode = 1
  },
)
