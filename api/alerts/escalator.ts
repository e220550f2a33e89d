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
      const now = new Date()
      this.pass ??= this.service
        .releaseSilenced(now)
        .then(() => this.service.escalate(now, this.opts.remindEveryMs))
        .catch((err: unknown) => this.log.error({ err }, 'deadline check failed'))
        .finally(() => (this.pass = undefined))
    }, this.opts.checkEveryMs)
    return Promise.resolve()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.pass
  }
}
