// The MQTT contract: topics, payload shapes and the metric catalogue.
// Simulators, broker, ingest, rules and API all import these; nothing re-declares them.
import { z } from 'zod'

export { DEVICE_KINDS, METRICS, metricSpec, type DeviceKind, type MetricName, type MetricSpec } from '../shared/metric-catalogue.ts'

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

/**
 * The same topics on an AMQP topic exchange, as RabbitMQ's MQTT plugin routes them
 * (rabbit_mqtt_util): `/` and `.` swapped both ways (so a `.` in a device id survives the round
 * trip) and the single-level wildcard `+` written `*`. The mapping is its own inverse.
 */
export function routingKeyOf(topic: string): string {
  return swapTopicForm(topic, '+', '*')
}

/** The MQTT topic (or filter) of a routing (or binding) key; see routingKeyOf. */
export function topicOfRoutingKey(routingKey: string): string {
  return swapTopicForm(routingKey, '*', '+')
}

function swapTopicForm(text: string, wildcard: string, into: string): string {
  let out = ''
  for (const ch of text) out += ch === '.' ? '/' : ch === '/' ? '.' : ch === wildcard ? into : ch
  return out
}

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
  decoder_failed: "the device profile's decoder could not decode the payload",
  no_decoder: 'the payload is not in the telemetry contract and the device has no profile with a decoder',
  unroutable: 'RabbitMQ acknowledged the message but routed it to no telemetry queue',
  empty_message: 'message holds no entries',
  duplicate_reading: 'a reading for this metric and time came earlier in the same message',
} as const
export type RejectReason = keyof typeof REJECT_REASONS
