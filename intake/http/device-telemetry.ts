// The HTTP device API, for DTUs and gateways that cannot speak MQTT: a device posts its telemetry
// with its own credentials — the same id and secret it would use on the broker — and is answered
// only after the readings are committed, through the same checks and dead letters as MQTT
// (intake/device-payload.ts → intake/telemetry-sink.ts; the receiver contract, intake/receiver.ts).
//
// Outside /api: these are the devices' endpoints, not the office's; user tokens mean nothing here.
// The body is read as bytes whatever its content type: a device with a decoding profile sends its
// vendor payload (JSON or binary, `?fPort=` for a LoRaWAN-style codec), any other device the
// telemetry contract (one entry or an array).
//
// The secret is checked by the device login gate (app.deviceLogins, intake/device-login/):
// a secret verified in the last minute is accepted from the cache without a new scrypt; other
// checks are bounded in number (MQTT_AUTH_MAX_CONCURRENT, …_PER_ADDRESS) and, beyond, refused at
// once with 503 `auth_busy` and Retry-After — never queued; failures from an address slow its
// next answers and count against RATE_LIMIT_AUTH_FAILURES_PER_MINUTE (429).
// A request with an `Idempotency-Key` header is a message the device may resend: its dead letters
// are recorded once per key and payload (core/repos/dead-letters.ts deadLetterKey).
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { idSchema } from '../../core/contract.ts'
import { errorBody, errorResponses } from '../../core/error-body.ts'
import { AppError } from '../../core/errors.ts'
import type { Metrics } from '../../core/metrics.ts'
import { isLoopback } from '../device-login/index.ts'
import { submitDevicePayload } from '../device-payload.ts'
import type { ReceiverDeps } from '../receiver.ts'
import { answer, bodyBytes, ingestAnswer, rawBodies, receiving } from './wire.ts'

export interface DeviceTelemetryOptions {
  /** Undefined in an API process that does not ingest: 503 `unavailable`. */
  intake: ReceiverDeps | undefined
  metrics: Metrics
  /** A refused login, counted against the address (the API's RATE_LIMIT_AUTH_FAILURES_PER_MINUTE). */
  onRefused?: ((req: FastifyRequest) => Promise<void>) | undefined
}

/** The id and secret of `Authorization: Basic base64(id:secret)` or `Authorization: Bearer id:secret`. */
export function deviceCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header) return undefined
  const basic = /^Basic\s+(\S+)$/i.exec(header)
  const text = basic?.[1] !== undefined ? Buffer.from(basic[1], 'base64').toString('utf8') : /^Bearer\s+(\S+)$/i.exec(header)?.[1]
  const colon = text?.indexOf(':') ?? -1
  if (text === undefined || colon <= 0) return undefined
  return { id: text.slice(0, colon), secret: text.slice(colon + 1) }
}

/** Seconds a device is told to wait when the secret checks are saturated: a few scrypt durations. */
const BUSY_RETRY_AFTER_S = 1

const deviceTelemetry: FastifyPluginAsyncZod<DeviceTelemetryOptions> = async (app, { intake, metrics, onRefused }) => {
  const logins = app.deviceLogins.gate
  rawBodies(app)

  const refuse = async (req: FastifyRequest, reply: FastifyReply, message: string): Promise<never> => {
    // Counted against the address like a bad token (429 once over RATE_LIMIT_AUTH_FAILURES_PER_MINUTE).
    await onRefused?.(req)
    void reply.header('www-authenticate', 'Basic realm="housing-brain devices", charset="UTF-8"')
    throw new AppError('unauthorized', message)
  }

  app.post(
    '/:id/telemetry',
    {
      schema: {
        tags: ['device API'],
        summary: 'Telemetry from a device, with its own credentials (HTTP Basic id:secret); answered after the commit',
        description:
          'The body is the telemetry contract (one entry or an array of entries), or — for a device with a decoding profile — its vendor payload (`?fPort=` for a LoRaWAN-style codec). 200 after commit; 422 when every part was dead-lettered; 401 for missing or wrong credentials; 503 `auth_busy` with Retry-After when too many secret checks are in progress. With `Idempotency-Key`, a resend of the same body leaves no second dead letter.',
        security: [{ basic: [] }],
        params: z.object({ id: idSchema }),
        querystring: z.object({ fPort: z.coerce.number().int().min(0).max(255).optional() }),
        response: { 200: ingestAnswer, 422: errorBody, 503: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      const receivedAt = Date.now()
      const creds = deviceCredentials(req.headers.authorization)
      if (!creds) return refuse(req, reply, 'Send the device id and secret: Authorization: Basic base64(id:secret)')
      if (creds.id !== req.params.id) return refuse(req, reply, `These credentials are not those of device "${req.params.id}"`)
      const auth = await logins.login(creds.id, Buffer.from(creds.secret, 'utf8'), { address: req.ip, shared: isLoopback(req.ip) })
      metrics.httpDeviceAuth.inc({ outcome: auth.ok ? (auth.cached ? 'cached' : 'verified') : auth.reason === 'busy' ? 'busy' : 'refused' })
      if (!auth.ok && auth.reason === 'busy') {
        void reply.header('retry-after', String(BUSY_RETRY_AFTER_S))
        throw new AppError('auth_busy', `Too many credential checks in progress; retry in ${BUSY_RETRY_AFTER_S} s (a device whose secret was accepted in the last minute is not held back)`)
      }
      if (!auth.ok || auth.identity.type !== 'device') return refuse(req, reply, !auth.ok && auth.reason === 'disabled' ? 'The device is disabled' : 'Unknown device or wrong secret')
      const deps = receiving(intake)
      const deviceId = auth.identity.deviceId
      const bytes = bodyBytes(req)
      const key = req.headers['idempotency-key']
      const messageKey = typeof key === 'string' && key !== '' ? `${key.slice(0, 200)}:${createHash('sha256').update(bytes).digest('base64url')}` : undefined
      const result = await submitDevicePayload(deps, { deviceId, source: `http/devices/${deviceId}`, bytes, fPort: req.query.fPort, receivedAt, messageKey })
      return answer(result)
    },
  )
}

export default deviceTelemetry
