// What the HTTP receivers share, so each reads its body and answers the same way:
// - the body kept as bytes whatever its content type (a signature, a device's binary frame and a
//   resend's hash are taken on what was sent, never on a re-serialisation);
// - a sender's secret (a push token, a signature, RabbitMQ's key) compared in constant time;
// - the answer after the commit, `{ stored, rejected, rejections }` (`ingestAnswer`).
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { MAX_PAYLOAD_BYTES } from '../../core/contract.ts'
import { AppError } from '../../core/errors.ts'
import { parseJsonObject } from '../../core/json-members.ts'
import type { Db } from '../../core/db/client.ts'
import type { ReceiverDeps } from '../receiver.ts'
import type { IngestResult } from '../telemetry-sink.ts'

/** What a platform's push receiver (OneNET, CTWing) is registered with. */
export interface PushReceiverOptions {
  db: Db
  /** Undefined in an API process that does not ingest: 503 `unavailable`. */
  intake: ReceiverDeps | undefined
  /** The platform's shared token (ONENET_PUSH_TOKEN, CTWING_PUSH_TOKEN): the receiver is registered only when it is set. */
  token: string
}

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

/** Bytes for every content type, up to the contract's payload limit (for the plugin's routes only). */
export function rawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_PAYLOAD_BYTES }, (_req, body, done) => done(null, new RawBody(body as Buffer)))
}

/** The request's body as sent; empty when there was none. */
export function bodyBytes(req: { body: unknown }): Buffer {
  return req.body instanceof RawBody ? req.body.bytes : Buffer.alloc(0)
}

/** The body as one JSON object (its text too, for what a signature covers); 400 `validation_failed` otherwise. */
export function jsonObjectBody(req: { body: unknown }, what: string): { text: string; value: Record<string, unknown> } {
  const parsed = parseJsonObject(bodyBytes(req), what)
  if (!parsed.ok) throw new AppError('validation_failed', parsed.message)
  return parsed
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Whether `given` is the secret, in time independent of where (or whether) they differ, length included. */
export function sameSecret(expected: string, given: string): boolean {
  return timingSafeEqual(digest(expected), digest(given))
}

/** The pipeline behind the receivers; 503 `unavailable` in an API process that does not ingest. */
export function receiving(deps: ReceiverDeps | undefined): ReceiverDeps {
  if (!deps) throw new AppError('unavailable', 'This API process does not ingest telemetry')
  return deps
}

export const ingestAnswer = z.object({
  stored: z.number().int().describe('Readings committed'),
  rejected: z.number().int().describe('Parts recorded as dead letters (GET /api/v1/dead-letters)'),
  rejections: z.array(z.object({ reasonCode: z.string(), reason: z.string() })).describe('Why, for the first of them'),
})

export type IngestAnswer = z.infer<typeof ingestAnswer>

/** Nothing to store (an event without telemetry): acknowledged as such. */
export const NOTHING: IngestResult = { stored: 0, rejected: 0, rejections: [] }

/** What an answer tells of an ingest: readings committed, parts refused, and why for the first ten. */
export function summary(result: IngestResult): IngestAnswer {
  return { stored: result.stored, rejected: result.rejected, rejections: result.rejections.slice(0, 10).map((r) => ({ reasonCode: r.reasonCode, reason: r.reason })) }
}

/** 200 once something is stored (or nothing was refused); 422 when all of it went to dead letters. */
export function answer(result: IngestResult): IngestAnswer {
  const body = summary(result)
  if (result.stored === 0 && result.rejected > 0) throw new AppError('telemetry_rejected', body.rejections[0]?.reason, body)
  return body
}
