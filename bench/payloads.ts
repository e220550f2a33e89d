// Telemetry the load generators send, valid under the contract: catalogue metrics, values inside
// each metric's range, epoch-ms timestamps that never repeat for a device (the readings key is
// (device, metric, ts), so a repeat would be skipped as a duplicate and not measured as a write).
import { METRICS, type DeviceKind, type MetricName, type MetricSpec } from '../core/contract.ts'

export interface Shape {
  kind: DeviceKind
  metrics: readonly string[]
}

function shape<K extends DeviceKind>(kind: K, metrics: readonly MetricName<K>[]): Shape {
  return { kind, metrics }
}

/** Single devices take turns through these: 6, 5 and 4 metrics per message, 5 on average. */
export const DEVICE_SHAPES: readonly Shape[] = [
  shape('manhole', ['cover_tilt_deg', 'cover_open', 'water_level_cm', 'gas_lel_pct', 'battery_pct', 'rssi_dbm']),
  shape('elevator', ['running', 'speed_mps', 'car_load_kg', 'vibration_mg', 'machine_room_temp_c']),
  shape('fire_tank', ['water_level_m', 'water_temp_c', 'outlet_pressure_kpa', 'battery_pct']),
]

/** Gateway children are LoRa manholes; each entry carries these five metrics. */
export const CHILD_SHAPE = shape('manhole', ['cover_tilt_deg', 'cover_open', 'water_level_cm', 'gas_lel_pct', 'battery_pct'])

/** Every gateway message carries exactly this many readings. */
export const GATEWAY_READINGS = 100
const ENTRIES_PER_GATEWAY_MESSAGE = GATEWAY_READINGS / CHILD_SHAPE.metrics.length

export function shapeOf(kind: DeviceKind): Shape {
  return DEVICE_SHAPES.find((s) => s.kind === kind) ?? CHILD_SHAPE
}

function specOf(kind: DeviceKind, metric: string): MetricSpec {
  const specs: Record<string, MetricSpec> = METRICS[kind]
  const spec = specs[metric]
  if (!spec) throw new Error(`bench: "${metric}" is not a ${kind} metric`)
  return spec
}

/** A random value inside the metric's range, as JSON. Ranges have integer bounds, so rounding stays inside. */
export function randomValue(spec: MetricSpec): string {
  if (spec.boolean) return Math.random() < 0.5 ? 'true' : 'false'
  return String(Math.round((spec.min + Math.random() * (spec.max - spec.min)) * 100) / 100)
}

/** Builds one entry's JSON by concatenation: JSON.stringify of an object costs the generator more. */
export class EntryBuilder {
  private readonly fields: { key: string; spec: MetricSpec }[]

  constructor(readonly shape: Shape) {
    this.fields = shape.metrics.map((m) => ({ key: `"${m}":`, spec: specOf(shape.kind, m) }))
  }

  get readings(): number {
    return this.fields.length
  }

  json(ts: number): string {
    let values = ''
    for (const f of this.fields) values += (values === '' ? '' : ',') + f.key + randomValue(f.spec)
    return `{"ts":${ts},"values":{${values}}}`
  }
}

/** Per-device clock: now, or one millisecond after the device's last timestamp if that is later. */
export class DeviceClock {
  private last = 0

  next(): number {
    this.last = Math.max(this.last + 1, Date.now())
    return this.last
  }
}

export interface Message {
  payload: string
  readings: number
}

/** A single device's messages: one entry with all its shape's metrics. */
export function deviceMessages(kind: DeviceKind): () => Message {
  const entry = new EntryBuilder(shapeOf(kind))
  const clock = new DeviceClock()
  return () => ({ payload: entry.json(clock.next()), readings: entry.readings })
}

/** A gateway's messages: 100 readings, entries spread over its children in turn. */
export function gatewayMessages(children: readonly string[]): () => Message {
  if (children.length === 0) throw new Error('bench: a gateway needs at least one child')
  const entry = new EntryBuilder(CHILD_SHAPE)
  const clocks = children.map(() => new DeviceClock())
  let cursor = 0
  return () => {
    const byChild = new Map<number, string[]>()
    for (let i = 0; i < ENTRIES_PER_GATEWAY_MESSAGE; i++) {
      const c = cursor
      cursor = (cursor + 1) % children.length
      const list = byChild.get(c) ?? []
      list.push(entry.json(clocks[c]?.next() ?? Date.now()))
      byChild.set(c, list)
    }
    const parts = [...byChild].map(([c, list]) => `"${children[c] ?? ''}":[${list.join(',')}]`)
    return { payload: `{${parts.join(',')}}`, readings: GATEWAY_READINGS }
  }
}
