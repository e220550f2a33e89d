// SQL for the dead-letter store: every rejected message or reading, with why.
// Every text column comes (in part) from a device, so each is made storable and bounded here, the
// one place all of them pass: a row the database refuses would stop ingestion (issue 7, item 1).
import type { RejectReason } from '../contract.ts'
import type { Queryable } from '../db/client.ts'
import { storableText } from '../text.ts'

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
}

export interface StoredDeadLetter extends DeadLetter {
  id: number
}

export async function insertDeadLetters(db: Queryable, rows: readonly DeadLetter[]): Promise<void> {
  if (rows.length === 0) return
  await db.query(
    `INSERT INTO dead_letters (received_at, client_id, topic, device_id, reason_code, reason, payload_excerpt)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
    [
      rows.map((r) => r.receivedAt),
      rows.map((r) => boundedOrNull(r.clientId, 'clientId')),
      rows.map((r) => bounded(r.topic, 'topic')),
      rows.map((r) => boundedOrNull(r.deviceId, 'deviceId')),
      rows.map((r) => r.reasonCode),
      rows.map((r) => bounded(r.reason, 'reason')),
      rows.map((r) => boundedOrNull(r.payloadExcerpt, 'payloadExcerpt')),
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
export async function pruneDeadLetters(db: Queryable, olderThanDays: number): Promise<number> {
  const rows = await db.query(
    `DELETE FROM dead_letters WHERE received_at < now() - make_interval(days => $1::int) RETURNING 1`,
    [olderThanDays],
  )
  return rows.length
}
