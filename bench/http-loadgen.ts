// A load-generator process for the HTTP entry points (bench/integrations.ts): `concurrency`
// clients, each with one request outstanding at a time over keep-alive connections (Node's fetch,
// undici), push one entry of each device's shape (bench/payloads.ts, 5 readings on average)
// through the device API, as OneNET or as CTWing (simulators/http.ts builds the requests the way
// each platform sends them). Latency is push → 200 (the receivers answer after the commit) of the
// requests started inside the measured interval; readings are the `stored` counts of those 200s.
// Every device pushes once before the warm-up starts: that first push pays the device's login.
// Its own process, as the MQTT load generators, so the server's event loop measures the server.
import { LatencyHistogram, type HistogramJson } from './histogram.ts'
import { DeviceClock, EntryBuilder, shapeOf } from './payloads.ts'
import type { LoadClient } from './protocol.ts'
import { pushRequests, type HttpTarget } from '../simulators/http.ts'

export interface HttpLoadConfig {
  target: HttpTarget
  clients: LoadClient[]
  concurrency: number
  warmupMs: number
  measureMs: number
}

export interface HttpLoadResult {
  /** The first push of every device, before the clock starts: its login (one scrypt) is not the path's steady cost, as an MQTT login is not. */
  firstPassMs: number
  requests: number
  readings: number
  errors: number
  firstError: string | undefined
  latency: HistogramJson
}

interface Device {
  client: LoadClient
  entry: EntryBuilder
  clock: DeviceClock
}

async function run(cfg: HttpLoadConfig): Promise<HttpLoadResult> {
  const devices: Device[] = cfg.clients.map((client) => ({ client, entry: new EntryBuilder(shapeOf(client.kind)), clock: new DeviceClock() }))
  const latency = new LatencyHistogram()
  const result: HttpLoadResult = { firstPassMs: 0, requests: 0, readings: 0, errors: 0, firstError: undefined, latency: latency.toJSON() }
  /**
   * Pushes one entry of device `d`; resolves with the readings stored (0 on an error, counted).
   * `patient`: a 503 is retried after its Retry-After, as a device does when it first logs in.
   */
  const push = async (d: Device, patient = false): Promise<number> => {
    const entry = JSON.parse(d.entry.json(d.clock.next())) as { ts: number; values: Record<string, number | boolean> }
    let stored = 0
    for (const req of pushRequests(cfg.target, d.client.id, d.client.secret, [entry])) {
      try {
        let res = await fetch(req.url, { method: 'POST', body: req.body, headers: req.headers })
        for (let tries = 0; patient && res.status === 503 && tries < 30; tries++) {
          await res.arrayBuffer()
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000))
          res = await fetch(req.url, { method: 'POST', body: req.body, headers: req.headers })
        }
        const body = (await res.json()) as { stored?: number; message?: string }
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${(body.message ?? '').slice(0, 60)}`)
        stored += body.stored ?? 0
      } catch (err) {
        result.errors++
        result.firstError ??= err instanceof Error ? err.message : String(err)
      }
    }
    return stored
  }
  const workers = (fn: (k: number) => Promise<void>) => Promise.all(Array.from({ length: cfg.concurrency }, (_, k) => fn(k)))
  const firstPass = performance.now()
  await workers(async (k) => {
    for (let i = k; i < devices.length; i += cfg.concurrency) {
      const d = devices[i]
      if (d) await push(d, true)
    }
  })
  result.firstPassMs = performance.now() - firstPass
  result.errors = 0
  result.firstError = undefined
  const measureFrom = Date.now() + cfg.warmupMs
  const measureUntil = measureFrom + cfg.measureMs
  await workers(async (k) => {
    for (let i = k; Date.now() < measureUntil; i += cfg.concurrency) {
      const d = devices[i % devices.length]
      if (!d) return
      const measured = Date.now() >= measureFrom
      const started = performance.now()
      const stored = await push(d)
      if (measured) {
        result.readings += stored
        latency.record(performance.now() - started)
        result.requests++
      }
    }
  })
  result.latency = latency.toJSON()
  return result
}

// As a child process: one config in over IPC, one result out, then exit.
if (process.send) {
  process.once('message', (cfg: HttpLoadConfig) => {
    run(cfg).then(
      (result) => process.send?.({ type: 'result', result }, () => process.exit(0)),
      (err: unknown) => process.send?.({ type: 'failed', message: err instanceof Error ? err.message : String(err) }, () => process.exit(1)),
    )
  })
}
