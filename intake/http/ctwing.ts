// The China Telecom CTWing (AEP) subscription push receiver (intake/receiver.ts). CTWing POSTs
// each message of a product-level subscription as JSON: `dataReport` (payload: the service
// fields of a product with a profile, or `{ APPdata: base64 }` for transparent products),
// `deviceOnlineOfflineReport`
// (eventType 1 online, 0 offline) and others (command results, device added…), which carry no
// telemetry and are acknowledged.
//
// CTWing retries a push three times and then puts a slow or failing receiver in a cool-down in
// which messages are lost, so the answer must be quick: readings go through the group-commit
// writer (no transaction of their own) and the answer is 200 once they are committed. A resend
// stores nothing twice: a reading's key is (device, metric, the message's `timestamp`), and a
// rejected message's dead letter is recorded once — its identity is the hash of the whole push
// (deviceId, timestamp, upPacketSN, payload), which CTWing repeats on a retry.
//
// CTWing does not sign its pushes; the subscription URL carries a shared token
// (`/ingest/v1/ctwing?token=…`, CTWING_PUSH_TOKEN), compared in constant time. A push without it,
// or with another, is refused with 401 `bad_signature`. With no signature and no nonce there is
// nothing to bind a body to, so the token is the whole check: serve it over HTTPS only. The body
// must be one JSON object, nested at most 32 levels (400 otherwise), and the device is found by
// IMEI, or by CTWing's deviceId only where the device opted in (platformIdFallback, issue 18).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errorResponses } from '../../core/error-body.ts'
import { AppError } from '../../core/errors.ts'
import { excerpt } from '../../core/telemetry.ts'
import { messageKeyOf, platformDevice, submitDevicePayload, submitRefused } from '../device-payload.ts'
import { ingestAnswer, jsonObjectBody, NOTHING, rawBodies, receiving, sameSecret, summary, type PushReceiverOptions } from './wire.ts'

interface CtwingMessage {
  messageType?: unknown
  deviceId?: unknown
  IMEI?: unknown
  timestamp?: unknown
  payload?: unknown
  eventType?: unknown
}

const ctwing: FastifyPluginAsyncZod<PushReceiverOptions> = async (app, { db, intake: deps, token }) => {
  rawBodies(app)

  app.post(
    '',
    {
      schema: {
        tags: ['receivers'],
        summary: "CTWing's subscription push: data reports and online/offline reports, answered 200 after commit",
        querystring: z.object({ token: z.string().max(500).optional() }),
        response: { 200: ingestAnswer, ...errorResponses },
      },
    },
    async (req) => {
      const receivedAt = Date.now()
      if (req.query.token === undefined || !sameSecret(token, req.query.token)) throw new AppError('bad_signature', 'the push URL must carry ?token= with the configured CTWING_PUSH_TOKEN')
      const intake = receiving(deps)
      const parsed = jsonObjectBody(req, 'the JSON object of a CTWing push { messageType, deviceId, IMEI, timestamp, payload }')
      const m = parsed.value as CtwingMessage
      const imei = typeof m.IMEI === 'string' && /^\d{15}$/.test(m.IMEI) ? m.IMEI : undefined
      const platformId = typeof m.deviceId === 'string' ? m.deviceId : ''
      const { device, deviceId, refused } = await platformDevice(db, imei, platformId, intake.platformDevices)
      const at = typeof m.timestamp === 'number' ? m.timestamp : undefined
      if (m.messageType === 'deviceOnlineOfflineReport') {
        if (device?.enabled && (m.eventType === 0 || m.eventType === 1)) await intake.sink.setStatus(device.id, m.eventType === 1 ? 'online' : 'offline')
        return summary(NOTHING)
      }
      if (m.messageType !== 'dataReport') return summary(NOTHING)
      const source = `ctwing/${platformId}`
      const messageKey = messageKeyOf(m)
      if (refused !== undefined) return summary(await submitRefused(intake, { deviceId, source, clientId: 'ctwing', receivedAt, messageKey }, refused, excerpt(m)))
      if (typeof m.payload !== 'object' || m.payload === null || Array.isArray(m.payload)) {
        const detail = 'a dataReport carries its data as an object payload ({ serviceData } or { APPdata })'
        return summary(await intake.sink.submit({ deviceId, source, clientId: 'ctwing', receivedAt, messageKey, body: { kind: 'rejected', code: 'schema_violation', detail, excerpt: excerpt(m) } }))
      }
      const payload = m.payload as Record<string, unknown>
      // Transparent products carry the device's bytes as base64; others the service's fields.
      const appData = typeof payload.APPdata === 'string' ? Buffer.from(payload.APPdata, 'base64') : undefined
      const fields = typeof payload.serviceData === 'object' && payload.serviceData !== null ? payload.serviceData : payload
      const result = await submitDevicePayload(intake, {
        deviceId,
        source,
        clientId: 'ctwing',
        messageKey,
        bytes: appData ?? Buffer.from(JSON.stringify(fields)),
        ...(appData === undefined ? { json: fields, contract: { ...(at === undefined ? {} : { ts: at }), values: fields } } : {}),
        ts: at,
        receivedAt,
      })
      return summary(result)
    },
  )
}

export default ctwing
