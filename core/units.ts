// Long-running units (broker, ingest, API, simulators, …) started one by one and stopped in
// reverse order. A unit that fails to start is stopped (its stop() must cope with a partial start),
// so are the ones already started, and the error names it.
import type { Logger } from './log.ts'

/** The longest one unit's stop() is waited for before the next unit is stopped. */
export const UNIT_STOP_MS = 4000

export interface Unit {
  readonly name: string
  start(): Promise<void>
  stop(): Promise<void>
  /** A unit that runs units of its own: those not stopped yet (for the log of a forced exit). */
  pending?(): string[]
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
  /** Units whose stop has not finished yet, during stop(): what a forced exit abandons. */
  private stopping: Unit[] = []

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

  /**
   * Stops every started unit, newest first; one unit failing to stop, or taking longer than
   * `UNIT_STOP_MS`, does not keep the others (the database last of all) from stopping, and the
   * log names it.
   */
  /** The units not stopped yet (all started ones before stop(), the rest during it), newest first. */
  pending(): string[] {
    return [...this.stopping, ...this.started.slice().reverse()].map((u) => {
      const inner = u.pending?.() ?? []
      return inner.length > 0 ? `${u.name} (${inner.join(', ')})` : u.name
    })
  }

  async stop(): Promise<void> {
    this.stopping = this.started.splice(0).reverse()
    for (const unit of [...this.stopping]) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), UNIT_STOP_MS)
      })
      try {
        const outcome = await Promise.race([unit.stop().then(() => 'stopped' as const), late])
        if (outcome === 'late') this.log.error({ unit: unit.name, waitedMs: UNIT_STOP_MS }, 'did not stop in time; stopping the rest')
        else this.log.debug({ unit: unit.name }, 'stopped')
      } catch (err) {
        this.log.error({ err, unit: unit.name }, 'failed to stop cleanly')
      } finally {
        clearTimeout(timer)
        this.stopping = this.stopping.filter((u) => u !== unit)
      }
    }
  }
}
