// Retrying an operation against a dependency that may be down (the database), with capped
// exponential backoff, until it succeeds or the caller gives up through an AbortSignal.
import { setTimeout as sleep } from 'node:timers/promises'

export interface RetryOptions {
  signal: AbortSignal
  baseMs?: number
  maxMs?: number
  onError?: (err: unknown, attempt: number, delayMs: number) => void
}

export async function retryUntilAborted<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  let delay = opts.baseMs ?? 100
  for (let attempt = 1; ; attempt++) {
    opts.signal.throwIfAborted()
    try {
      return await fn()
    } catch (err) {
      opts.signal.throwIfAborted()
      opts.onError?.(err, attempt, delay)
      await sleep(delay, undefined, { signal: opts.signal })
      delay = Math.min(delay * 2, opts.maxMs ?? 5000)
    }
  }
}
