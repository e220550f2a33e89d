// The China Mobile OneNET HTTP push receiver (数据推送). OneNET is the client: it verifies the URL
// once with a GET, then POSTs every data point and online/offline event of the product's devices.
// Source: OneNET "HTTP推送 开发指南", open.iot.10086.cn/doc/book/application-develop/httppush/develop-manual.html
// (and the NB-IoT suite's page of the same name). A receiver as intake/receiver.ts says; what it
// shares with the other HTTP receivers (raw body, secret compare, answer) is intake/http/wire.ts.
//
// - URL verification: GET ?msg=&nonce=&signature= ; signature = Base64(MD5(token + nonce + msg)).
//   On a match the body of the answer is `msg` itself.
// - Push (plaintext mode): POST { msg, msg_signature, nonce }; msg_signature = Base64(MD5(token +
//   nonce + msg)) where msg is the JSON text of the `msg` member as sent (taken from the raw body,
//   not re-serialised). `msg` is one message or, with batching, an array of them: type 1 a data
//   point { dev_id, ds_id, at, value }, type 2 online/offline { dev_id, status 0|1, at }.
// - What is processed is what was signed (issue 18): a body naming a member twice is refused
//   (JSON.parse keeps the last `msg`, the signed text was the first: a forged second `msg` once
//   rode on a captured signature), and the messages are parsed from the verified text itself.
//   Refusing is chosen over "verify whichever is processed" because no real push repeats a key.
// - A nonce is taken once within NONCE_WINDOW_MS, in every API process (core/nonce-ledger.ts):
//   a replay is refused with 409 `replayed_push`. It is recorded after the commit, so a push that
//   failed half-way is taken when OneNET retries it.
// - The device is the one registered with the message's `imei` (NB-IoT), else — if that device
//   opted in (platformIdFallback) — the one whose id is the OneNET dev_id. Without a decoding profile, `ds_id` is the metric and `value` its value; with
//   one, its decoder reads { ds_id, value, at, dev_id, imei, datapoints: { <ds_id>: value } } (a
//   script gets `value` as bytes when it is hex).
// - 200 only after every reading and dead letter is committed: OneNET resends what is not
//   answered 200, and a reading's unique key (device, metric, `at`) makes a resend store nothing
//   twice. An unsigned or badly signed push is refused with 401 `bad_signature`.
// - A resent message leaves no second dead letter either: each message's identity is the hash of
//   the message as OneNET sent it (dev_id, ds_id, `at` in ms, value — see messageKeyOf), which a
//   resend repeats and two distinct data points never share.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../core/db/client.ts'
import { errorResponses } from '../../core/error-body.ts'
import { AppError } from '../../core/errors.ts'
import { duplicateNames, topLevelMembers } from '../../core/json-members.ts'
import { NonceLedger } from '../../core/nonce-ledger.ts'
import { onenetSignature } from '../../core/onenet-signature.ts'
import { excerpt } from '../../core/telemetry.ts'
import { messageKeyOf, platformDevice, submitDevicePayload, submitRefused } from '../device-payload.ts'
import type { ReceiverDeps } from '../receiver.ts'
import type { IngestResult } from '../telemetry-sink.ts'
import { ingestAnswer, jsonObjectBody, NOTHING, rawBodies, receiving, sameSecret, summary, type PushReceiverOptions } from './wire.ts'

/** Messages one push may carry; OneNET's batching stays far below. */
const MAX_MESSAGES = 1000

/** How long a processed push's nonce is refused, across API processes; OneNET's retries end well within. */
export const NONCE_WINDOW_MS = 24 * 3_600_000

/** OneNET's nonces are a few characters; bounded so the nonce table stays small. */
const MAX_NONCE_LENGTH = 128

export { onenetSignature }

/** The JSON text of the top-level member `name` of an object, exactly as sent (the first, if repeated). */
export function rawMember(text: string, name: string): string | undefined {
  return topLevelMembers(text).find((m) => m.name === name)?.raw
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

const onenet: FastifyPluginAsyncZod<PushReceiverOptions> = async (app, { db, intake, token }) => {
  rawBodies(app)
  const nonces = new NonceLedger(db, 'onenet', NONCE_WINDOW_MS)

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
      if (!sameSecret(onenetSignature(token, nonce, msg), signature)) throw new AppError('bad_signature', 'signature does not match Base64(MD5(token + nonce + msg)) for the configured ONENET_PUSH_TOKEN')
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
      const parsed = jsonObjectBody(req, 'the JSON object of a OneNET push { msg, msg_signature, nonce }')
      // Refuse rather than pick: JSON.parse keeps the last of two `msg` keys, a scan for the signed
      // text the first, and a forged second `msg` once rode on a captured signature (issue 18).
      const members = topLevelMembers(parsed.text)
      const twice = duplicateNames(members)
      if (twice.length > 0) throw new AppError('validation_failed', `body: ${twice.map((n) => JSON.stringify(n)).join(', ')} given more than once; a push names each of msg, msg_signature and nonce once`)
      const { msg_signature: signature, nonce } = parsed.value
      if (typeof signature !== 'string' || typeof nonce !== 'string') throw new AppError('bad_signature', 'the push is unsigned: msg_signature and nonce are required (plaintext mode)')
      if (nonce.length > MAX_NONCE_LENGTH) throw new AppError('validation_failed', `body.nonce: at most ${MAX_NONCE_LENGTH} characters`)
      const rawMsg = members.find((m) => m.name === 'msg')?.raw
      if (rawMsg === undefined) throw new AppError('validation_failed', 'body.msg: required')
      if (!sameSecret(onenetSignature(token, nonce, rawMsg), signature)) throw new AppError('bad_signature', 'msg_signature does not match Base64(MD5(token + nonce + msg)) for the configured ONENET_PUSH_TOKEN')
      const deps = receiving(intake)
      if (await nonces.seen(nonce, receivedAt)) throw new AppError('replayed_push', `nonce "${nonce}" was already processed; nothing was done again`)
      // The messages are read from the very text the signature covers.
      const msg = JSON.parse(rawMsg) as unknown
      if (typeof msg === 'string') throw new AppError('validation_failed', 'body.msg: a string, as the AES 安全模式 sends it; only 明文模式 (plaintext) is supported — switch the push to it')
      const messages: unknown[] = Array.isArray(msg) ? msg : [msg]
      if (messages.length === 0) throw new AppError('validation_failed', 'body.msg: an empty array; a push carries at least one message')
      if (messages.length > MAX_MESSAGES) throw new AppError('validation_failed', `body.msg: at most ${MAX_MESSAGES} messages per push`)
      const notObject = messages.findIndex((m) => typeof m !== 'object' || m === null || Array.isArray(m))
      if (notObject >= 0) throw new AppError('validation_failed', `body.msg${Array.isArray(msg) ? `[${notObject}]` : ''}: expected a message object { type, dev_id, … }`)
      const results = await Promise.all(messages.map((m) => receive(db, deps, m as OneNetMessage, receivedAt)))
      // Recorded once everything is committed: a push that failed half-way is retried by OneNET
      // and must then be taken. Two copies racing each other are both taken, which stores nothing
      // twice (readings keyed by `at`, dead letters by message); a later replay is refused.
      await nonces.record(nonce, receivedAt)
      return summary({ stored: results.reduce((n, r) => n + r.stored, 0), rejected: results.reduce((n, r) => n + r.rejected, 0), rejections: results.flatMap((r) => r.rejections) })
    },
  )
}


/** One OneNET message (a data point or an online/offline event) to the sink: steps 1–3 and 5 of intake/receiver.ts. */
async function receive(db: Db, intake: ReceiverDeps, m: OneNetMessage, receivedAt: number): Promise<IngestResult> {
  const imei = typeof m.imei === 'string' ? m.imei : undefined
  const devId = typeof m.dev_id === 'number' || typeof m.dev_id === 'string' ? String(m.dev_id) : ''
  const { device, deviceId, refused } = await platformDevice(db, imei, devId, intake.platformDevices)
  const source = `onenet/${devId}`
  if (m.type === 2) {
    if (device?.enabled && (m.status === 0 || m.status === 1)) await intake.sink.setStatus(device.id, m.status === 1 ? 'online' : 'offline')
    return NOTHING
  }
  // Type 7 (command results) and anything newer carry no telemetry.
  if (m.type !== 1) return NOTHING
  const messageKey = messageKeyOf(m)
  if (refused !== undefined) return submitRefused(intake, { deviceId, source, clientId: 'onenet', receivedAt, messageKey }, refused, excerpt(m))
  if (typeof m.ds_id !== 'string') {
    return intake.sink.submit({ deviceId, source, clientId: 'onenet', receivedAt, messageKey, body: { kind: 'rejected', code: 'schema_violation', detail: 'a data point (type 1) needs its data stream name as a string ds_id', excerpt: excerpt(m) } })
  }
  const at = typeof m.at === 'number' ? m.at : undefined
  const value = m.value
  // Platforms pass numbers through as text ("81") as often as not.
  const number = typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value
  const hex = typeof value === 'string' && value.length % 2 === 0 && /^[0-9A-Fa-f]+$/.test(value)
  return submitDevicePayload(intake, {
    deviceId,
    source,
    clientId: 'onenet',
    messageKey,
    bytes: hex ? Buffer.from(value, 'hex') : Buffer.from(JSON.stringify(m)),
    json: { ds_id: m.ds_id, value, at, dev_id: m.dev_id, imei, datapoints: { [m.ds_id]: value } },
    contract: { ...(at === undefined ? {} : { ts: at }), values: { [m.ds_id]: number } },
    ts: at,
    receivedAt,
  })
}

export default onenet
