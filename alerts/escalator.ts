// Checks alert deadlines on a timer: alerts whose maintenance window has ended enter the normal
// path first (their deadlines start then), then a missed acknowledge deadline escalates and
// reminds until someone acknowledges; a missed resolve deadline escalates once. With several API
// processes it runs in the advisory-lock leader only (core/leader.ts, cli/stack.ts); each alert is
// still escalated in a transaction that locks and rechecks its row, so a take-over cannot repeat one.
import type { Logger } from '../core/log.ts'
import { Pump } from '../core/pump.ts'
import type { Unit } from '../core/units.ts'
import type { AlertService } from './service.ts'

export class Escalator implements Unit {
  readonly name = 'escalator'
  private readonly pump: Pump

  constructor(
    private readonly service: AlertService,
    private readonly opts: { checkEveryMs: number; remindEveryMs: number },
    private readonly log: Logger,
  ) {
    this.pump = new Pump(() => this.check(new Date()), opts.checkEveryMs, log, 'deadline check')
  }

  start(): Promise<void> {
    this.pump.start()
    return Promise.resolve()
  }

  stop(): Promise<void> {
    return this.pump.stop()
  }

  /** One pass as of `now`; a failure of one step is logged and does not keep the other from running. */
  async check(now: Date): Promise<void> {
    await this.service.releaseSilenced(now).catch((err: unknown) => this.log.error({ err }, 'ending maintenance windows failed'))
    await this.service.escalate(now, this.opts.remindEveryMs).catch((err: unknown) => this.log.error({ err }, 'deadline check failed'))
  }
}
