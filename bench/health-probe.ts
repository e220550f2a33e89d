// Is the API still answering while the ingest is busy? A worker thread (an event loop of its own,
// so the broker's stalls are not hidden by the prober's own) asks GET /health one request at a
// time, every INTERVAL_MS, for the measured interval; the bench reports p50/p99/max next to the
// scenario's throughput (issue 11: p99 ≤ 50 ms on the embedded database).
import { Worker } from 'node:worker_threads'
import { LatencyHistogram } from './histogram.ts'

const INTERVAL_MS = 20

export interface HealthResult {
  requests: number
  /** Answers other than 200, and requests that failed or timed out (5 s). */
  failures: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

// Plain JavaScript, evaluated in the worker (which has no TypeScript loader); the latencies come
// back as raw samples, at most measuredS × 1000 / INTERVAL_MS of them.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
let stop = false
const samples = []
let failures = 0
parentPort.once('message', () => { stop = true })
;(async () => {
  while (!stop) {
    const started = performance.now()
    try {
      const res = await fetch(workerData.url, { signal: AbortSignal.timeout(5000) })
      await res.arrayBuffer()
      if (res.status !== 200) failures++
    } catch { failures++ }
    samples.push(performance.now() - started)
    const wait = ${INTERVAL_MS} - (performance.now() - started)
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  parentPort.postMessage({ samples, failures })
})()
`

export class HealthProbe {
  private constructor(private readonly worker: Worker) {}

  static start(url: string): HealthProbe {
    return new HealthProbe(new Worker(SOURCE, { eval: true, workerData: { url } }))
  }

  async stop(): Promise<HealthResult> {
    const done = new Promise<{ samples: number[]; failures: number }>((resolve, reject) => {
      this.worker.once('message', resolve)
      this.worker.once('error', reject)
    })
    this.worker.postMessage('stop')
    const { samples, failures } = await done
    await this.worker.terminate()
    const h = new LatencyHistogram()
    for (const ms of samples) h.record(ms)
    return { requests: samples.length, failures, p50Ms: h.quantile(0.5), p99Ms: h.quantile(0.99), maxMs: h.maxMs }
  }
}

