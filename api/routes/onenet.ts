// The China Mobile OneNET HTTP push receiver (数据推送). OneNET is the client: it verifies the URL
// once with a GET, then POSTs every data point and online/offline event of the product's devices.
// Source: OneNET "HTTP推送 开发指南", open.iot.10086.cn/doc/book/application-develop/httppush/develop-manual.html
// (and the NB-IoT suite's page of the same name).
//
// - URL verification: GET ?msg=&nonce=&signature= ; signature = Base64(MD5(token + nonce + msg)).
//   On a match the body of the answer is `msg` itself.
// - Push (plaintext mode): POST { msg, msg_signature, nonce }; msg_signature = Base64(MD5(token +
//   nonce + msg)) where msg is the JSON text of the `msg` member as sent (taken from the raw body,
//   not re-serialised). `msg` is one message or, with batching, an array of them: type 1 a data
//   point { dev_id, ds_id, at, value }, type 2 online/offline { dev_id, status 0|1, at }.
// - The device is the one registered with the message's `imei` (NB-IoT), else the one whose id is
//   the OneNET dev_id. Without a decoding profile, `ds_id` is the metric and `value` its value; with
//   one, its decoder reads { ds_id, value, at, dev_id, imei, datapoints: { <ds_id>: value } } (a
//   script gets `value` as bytes when it is hex).
// - 200 only after every reading and dead letter is committed: OneNET resends what is not
//   answered 200, and a reading's unique key (device, metric, `at`) makes a resend store nothing
//   twice. An unsigned or badly signed push is refused with 401 `bad_signature`.
// - A resent message leaves no second dead letter either: each message's identity is the hash of
//   the message as OneNET sent it (dev_id, ds_id, `at` in ms, value — see messageKeyOf), which a
//   resend repeats and two distinct data points never share.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../core/db/client.ts'
import { AppError } from '../../core/errors.ts'
import { onenetSignature } from '../../core/onenet-signature.ts'
import { platformDevice, submitDevicePayload, type Intake } from '../../core/intake.ts'
import type { IngestResult } from '../../core/telemetry-sink.ts'
import { errorResponses } from '../schemas.ts'
import { ingestAnswer, RawBody, rawBodies } from './device-telemetry.ts'

/** Messages one push may carry; OneNET's batching stays far below. */
const MAX_MESSAGES = 1000

export { onenetSignature }

export function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The index of the quote that closes the string opening at `i`. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++
    else if (text[j] === '"') return j
  }
  return text.length
}

/**
 * The JSON text of the top-level member `name` of an object, exactly as it stands in `text`; the
 * signature covers those characters, which JSON.stringify of the parsed value might not reproduce.
 */
export function rawMember(text: string, name: string): string | undefined {
  let depth = 0
  let key: string | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      const end = stringEnd(text, i)
      if (depth === 1) key = text.slice(i, end + 1)
      i = end
    } else if (c === '{' || c === '[') {
      depth++
    } else if (c === '}' || c === ']') {
      depth--
    } else if (c === ':' && depth === 1 && key !== undefined) {
      if (JSON.parse(key) === name) return valueFrom(text, i + 1)
      key = undefined
    }
  }
  return undefined
}

/** The JSON value starting at `from`, up to the `,` or `}` that ends it. */
function valueFrom(text: string, from: number): string {
  let depth = 0
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (c === '"') i = stringEnd(text, i)
    else if (c === '{' || c === '[') depth++
    else if ((c === '}' || c === ']') && depth > 0) depth--
    else if (depth === 0 && (c === ',' || c === '}')) return text.slice(from, i).trim()
  }
  return text.slice(from).trim()
}

interface OneNetMessage {
  type?: unknown
  dev_id?: unknown
  imei?: unknown
  ds_id?: unknown
  at?: unknown
  value?: unknown
  status?: unknown
}

const onenet: FastifyPluginAsyncZod = async (app) => {
  const { db, intake } = app.deps
  const token = app.deps.settings.receiverTokens.onenet
  if (token === undefined) throw new Error('the OneNET receiver needs ONENET_PUSH_TOKEN (register it only when set)')
  rawBodies(app)

  app.get(
    '',
    {
      schema: {
        tags: ['receivers'],
        summary: "OneNET's URL verification: answers `msg` when the signature matches the token",
        querystring: z.object({ msg: z.string().max(1000), nonce: z.string().max(1000), signature: z.string().max(1000) }),
        response: { 200: z.string(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { msg, nonce, signature } = req.query
      if (!sameSignature(onenetSignature(token, nonce, msg), signature)) throw new AppError('bad_signature', 'signature does not match Base64(MD5(token + nonce + msg)) for the configured ONENET_PUSH_TOKEN')
      return reply.type('text/plain; charset=utf-8').send(msg)
    },
  )

  app.post(
    '',
    {
      schema: {
        tags: ['receivers'],
        summary: "OneNET's data push (plaintext mode): data points and online/offline events, answered 200 after commit",
        response: { 200: ingestAnswer, ...errorResponses },
      },
    },
    async (req) => {
      const receivedAt = Date.now()
      const text = req.body instanceof RawBody ? req.body.bytes.toString('utf8') : ''
      let envelope: { msg?: unknown; msg_signature?: unknown; nonce?: unknown }
      try {
        envelope = JSON.parse(text) as typeof envelope
      } catch {
        throw new AppError('validation_failed', 'body: expected the JSON of a OneNET push { msg, msg_signature, nonce }')
      }
      const { msg_signature: signature, nonce } = envelope
      if (typeof signature !== 'string' || typeof nonce !== 'string') throw new AppError('bad_signature', 'the push is unsigned: msg_signature and nonce are required (plaintext mode)')
      const rawMsg = rawMember(text, 'msg')
      if (rawMsg === undefined) throw new AppError('validation_failed', 'body.msg: required')
      if (!sameSignature(onenetSignature(token, nonce, rawMsg), signature)) throw new AppError('bad_signature', 'msg_signature does not match Base64(MD5(token + nonce + msg)) for the configured ONENET_PUSH_TOKEN')
      if (!intake) throw new AppError('unavailable', 'This API process does not ingest telemetry')
      const messages: unknown[] = Array.isArray(envelope.msg) ? envelope.msg : [envelope.msg]
      if (messages.length > MAX_MESSAGES) throw new AppError('validation_failed', `body.msg: at most ${MAX_MESSAGES} messages per push`)
      const results = await Promise.all(messages.map((m) => handle(db, intake, m, receivedAt)))
      const rejections = results.flatMap((r) => r.rejections).slice(0, 10)
      return { stored: results.reduce((n, r) => n + r.stored, 0), rejected: results.reduce((n, r) => n + r.rejected, 0), rejections: rejections.map((r) => ({ reasonCode: r.reasonCode, reason: r.reason })) }
    },
  )
}

/**
 * A platform message's identity for its dead letters (core/repos/dead-letters.ts deadLetterKey):
 * the SHA-256 of the message as parsed from the platform's JSON — device, time, data stream and
 * value together — so a resend gives the same key and a distinct message another.
 */
export function messageKeyOf(message: unknown): string {
  return createHash('sha256').update(JSON.stringify(message)).digest('base64url')
}

const NOTHING: IngestResult = { stored: 0, rejected: 0, rejections: [] }

async function handle(db: Db, intake: Intake, item: unknown, receivedAt: number): Promise<IngestResult> {
  if (typeof item !== 'object' || item === null) return NOTHING
  const m = item as OneNetMessage
  const imei = typeof m.imei === 'string' ? m.imei : undefined
  const devId = typeof m.dev_id === 'number' || typeof m.dev_id === 'string' ? String(m.dev_id) : ''
  const { device, deviceId } = await platformDevice(db, imei, devId, intake.platformDevices)
  const source = `onenet/${devId}`
  if (m.type === 2) {
    if (device?.enabled && (m.status === 0 || m.status === 1)) await intake.sink.setStatus(device.id, m.status === 1 ? 'online' : 'offline')
    return NOTHING
  }
  // Type 7 (command results) and anything newer carry no telemetry.
  if (m.type !== 1 || typeof m.ds_id !== 'string') return NOTHING
  const at = typeof m.at === 'number' ? m.at : undefined
  const value = m.value
  // Platforms pass numbers through as text ("81") as often as not.
  const number = typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value
  const hex = typeof value === 'string' && value.length % 2 === 0 && /^[0-9A-Fa-f]+$/.test(value)
  return submitDevicePayload(intake, {
    deviceId,
    source,
    clientId: 'onenet',
    messageKey: messageKeyOf(m),
    bytes: hex ? Buffer.from(value, 'hex') : Buffer.from(JSON.stringify(m)),
    json: { ds_id: m.ds_id, value, at, dev_id: m.dev_id, imei, datapoints: { [m.ds_id]: value } },
    contract: { ...(at === undefined ? {} : { ts: at }), values: { [m.ds_id]: number } },
    ts: at,
    receivedAt,
  })
}

export default onenet
