// Teardown steps registered as resources are acquired and run newest first, exactly once,
// whether the bench ends normally, fails, is interrupted (Ctrl-C) or overruns its time limit.
export class Cleanup {
  private readonly steps: { name: string; fn: () => Promise<void> }[] = []
  private running: Promise<void> | undefined

  add(name: string, fn: () => Promise<void>): void {
    this.steps.push({ name, fn })
  }

  run(): Promise<void> {
    this.running ??= this.runAll()
    return this.running
  }

  /**
   * SIGINT / SIGTERM tear everything down (the scratch database is dropped) and exit 130 / 143.
   * The bench is a finite command, so it does not use the CLI's graceful-shutdown hook: that one
   * exits 0 once the event loop drains, which would hide a failed run's exit code.
   * Returns the function that removes the handlers.
   */
  trapSignals(): () => void {
    const on = (signal: NodeJS.Signals, code: number) => {
      const handler = () => {
        console.error(`bench: ${signal}, cleaning up`)
        void this.run().finally(() => process.exit(code))
      }
      process.once(signal, handler)
      return () => process.off(signal, handler)
    }
    const off = [on('SIGINT', 130), on('SIGTERM', 143)]
    return () => {
      for (const f of off) f()
    }
  }

  /** The hard limit of the whole run: past it, tear down and exit 1. Returns the canceller. */
  deadline(ms: number): () => void {
    const timer = setTimeout(() => {
      console.error(`bench: still running after ${Math.round(ms / 1000)} s, giving up`)
      void this.run().finally(() => process.exit(1))
    }, ms)
    timer.unref()
    return () => clearTimeout(timer)
  }

  private async runAll(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.fn()
      } catch (err) {
        // One failing step (a dropped connection) must not leave the later ones undone.
        console.error(`bench: cleanup step "${step.name}" failed:`, err)
      }
    }
  }
}
