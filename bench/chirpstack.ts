// The ChirpStack v4 integration under load: one publisher standing in for ChirpStack (one MQTT
// client, as ChirpStack is) sends `up` events with real EM320-TILT frames through the broker at
// CHIRPSTACK_MQTT_URL (default the Mosquitto on 127.0.0.1:1883) to the integration, which decodes
// each with the device's profile in the sandbox and commits through the group-commit writer.
//
// Measured: readings stored per second, and publish → commit per event (the event's `time` is its
// publish time; the commit is seen where the integration's submission to the pipeline settles,
// in this process, on the same clock). The publisher keeps at most OUTSTANDING events between
// publish and commit: Mosquitto sends a subscriber at most 20 unacknowledged QoS 1 messages
// (max_inflight_messages) and queues the rest, so a larger backlog would only measure its queue.
// The ack window is CHIRPSTACK_ACK_WINDOW from the environment (default 0: PUBACK after commit,
// which makes the integration take one event per commit).
import { randomBytes, randomUUID } from 'node:crypto'
import mqtt from 'mqtt'
import { loadConfig } from '../core/config.ts'
import { silentLogger } from '../core/log.ts'
import { createMetrics } from '../core/metrics.ts'
import { SHIPPED_PROFILES } from '../core/profiles/catalogue.ts'
import { profileSchema } from '../core/profiles/schema.ts'
import { provisionCommunity, provisionDevices } from '../core/provision.ts'
import { updateDevice } from '../core/repos/devices.ts'
import { seedProfiles } from '../core/repos/profiles.ts'
import type { SubmissionBody, TelemetrySink } from '../intake/telemetry-sink.ts'
import { ChirpStackIntegration, chirpstackTopic } from '../intake/chirpstack.ts'
import { IngestService } from '../ingest/service.ts'
import { EM320_TILT_FPORT, em320TiltFrame, simulatedDevEui, upEvent } from '../simulators/chirpstack.ts'
import { Cleanup } from './cleanup.ts'
import { openBenchDatabase } from './database.ts'
import { LatencyHistogram } from './histogram.ts'

export interface BenchFigure {
  path: string
  readingsPerSec: number
  p99Ms: number
  note?: string
}

/** Events between publish and commit at most (Mosquitto's default max_inflight_messages). */
const OUTSTANDING = 20
const WARMUP_MS = 2000
/** Readings one EM320-TILT frame carries (battery and tilt). */
const READINGS_PER_EVENT = 2

/** The `ts` of each entry a submission carries (the event's time, as decoded). */
function timesOf(body: SubmissionBody): number[] {
  if (body.kind !== 'entries') return []
  const entries: unknown[] = Array.isArray(body.json) ? body.json : [body.json]
  return entries.flatMap((e) => (typeof e === 'object' && e !== null && typeof (e as { ts?: unknown }).ts === 'number' ? [(e as { ts: number }).ts] : []))
}

export async function benchChirpstack(opts: { databaseUrl: string | undefined; seconds: number; devices: number }): Promise<BenchFigure> {
  const cfg = loadConfig()
  const url = cfg.chirpstack.url ?? 'mqtt://127.0.0.1:1883'
  const cleanup = new Cleanup()
  try {
    const bench = await openBenchDatabase(opts.databaseUrl ? 'postgres' : 'embedded', opts.databaseUrl, silentLogger)
    cleanup.add('database', () => bench.close())
    const { db } = bench
    await seedProfiles(db, SHIPPED_PROFILES.map((p) => profileSchema.parse(p)).map((p) => ({ id: p.id, kind: p.kind, definition: p })))
    await provisionCommunity(db, { id: 'co-bench', name: 'Bench Property Co.' }, { id: 'cm-bench', name: 'Bench Community' })
    const ids = Array.from({ length: opts.devices }, (_, i) => `cs-bench-${i + 1}`)
    await provisionDevices(db, ids.map((id) => ({ id, kind: 'manhole' as const, communityId: 'cm-bench' })))
    const devices = ids.map((id) => ({ id, devEui: simulatedDevEui(id) }))
    for (const d of devices) await updateDevice(db, d.id, { devEui: d.devEui, profileId: 'milesight-em320-tilt' })

    const ingest = new IngestService(db, cfg.ingest, silentLogger, createMetrics({ defaults: false }))
    await ingest.start()
    cleanup.add('ingest', () => ingest.stop())

    let measureFrom = Number.POSITIVE_INFINITY
    let measureUntil = Number.POSITIVE_INFINITY
    let stored = 0
    let outstanding = 0
    let wake: (() => void) | undefined
    const latency = new LatencyHistogram()
    // The pipeline as the integration sees it, with the commit of each event timed.
    const sink: TelemetrySink = {
      submit: async (sub) => {
        const result = await ingest.pipeline.submit(sub)
        const committed = Date.now()
        if (committed >= measureFrom && committed < measureUntil) {
          stored += result.stored
          for (const ts of timesOf(sub.body)) latency.record(committed - ts)
        }
        outstanding--
        wake?.()
        return result
      },
      setStatus: (deviceId, status) => ingest.pipeline.setStatus(deviceId, status),
      handle: (msg) => ingest.pipeline.handle(msg),
    }
    const app = randomUUID()
    const clientId = `hb-bench-chirpstack-${randomBytes(4).toString('hex')}`
    const unit = new ChirpStackIntegration(db, sink, { url, clientId, applicationId: app, ackWindow: cfg.chirpstack.ackWindow, maxEventBytes: cfg.chirpstack.maxEventBytes, sessions: cfg.chirpstack.sessions }, silentLogger)
    await unit.start()
    cleanup.add('integration', async () => {
      await unit.stop()
      // Drop the persistent sessions (a clean connect discards one).
      const n = cfg.chirpstack.sessions
      for (const id of n === 1 ? [clientId] : Array.from({ length: n }, (_, i) => `${clientId}-${i + 1}`)) {
        const c = await mqtt.connectAsync(url, { clientId: id, clean: true, reconnectPeriod: 0 })
        await c.endAsync()
      }
    })

    const pub = await mqtt.connectAsync(url, { clientId: `${clientId}-pub`, reconnectPeriod: 0 })
    cleanup.add('publisher', () => pub.endAsync())
    const started = Date.now()
    measureFrom = started + WARMUP_MS
    measureUntil = measureFrom + opts.seconds * 1000
    const last = new Map<string, number>()
    for (let n = 0; Date.now() < measureUntil; n++) {
      if (outstanding >= OUTSTANDING) {
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, 100)
        })
        continue
      }
      const d = devices[n % devices.length]
      if (!d) break
      // A time per device that never repeats: it names the event at its commit.
      const time = Math.max(Date.now(), (last.get(d.id) ?? 0) + 1)
      last.set(d.id, time)
      const event = upEvent({ applicationId: app, devEui: d.devEui, deviceName: d.id, time, fCnt: n, fPort: EM320_TILT_FPORT, data: em320TiltFrame(n % 101, n % 30) })
      outstanding++
      void pub.publishAsync(chirpstackTopic(app, d.devEui, 'up'), JSON.stringify(event), { qos: 1 }).catch(() => undefined)
    }
    const window = cfg.chirpstack.ackWindow
    const sessions = cfg.chirpstack.sessions
    return {
      path: 'ChirpStack MQTT (Mosquitto) → integration → commit',
      readingsPerSec: Math.round(stored / opts.seconds),
      p99Ms: Math.round(latency.quantile(0.99) * 10) / 10,
      note: `${opts.devices} EM320-TILT devices, ${READINGS_PER_EVENT} readings per up event, ≤ ${OUTSTANDING} events between publish and commit, ${sessions} session${sessions === 1 ? '' : 's'}, ack window ${window}${window === 0 ? ' (PUBACK after commit)' : ''}; ${bench.engine}`,
    }
  } finally {
    await cleanup.run()
  }
}
