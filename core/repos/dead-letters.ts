// SQL for the dead-letter store: every rejected message or reading, with why.
// Every text column comes (in part) from a device, so each is made storable and bounded here, the
// one place all of them pass: a row the database refuses would stop ingestion (issue 7, item 1).
import { createHash } from 'node:crypto'
import type { RejectReason } from '../contract.ts'
import type { Queryable } from '../db/client.ts'
import { storableText } from '../../shared/text.ts'

/** Most characters kept per column; a contract topic or id is far shorter, an excerpt is cut at 512. */
export const DEAD_LETTER_LIMITS = { clientId: 256, topic: 256, deviceId: 128, reason: 1000, payloadExcerpt: 1024 } as const

const bounded = (text: string, column: keyof typeof DEAD_LETTER_LIMITS) => storableText(text, DEAD_LETTER_LIMITS[column])
const boundedOrNull = (text: string | null, column: keyof typeof DEAD_LETTER_LIMITS) => (text === null ? null : bounded(text, column))

export interface DeadLetter {
  receivedAt: Date
  clientId: string | null
  topic: string
  deviceId: string | null
  reasonCode: RejectReason
  reason: string
  /** The offending part of the payload, cut to a bounded length. */
  payloadExcerpt: string | null
  /** The rejection's identity (deadLetterKey) when its message may be resent; null: always a row of its own. */
  dedupKey?: string | null
}

export interface StoredDeadLetter extends DeadLetter {
  id: number
}

/**
 * The identity of one rejection of a message that may be resent, so a resend leaves no second
 * dead letter: CTWing retries a push three times, OneNET until it is answered 200, a DTU after a
 * timeout — and a push that was rejected is answered 200 (the rejection is recorded), but one
 * whose answer was lost comes again.
 *
 * Identity = SHA-256 of: the entry point (`source`: platform and its device id), the message key
 * (which the entry point builds from the whole platform message: its device, its time and the
 * hash of its payload — see intake/http/onenet.ts, ctwing.ts, device-telemetry.ts), the rejected
 * device, the reason code and the rejection's position in the message. A resend is the same
 * message, so it yields the same rejections in the same order and the same keys; two distinct bad
 * messages differ in time or payload, so each keeps its row. Messages without a key (MQTT: QoS 1
 * redelivery is rare and the broker says nothing of identity) are recorded on every arrival.
 */
export function deadLetterKey(r: { source: string; messageKey: string; index: number; deviceId: string | null; reasonCode: RejectReason }): string {
  return createHash('sha256').update(JSON.stringify([r.source, r.messageKey, r.index, r.deviceId, r.reasonCode])).digest('base64url')
}

export async function insertDeadLetters(db: Queryable, rows: readonly DeadLetter[]): Promise<void> {
  if (rows.length === 0) return
  // A row whose identity is already stored (a resend, or twice in this batch) is skipped.
  await db.query(
    `INSERT INTO dead_letters (received_at, client_id, topic, device_id, reason_code, reason, payload_excerpt, dedup_key)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
     ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING`,
    [
      rows.map((r) => r.receivedAt),
      rows.map((r) => boundedOrNull(r.clientId, 'clientId')),
      rows.map((r) => bounded(r.topic, 'topic')),
      rows.map((r) => boundedOrNull(r.deviceId, 'deviceId')),
      rows.map((r) => r.reasonCode),
      rows.map((r) => bounded(r.reason, 'reason')),
      rows.map((r) => boundedOrNull(r.payloadExcerpt, 'payloadExcerpt')),
      rows.map((r) => r.dedupKey ?? null),
    ],
  )
}

export interface DeadLetterFilter {
  deviceId?: string | undefined
  reasonCode?: RejectReason | undefined
  from?: Date | undefined
  to?: Date | undefined
  /** Keyset pagination: ids strictly below this one (newest first). */
  before?: number | undefined
  limit: number
}

export async function listDeadLetters(db: Queryable, f: DeadLetterFilter): Promise<StoredDeadLetter[]> {
  return db.query<StoredDeadLetter>(
    `SELECT id, received_at AS "receivedAt", client_id AS "clientId", topic, device_id AS "deviceId",
            reason_code AS "reasonCode", reason, payload_excerpt AS "payloadExcerpt"
     FROM dead_letters
     WHERE ($1::text IS NULL OR device_id = $1)
       AND ($2::text IS NULL OR reason_code = $2)
       AND ($3::timestamptz IS NULL OR received_at >= $3)
       AND ($4::timestamptz IS NULL OR received_at < $4)
       AND ($5::bigint IS NULL OR id < $5)
     ORDER BY id DESC LIMIT $6`,
    [f.deviceId ?? null, f.reasonCode ?? null, f.from ?? null, f.to ?? null, f.before ?? null, f.limit],
  )
}

/** Dead letters are evidence for debugging, not history: they are kept for a bounded time. */
export async function pruneDeadLetters(db: Queryable, before: Date): Promise<number> {
  const rows = await db.query(
    `DELETE FROM dead_letters WHERE received_at < $1 RETURNING 1`,
    [before],
  )
  return rows.length
}
