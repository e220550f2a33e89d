// A payload for a known device, from an entry point other than our MQTT topics (the HTTP device
// API, the OneNET and CTWing receivers, the ChirpStack integration): decoded by the device's profile when it has one with a
// decoder, else read as the telemetry contract; then submitted to the one pipeline
// (core/telemetry-sink.ts), which settles after the commit.
import type { Queryable } from './db/client.ts'
import { decodePayload } from './decoders/decode.ts'
import type { DecoderSandbox } from './decoders/sandbox.ts'
import { profileSchema } from './profiles/schema.ts'
import { profileOfDevice } from './repos/profiles.ts'
import { deviceByExternalId, getDevice, type DeviceRecord } from './repos/devices.ts'
import type { IngestResult, SubmissionBody, TelemetrySink } from './telemetry-sink.ts'

export interface Intake {
  db: Queryable
  sink: TelemetrySink
  sandbox: DecoderSandbox
}

export interface DevicePayload {
  deviceId: string
  /** Recorded on dead letters where MQTT records the topic. */
  source: string
  clientId?: string | null
  bytes: Buffer
  /** The payload parsed, when the entry point parsed it already (a platform's JSON envelope). */
  json?: unknown
  fPort?: number | undefined
  receivedAt: number
  /** The time the platform gives the payload (ms); decoded entries without their own time take it. */
  ts?: number | undefined
  /** What the payload is in the telemetry contract, for a device without a decoder (a platform's data point as `{ ts, values }`). */
  contract?: unknown
  /**
   * What a network server's own codec made of the payload (ChirpStack's `object`): it stands in
   * for the profile script's `data`, so only the profile's `fields` (and `time`) still apply;
   * without `fields` its keys are the metrics.
   */
  decoded?: Record<string, unknown> | undefined
  /** The bytes are a device's own binary frame (a LoRaWAN FRMPayload), never the telemetry contract. */
  binary?: boolean
}

export async function submitDevicePayload(intake: Intake, p: DevicePayload): Promise<IngestResult> {
  return intake.sink.submit({ deviceId: p.deviceId, source: p.source, clientId: p.clientId ?? null, receivedAt: p.receivedAt, body: await bodyOf(intake, p) })
}

function undecoded(p: DevicePayload): SubmissionBody {
  if (p.binary) {
    const detail = 'the payload is binary and the device has no profile with a decoder: give the device a profile (profileId) whose decoder reads it'
    return { kind: 'rejected', code: 'no_decoder', detail, excerpt: p.bytes.toString('base64').slice(0, 200) }
  }
  if (p.contract !== undefined) return { kind: 'entries', json: p.contract }
  return p.json === undefined ? { kind: 'raw', payload: p.bytes } : { kind: 'entries', json: p.json }
}

function alreadyDecoded(p: DevicePayload, values: Record<string, unknown>): SubmissionBody {
  return { kind: 'entries', json: p.ts === undefined ? { values } : { ts: p.ts, values } }
}

async function bodyOf(intake: Intake, p: DevicePayload): Promise<SubmissionBody> {
  const stored = await profileOfDevice(intake.db, p.deviceId)
  if (!stored) return p.decoded ? alreadyDecoded(p, p.decoded) : undecoded(p)
  const profile = profileSchema.safeParse(stored.definition)
  if (!profile.success) return { kind: 'rejected', code: 'decoder_failed', detail: `the device profile "${stored.id}" no longer validates; fix it with PUT /api/v1/profiles/${stored.id}`, excerpt: null }
  const { variables } = profile.data
  let decoder = profile.data.decoder
  if (p.decoded) {
    if (decoder?.fields === undefined) return alreadyDecoded(p, p.decoded)
    decoder = { fields: decoder.fields, ...(decoder.time ? { time: decoder.time } : {}) }
  }
  if (!decoder) return undecoded(p)
  const decoded = await decodePayload({ decoder, variables }, p.decoded ? { ...p, json: p.decoded } : p, intake.sandbox)
  if (!decoded.ok) return { kind: 'rejected', code: 'decoder_failed', detail: `profile "${stored.id}": ${decoded.reason}`, excerpt: decoded.excerpt }
  const ts = p.ts
  return { kind: 'entries', json: ts === undefined ? decoded.entries : decoded.entries.map((e) => ({ ts, ...e })) }
}

/**
 * The device an NB-IoT platform's message is about: the one registered with its IMEI, else the one
 * whose id is the platform's device id. `deviceId` names it for the pipeline either way, so an
 * unregistered one is dead-lettered as `unknown_device` under a recognisable id.
 */
export async function platformDevice(db: Queryable, imei: string | undefined, platformId: string): Promise<{ device: DeviceRecord | undefined; deviceId: string }> {
  const device = imei !== undefined && imei !== '' ? await deviceByExternalId(db, { imei }) : platformId !== '' ? await getDevice(db, platformId) : undefined
  return { device, deviceId: device?.id ?? (imei !== undefined && imei !== '' ? `imei:${imei}` : platformId) }
}
