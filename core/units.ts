// Long-running units (broker, ingest, API, simulators, …) started one by one and stopped in
// reverse order. A unit that fails to start is stopped (its stop() must cope with a partial start),
// so are the ones already started, and the error names it.
import type { Logger } from './log.ts'

export interface Unit {
  readonly name: string
  start(): Promise<void>
  stop(): Promise<void>
}

export class UnitStartError extends Error {
  constructor(
    readonly unit: string,
    override readonly cause: unknown,
  ) {
    super(`${unit} failed to start: ${cause instanceof Error ? cause.message : String(cause)}`)
    this.name = 'UnitStartError'
  }
}

export class Controller {
  private readonly started: Unit[] = []

  constructor(private readonly log: Logger) {}

  async start(units: readonly Unit[]): Promise<void> {
    for (const unit of units) {
      try {
        await unit.start()
        this.started.push(unit)
        this.log.debug({ unit: unit.name }, 'started')
      } catch (err) {
        // The failed unit may have opened some of its resources (a listener, a timer): release them.
        await unit.stop().catch((stopErr: unknown) => this.log.debug({ err: stopErr, unit: unit.name }, 'cleanup after a failed start'))
        await this.stop()
        throw new UnitStartError(unit.name, err)
      }
    }
  }

  /** Stops every started unit, newest first; one unit failing to stop does not keep the others running. */
  async stop(): Promise<void> {
    for (const unit of this.started.splice(0).reverse()) {
      try {
        await unit.stop()
        this.log.debug({ unit: unit.name }, 'stopped')
      } catch (err) {
        this.log.error({ err, unit: unit.name }, 'failed to stop cleanly')
      }
    }
  }
}
