// Steps 2 and 3 of the receiver contract (intake/receiver.ts) for a payload of a known device from
// a way in other than our MQTT topics (the HTTP device API, OneNET, CTWing, ChirpStack): decoded by
// the device's profile when it has one with a decoder, else read as the telemetry contract; then
// submitted to the TelemetrySink, which settles after the commit. The device's decoder comes from
// the profile cache when the receiver has one (core/profiles/cache.ts), else from the database.
import { createHash } from 'node:crypto'
import type { Queryable } from '../core/db/client.ts'
import { decodePayload } from '../core/decoders/decode.ts'
import { readDecoding } from '../core/profiles/cache.ts'
import type { TtlCache } from '../core/ttl-cache.ts'
import { deviceByExternalId, getDevice, type DeviceRecord } from '../core/repos/devices.ts'
import type { ReceiverDeps } from './receiver.ts'
import type { IngestResult, SubmissionBody } from './telemetry-sink.ts'

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
  /** The message's identity when the sender may resend it (a platform's retry): its dead letters are then recorded once. */
  messageKey?: string | undefined
  /**
   * What a network server's own codec made of the payload (ChirpStack's `object`): it stands in
   * for the profile script's `data`, so only the profile's `fields` (and `time`) still apply;
   * without `fields` its keys are the metrics.
   */
  decoded?: Record<string, unknown> | undefined
  /** The bytes are a device's own binary frame (a LoRaWAN FRMPayload), never the telemetry contract. */
  binary?: boolean
}

export async function submitDevicePayload(intake: ReceiverDeps, p: DevicePayload): Promise<IngestResult> {
  const body = await bodyOf(intake, p)
  return intake.sink.submit({ deviceId: p.deviceId, source: p.source, clientId: p.clientId ?? null, receivedAt: p.receivedAt, body, ...(p.messageKey === undefined ? {} : { messageKey: p.messageKey }) })
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

async function bodyOf(intake: ReceiverDeps, p: DevicePayload): Promise<SubmissionBody> {
  const decoding = intake.profiles ? await intake.profiles.get(intake.db, p.deviceId) : await readDecoding(intake.db, p.deviceId)
  if (!decoding || decoding.profileId === null) return p.decoded ? alreadyDecoded(p, p.decoded) : undecoded(p)
  const id = decoding.profileId
  if ('invalid' in decoding) return { kind: 'rejected', code: 'decoder_failed', detail: `the device profile "${id}" no longer validates; fix it with PUT /api/v1/profiles/${id}`, excerpt: null }
  let profile = decoding.decoder
  if (p.decoded) {
    // The network server's codec stands in for the script: only the profile's mapping still applies.
    const fields = profile?.decoder.fields
    if (!profile || fields === undefined) return alreadyDecoded(p, p.decoded)
    const time = profile.decoder.time
    profile = { ...profile, decoder: { fields, ...(time ? { time } : {}) } }
  }
  if (!profile) return undecoded(p)
  const decoded = await decodePayload(profile, p.decoded ? { ...p, json: p.decoded } : p, intake.sandbox, `profile:${id}`)
  if (!decoded.ok) return { kind: 'rejected', code: 'decoder_failed', detail: `profile "${id}": ${decoded.reason}`, excerpt: decoded.excerpt }
  const ts = p.ts
  return { kind: 'entries', json: ts === undefined ? decoded.entries : decoded.entries.map((e) => ({ ts, ...e })) }
}

/**
 * The device an NB-IoT platform's message is about: the one registered with its IMEI, else — only
 * if that device opted in (`platformIdFallback`) — the one whose id is the platform's device id.
 * A platform token once reached every registered device this way, MQTT-only ones included
 * (issue 18); a device found by id without the opt-in comes back as `refused`, with what to do.
 * `deviceId` names the device for the pipeline either way, so an unregistered or refused one is
 * dead-lettered as `unknown_device` under a recognisable id.
 * With `cache`, a device found is remembered (a OneNET push of five data points read it five
 * times); an unknown one is not, so a device registered a moment later is found at once.
 */
export async function platformDevice(
  db: Queryable,
  imei: string | undefined,
  platformId: string,
  cache?: TtlCache<DeviceRecord>,
): Promise<{ device: DeviceRecord | undefined; deviceId: string; refused?: string }> {
  const byImei = imei !== undefined && imei !== ''
  const key = byImei ? `imei:${imei}` : `id:${platformId}`
  let device = cache?.get(key)
  if (!device) {
    device = byImei ? await deviceByExternalId(db, { imei }) : platformId !== '' ? await getDevice(db, platformId) : undefined
    if (device) cache?.set(key, device)
  }
  if (device && !byImei && !device.platformIdFallback) {
    const refused = `device "${device.id}" is not registered for platform pushes: register its IMEI (PATCH /api/v1/devices/${device.id} {"imei": "…"}), or let pushes name it by id ({"platformIdFallback": true})`
    return { device: undefined, deviceId: device.id, refused }
  }
  return { device, deviceId: device?.id ?? (byImei ? `imei:${imei}` : platformId) }
}

/** A platform message for a device it may not write to (platformDevice's `refused`): one dead letter. */
export function submitRefused(intake: ReceiverDeps, p: Pick<DevicePayload, 'deviceId' | 'source' | 'clientId' | 'receivedAt' | 'messageKey'>, detail: string, excerpt: string | null): Promise<IngestResult> {
  return intake.sink.submit({
    deviceId: p.deviceId,
    source: p.source,
    clientId: p.clientId ?? null,
    receivedAt: p.receivedAt,
    body: { kind: 'rejected', code: 'unknown_device', detail, excerpt },
    ...(p.messageKey === undefined ? {} : { messageKey: p.messageKey }),
  })
}

/**
 * A platform message's identity for its dead letters (core/repos/dead-letters.ts deadLetterKey):
 * the SHA-256 of the message as parsed from the platform's JSON — device, time, data stream and
 * value together — so a resend gives the same key and a distinct message another.
 */
export function messageKeyOf(message: unknown): string {
  return createHash('sha256').update(JSON.stringify(message)).digest('base64url')
}
