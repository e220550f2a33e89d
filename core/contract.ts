// The MQTT contract: topics, payload shapes and the metric catalogue.
// Simulators, broker, ingest, rules and API all import these; nothing re-declares them.
import { z } from 'zod'

export const DEVICE_KINDS = ['manhole', 'fire_tank', 'elevator', 'gateway'] as const
export type DeviceKind = (typeof DEVICE_KINDS)[number]

export interface MetricSpec {
  unit: string
  /** Physical range: a reading outside it is a sensor or wiring fault, not a measurement. */
  min: number
  max: number
  boolean?: true
  description: string
}

const bool = (description: string): MetricSpec => ({ unit: 'bool', min: 0, max: 1, boolean: true, description })
const battery: MetricSpec = { unit: '%', min: 0, max: 100, description: 'battery charge' }
const rssi: MetricSpec = { unit: 'dBm', min: -140, max: 0, description: 'radio signal strength' }

/** The metric catalogue per device kind. Booleans are stored as 0/1. */
export const METRICS = {
  manhole: {
    cover_tilt_deg: { unit: 'deg', min: 0, max: 90, description: 'cover tilt from horizontal' },
    cover_open: bool('cover lifted off its seat'),
    water_level_cm: { unit: 'cm', min: 0, max: 1000, description: 'water level above the well floor' },
    gas_lel_pct: { unit: '%LEL', min: 0, max: 100, description: 'combustible gas, % of lower explosive limit' },
    battery_pct: battery,
    rssi_dbm: rssi,
  },
  fire_tank: {
    water_level_m: { unit: 'm', min: 0, max: 30, description: 'water depth in the tank' },
    water_temp_c: { unit: '°C', min: -40, max: 80, description: 'water temperature' },
    outlet_pressure_kpa: { unit: 'kPa', min: 0, max: 2500, description: 'pressure at the outlet main' },
    battery_pct: battery,
  },
  elevator: {
    running: bool('car in motion'),
    speed_mps: { unit: 'm/s', min: 0, max: 20, description: 'car speed' },
    car_load_kg: { unit: 'kg', min: 0, max: 5000, description: 'car load' },
    vibration_mg: { unit: 'mg', min: 0, max: 10_000, description: 'car vibration, RMS' },
    door_faults: { unit: 'count', min: 0, max: 10_000, description: 'door faults since the last report' },
    trapped: bool('passenger entrapment detected'),
    machine_room_temp_c: { unit: '°C', min: -40, max: 100, description: 'machine room temperature' },
  },
  gateway: {
    rssi_dbm: rssi,
    children_online: { unit: 'count', min: 0, max: 10_000, description: 'child devices heard recently' },
  },
} as const satisfies Record<DeviceKind, Record<string, MetricSpec>>

export type MetricName<K extends DeviceKind = DeviceKind> = keyof (typeof METRICS)[K] & string

export function metricSpec(kind: DeviceKind, metric: string): MetricSpec | undefined {
  const specs: Record<string, MetricSpec> = METRICS[kind]
  return Object.hasOwn(specs, metric) ? specs[metric] : undefined
}

// ---- Topics ---------------------------------------------------------------------------------

export const TOPIC_ROOT = 'hb/v1'
/** Device and gateway ids: short, printable, and safe inside a topic level. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/
export const idSchema = z.string().regex(ID_PATTERN, 'expected 1–64 characters of A–Z, a–z, 0–9, _ . : - (not starting with a symbol)')

export const topics = {
  deviceTelemetry: (deviceId: string) => `${TOPIC_ROOT}/devices/${deviceId}/telemetry`,
  deviceStatus: (deviceId: string) => `${TOPIC_ROOT}/devices/${deviceId}/status`,
  gatewayTelemetry: (gatewayId: string) => `${TOPIC_ROOT}/gateways/${gatewayId}/telemetry`,
  /** Filters a consumer (ingest, rules) subscribes to. */
  allTelemetry: [`${TOPIC_ROOT}/devices/+/telemetry`, `${TOPIC_ROOT}/gateways/+/telemetry`],
  allStatus: `${TOPIC_ROOT}/devices/+/status`,
} as const

export type ParsedTopic =
  | { type: 'device-telemetry'; deviceId: string }
  | { type: 'device-status'; deviceId: string }
  | { type: 'gateway-telemetry'; gatewayId: string }

/** Parses a topic of the contract; anything else is undefined. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/')
  if (parts.length !== 5 || parts[0] !== 'hb' || parts[1] !== 'v1') return undefined
  const [, , scope, id, leaf] = parts
  if (id === undefined || !ID_PATTERN.test(id)) return undefined
  if (scope === 'devices' && leaf === 'telemetry') return { type: 'device-telemetry', deviceId: id }
  if (scope === 'devices' && leaf === 'status') return { type: 'device-status', deviceId: id }
  if (scope === 'gateways' && leaf === 'telemetry') return { type: 'gateway-telemetry', gatewayId: id }
  return undefined
}

export const DEVICE_STATUS = ['online', 'offline'] as const
export type DeviceStatus = (typeof DEVICE_STATUS)[number]

// ---- Payloads -------------------------------------------------------------------------------

/** epoch milliseconds, or an RFC 3339 date-time with an offset. */
export const timestampSchema = z.union([
  z.number().int().nonnegative(),
  z.iso.datetime({ offset: true }),
])

export const telemetryEntrySchema = z.strictObject({
  ts: timestampSchema.optional(),
  seq: z.number().int().nonnegative().optional(),
  values: z.record(z.string().min(1).max(64), z.union([z.number(), z.boolean()])),
})
export type TelemetryEntry = z.infer<typeof telemetryEntrySchema>

/** Entries one message may carry (per device, in a gateway message). */
export const MAX_ENTRIES = 10_000

/** `hb/v1/devices/{id}/telemetry`: one entry or a batch of entries. */
export const deviceTelemetrySchema = z.union([telemetryEntrySchema, z.array(telemetryEntrySchema).max(MAX_ENTRIES)])

/** `hb/v1/gateways/{id}/telemetry`: entries per child device. */
export const gatewayTelemetrySchema = z.record(idSchema, z.array(telemetryEntrySchema).max(MAX_ENTRIES))

/** The largest payload ingest will parse; the broker refuses bigger packets outright. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024

// ---- Dead-letter reasons --------------------------------------------------------------------

export const REJECT_REASONS = {
  malformed_json: 'payload is not valid JSON',
  schema_violation: 'payload does not match the telemetry contract',
  unknown_device: 'no enabled device with this id is registered',
  not_a_child: 'device is not registered as a child of this gateway',
  unknown_metric: 'metric is not in the catalogue for this device kind',
  out_of_range: "value is outside the metric's physical range",
  future_timestamp: 'timestamp is too far in the future',
  invalid_timestamp: 'timestamp is not a valid time',
  payload_too_large: 'payload exceeds the size limit',
  unknown_topic: 'topic is not part of the contract',
  too_old: 'timestamp is older than the past limit',
  too_deep: 'payload is nested deeper than the limit',
  too_many_entries: 'message holds more entries or values than the limit',
  rejected_by_database: 'the database refused to store this message',
  internal_error: 'the message could not be processed',
} as const
export type RejectReason = keyof typeof REJECT_REASONS
