// Checks alert deadlines on a timer: alerts whose maintenance window has ended enter the normal
// path first (their deadlines start then), then a missed acknowledge deadline escalates and
// reminds until someone acknowledges; a missed resolve deadline escalates once.
import type { Logger } from '../../core/log.ts'
import type { Unit } from '../../core/units.ts'
import type { AlertService } from './service.ts'

export class Escalator implements Unit {
  readonly name = 'escalator'
  private timer: NodeJS.Timeout | undefined
  private pass: Promise<unknown> | undefined

  constructor(
    private readonly service: AlertService,
    private readonly opts: { checkEveryMs: number; remindEveryMs: number },
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    this.timer = setInterval(() => {
      // One pass at a time: a slow database must not pile passes up.
      this.pass ??= this.check(new Date()).finally(() => (this.pass = undefined))
    }, this.opts.checkEveryMs)
    return Promise.resolve()
  }

  /** One pass; a failure of one step is logged and does not keep the other from running. */
  private async check(now: Date): Promise<void> {
    await this.service.releaseSilenced(now).catch((err: unknown) => this.log.error({ err }, 'ending maintenance windows failed'))
    await this.service.escalate(now, this.opts.remindEveryMs).catch((err: unknown) => this.log.error({ err }, 'deadline check failed'))
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.pass
  }
}
