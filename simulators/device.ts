// A device that talks to the broker itself: each tick, one telemetry message on its own topic
// (or nothing when silent, or garbage when its payload is faulty).
import { topics, type DeviceKind } from '../core/contract.ts'
import { badDevicePayload } from './bad-payloads.ts'
import type { AnyModel } from './models/index.ts'
import type { Rng } from './rng.ts'

export interface OutgoingMessage {
  topic: string
  payload: string
  /** Telemetry entries the message carries (0 for a malformed one). */
  readings: number
}

/** Something the fleet drives with a clock and publishes for over one MQTT connection. */
export interface SimUnit {
  readonly id: string
  readonly kind: DeviceKind
  tick(nowMs: number): OutgoingMessage[]
}

export class DeviceUnit implements SimUnit {
  private seq = 0

  constructor(
    readonly id: string,
    readonly model: AnyModel,
    /** For choosing bad payloads; apart from the model's, so faults do not change its physics. */
    private readonly rng: Rng,
  ) {}

  get kind(): DeviceKind {
    return this.model.kind
  }

  tick(nowMs: number): OutgoingMessage[] {
    // A hung sensor board: the connection (and its keepalive) lives on, the data stops.
    if (this.model.has('silent')) return []
    const entry = { ts: Math.round(nowMs), seq: this.seq++, values: this.model.step(nowMs) }
    const topic = topics.deviceTelemetry(this.id)
    if (this.model.has('bad_payload')) {
      const bad = badDevicePayload(this.kind, entry, this.rng)
      return [{ topic, payload: bad.payload, readings: bad.variant === 'malformed_json' ? 0 : 1 }]
    }
    return [{ topic, payload: JSON.stringify(entry), readings: 1 }]
  }
}
