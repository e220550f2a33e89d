// Option (a) of issue 11, measured by `bench ingest --databases pglite-worker`: PGlite on disk in a
// worker thread, so its statements run on the second core while the broker's event loop stays
// free. PGlite's own worker API (`@electric-sql/pglite/worker`) is made for browser tabs (leader
// election through `navigator.locks`, which Node 20 lacks), hence this small wrapper.
//
// PGlite is one connection: a transaction holds it from BEGIN to COMMIT, so every statement outside
// a transaction waits for the transaction in progress (a FIFO lock here), as in-process PGlite does.
import { Worker } from 'node:worker_threads'
import { soleOwnerLock, type AdvisoryLock, type Db, type Transaction } from '../core/db/client.ts'

type Op =
  | { op: 'query'; sql: string; params: readonly unknown[] }
  | { op: 'exec'; sql: string }
  | { op: 'copy'; sql: string; data: string }
  | { op: 'listen' | 'unlisten'; channel: string }
  | { op: 'close' }

interface Reply {
  id?: number
  result?: unknown
  error?: { message: string; code?: string }
  notify?: string
  payload?: string
  ready?: boolean
}

export class PgliteWorkerDb implements Db {
  readonly engine = 'pglite'
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private readonly listeners = new Map<string, (payload: string) => void>()
  /** The tail of the FIFO of callers waiting for the one connection. */
  private tail: Promise<void> = Promise.resolve()

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: Reply) => {
      if (m.notify !== undefined) return this.listeners.get(m.notify)?.(m.payload ?? '')
      if (m.id === undefined) return
      const p = this.pending.get(m.id)
      this.pending.delete(m.id)
      if (m.error) p?.reject(Object.assign(new Error(m.error.message), { code: m.error.code }))
      else p?.resolve(m.result)
    })
    worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err)
      this.pending.clear()
    })
  }

  static async open(dataDir: string): Promise<PgliteWorkerDb> {
    const worker = new Worker(new URL('./pglite-thread.js', import.meta.url), { workerData: { dataDir } })
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve())
      worker.once('error', reject)
    })
    return new PgliteWorkerDb(worker)
  }

  tryAdvisoryLock(): Promise<AdvisoryLock | undefined> {
    return Promise.resolve(soleOwnerLock())
  }

  private call<T>(op: Op): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.worker.postMessage({ id, ...op })
    })
  }

  /** Runs `fn` once every earlier caller has finished with the connection. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn)
    this.tail = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.exclusive(() => this.call<T[]>({ op: 'query', sql, params }))
  }

  exec(sql: string): Promise<void> {
    return this.exclusive(() => this.call<undefined>({ op: 'exec', sql }))
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.call({ op: 'exec', sql: 'BEGIN' })
      try {
        const result = await fn({
          query: <R>(sql: string, params: readonly unknown[] = []) => this.call<R[]>({ op: 'query', sql, params }),
          exec: async (sql: string) => {
            await this.call({ op: 'exec', sql })
          },
          copyFrom: async (target: string, data: string) => {
            await this.call({ op: 'copy', sql: `COPY ${target} FROM '/dev/blob'`, data })
          },
        })
        await this.call({ op: 'exec', sql: 'COMMIT' })
        return result
      } catch (err) {
        await this.call({ op: 'exec', sql: 'ROLLBACK' }).catch(() => undefined)
        throw err
      }
    })
  }

  /** COPY outside a transaction (the bench's ceiling); returns the rows written. */
  copyIn(sql: string, data: string): Promise<number> {
    return this.exclusive(() => this.call<number>({ op: 'copy', sql, data }))
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    this.listeners.set(channel, handler)
    await this.call({ op: 'listen', channel })
    return async () => {
      this.listeners.delete(channel)
      await this.call({ op: 'unlisten', channel }).catch(() => undefined)
    }
  }

  async close(): Promise<void> {
    await this.exclusive(() => this.call({ op: 'close' })).catch(() => undefined)
    await this.worker.terminate()
  }
}
