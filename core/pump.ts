// The loop of a durable queue's worker (webhook deliveries, notifications): a pass drains what is
// due; a new event wakes it at once, a timer catches retries that come due; one pass at a time,
// and a wake-up during a pass runs one more pass after it, so nothing waits a whole poll period.
// stop() waits for the pass in flight, so a graceful restart neither loses nor repeats a send.
import type { Logger } from './log.ts'

export class Pump {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  private stopped = true

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly pollMs: number,
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  start(): void {
    this.stopped = false
    this.timer = setInterval(() => this.kick(), this.pollMs)
    this.kick()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.running
  }

  get isStopped(): boolean {
    return this.stopped
  }

  /** Runs a pass now, or once more after the current one. */
  kick(): void {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.pass()
      .catch((err: unknown) => this.log.error({ err }, `${this.what} pass failed`))
      .finally(() => {
        this.running = undefined
        if (this.again) {
          this.again = false
          this.kick()
        }
      })
  }
}

/** Capped exponential backoff: `base` before the 2nd attempt, doubling, never above `max`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), maxMs)
}
