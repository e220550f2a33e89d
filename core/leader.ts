// Leader election for timed jobs that scan the database (issue 11): of all the processes running
// a Leader with the same key, the one holding PostgreSQL's session-level advisory lock runs the
// units; the others try again every `retryMs` (each on one standby connection it keeps). The lock
// lives on a connection of its own (Db.tryAdvisoryLock), so a leader that dies — kill -9, a
// crash, its machine gone — loses it when
// PostgreSQL sees the connection close (at once for a dead process, whose kernel closes the
// socket; after TCP keepalive for a vanished machine), and another process takes over within
// `retryMs`. The leader also asks its lock connection every `retryMs`; one that does not answer is
// treated as lost and the units stop, so a leader cut off from the database stops leading
// instead of leading blind.
//
// Leadership is for doing a scan once rather than N times; it is not what makes a job safe. The
// jobs it runs change each item in a transaction that locks and rechecks the row (the escalator:
// alerts/service.ts), so two leaders overlapping for a moment during a take-over cannot act
// twice on one alert.
import type { Db, AdvisoryLock } from './db/client.ts'
import type { Logger } from './log.ts'
import { Controller, type Unit } from './units.ts'

/** Advisory lock keys of the leader-run job groups (bytes of a short name, far from other keys). */
export const LEADER_KEYS = {
  /** The API's deadline checker, reminders, and alert history and audit log retention. */
  apiTimers: 0x68622d746d72,
} as const

export class Leader implements Unit {
  readonly name: string
  private lock: AdvisoryLock | undefined
  private readonly controller: Controller
  private timer: NodeJS.Timeout | undefined
  private stopped = true
  private busy: Promise<void> | undefined

  constructor(
    private readonly db: Db,
    private readonly key: number,
    private readonly units: readonly Unit[],
    private readonly retryMs: number,
    private readonly log: Logger,
  ) {
    this.name = `leader(${units.map((u) => u.name).join(', ')})`
    this.controller = new Controller(log)
  }

  /** Whether this process runs the units now. */
  get leading(): boolean {
    return this.lock !== undefined
  }

  start(): Promise<void> {
    this.stopped = false
    this.tick()
    this.timer = setInterval(() => this.tick(), this.retryMs)
    return Promise.resolve()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.busy
    await this.resign()
  }

  private tick(): void {
    if (this.busy || this.stopped) return
    this.busy = (this.lock ? this.verify() : this.contend())
      .catch((err: unknown) => this.log.warn({ err }, 'leader election step failed; retrying'))
      .finally(() => (this.busy = undefined))
  }

  private async contend(): Promise<void> {
    const lock = await this.db.tryAdvisoryLock(this.key)
    if (!lock) return
    if (this.stopped) return lock.release()
    this.lock = lock
    this.log.info({ jobs: this.units.map((u) => u.name) }, 'leading: this process runs the timed jobs')
    void lock.lost.then(() => {
      if (this.lock === lock && !this.stopped) {
        this.log.warn('lost the leader lock; stopping the timed jobs until it is won again')
        void this.resign()
      }
    })
    try {
      await this.controller.start(this.units)
    } catch (err) {
      await this.resign()
      throw err
    }
  }

  private async verify(): Promise<void> {
    if (this.lock && !(await this.lock.check(this.retryMs))) {
      this.log.warn('the leader lock connection does not answer; stopping the timed jobs')
      await this.resign()
    }
  }

  private async resign(): Promise<void> {
    const lock = this.lock
    this.lock = undefined
    await this.controller.stop()
    await lock?.release()
  }
}
