// The HTTP device API, for DTUs and gateways that cannot speak MQTT: a device posts its telemetry
// with its own credentials — the same id and secret it would use on the broker — and is answered
// only after the readings are committed, through the same checks and dead letters as MQTT
// (intake/device-payload.ts → intake/telemetry-sink.ts).
//
// Outside /api: these are the devices' endpoints, not the office's; user tokens mean nothing here.
// The body is read as bytes whatever its content type: a device with a decoding profile sends its
// vendor payload (JSON or binary, `?fPort=` for a LoRaWAN-style codec), any other device the
// telemetry contract (one entry or an array).
//
// The secret is checked by the broker's LoginGate (app.deviceLogins, intake/http/device-logins.ts):
// a secret verified in the last minute is accepted from the cache without a new scrypt; other
// checks are bounded in number (MQTT_AUTH_MAX_CONCURRENT, …_PER_ADDRESS) and, beyond, refused at
// once with 503 `auth_busy` and Retry-After — never queued; failures from an address slow its
// next answers and count against RATE_LIMIT_AUTH_FAILURES_PER_MINUTE (429).
// A request with an `Idempotency-Key` header is a message the device may resend: its dead letters
// are recorded once per key and payload (core/repos/dead-letters.ts deadLetterKey).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { idSchema, MAX_PAYLOAD_BYTES } from '../../core/contract.ts'
import { createHash } from 'node:crypto'
import { isLoopback } from '../device-login/gate.ts'
import { AppError } from '../../core/errors.ts'
import { submitDevicePayload } from '../device-payload.ts'
import type { IngestResult } from '../telemetry-sink.ts'
import { errorBody, errorResponses } from '../../core/error-body.ts'

/** A request body kept as bytes, with no enumerable properties for the generic body checks to walk. */
export class RawBody {
  readonly #bytes: Buffer
  constructor(bytes: Buffer) {
    this.#bytes = bytes
  }
  get bytes(): Buffer {
    return this.#bytes
  }
}

export const ingestAnswer = z.object({
  stored: z.number().int().describe('Readings committed'),
  rejected: z.number().int().describe('Parts recorded as dead letters (GET /api/v1/dead-letters)'),
  rejections: z.array(z.object({ reasonCode: z.string(), reason: z.string() })).describe('Why, for the first of them'),
})

/** The id and secret of `Authorization: Basic base64(id:secret)` or `Authorization: Bearer id:secret`. */
export function deviceCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header) return undefined
  const basic = /^Basic\s+(\S+)$/i.exec(header)
  const text = basic?.[1] !== undefined ? Buffer.from(basic[1], 'base64').toString('utf8') : /^Bearer\s+(\S+)$/i.exec(header)?.[1]
  const colon = text?.indexOf(':') ?? -1
  if (text === undefined || colon <= 0) return undefined
  return { id: text.slice(0, colon), secret: text.slice(colon + 1) }
}

/** What an answer tells of an ingest: readings committed, parts refused, and why for the first ten. */
export function summary(result: IngestResult): z.infer<typeof ingestAnswer> {
  return { stored: result.stored, rejected: result.rejected, rejections: result.rejections.slice(0, 10).map((r) => ({ reasonCode: r.reasonCode, reason: r.reason })) }
}

/** 200 once something is stored (or nothing was refused); 422 when all of it went to dead letters. */
export function answer(result: IngestResult): z.infer<typeof ingestAnswer> {
  const body = summary(result)
  if (result.stored === 0 && result.rejected > 0) throw new AppError('telemetry_rejected', body.rejections[0]?.reason, body)
  return body
}

/** Bytes for every content type, up to the contract's payload limit. */
export function rawBodies(app: Parameters<FastifyPluginAsyncZod>[0]): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_PAYLOAD_BYTES }, (_req, body, done) => done(null, new RawBody(body as Buffer)))
}

/** Seconds a device is told to wait when the secret checks are saturated: a few scrypt durations. */
const BUSY_RETRY_AFTER_S = 1

const deviceTelemetry: FastifyPluginAsyncZod = async (app) => {
  const { intake, metrics } = app.deps
  const logins = app.deviceLogins.gate
  rawBodies(app)

  const refuse = async (req: FastifyRequest, reply: FastifyReply, message: string): Promise<never> => {
    // Counted against the address like a bad token (429 once over RATE_LIMIT_AUTH_FAILURES_PER_MINUTE).
    await app.authFailures?.(req)
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
      if (!intake) throw new AppError('unavailable', 'This API process does not ingest telemetry')
      const deviceId = auth.identity.deviceId
      const bytes = req.body instanceof RawBody ? req.body.bytes : Buffer.alloc(0)
      const key = req.headers['idempotency-key']
      const messageKey = typeof key === 'string' && key !== '' ? `${key.slice(0, 200)}:${createHash('sha256').update(bytes).digest('base64url')}` : undefined
      const result = await submitDevicePayload(intake, { deviceId, source: `http/devices/${deviceId}`, bytes, fPort: req.query.fPort, receivedAt, messageKey })
      return answer(result)
    },
  )
}

export default deviceTelemetry
