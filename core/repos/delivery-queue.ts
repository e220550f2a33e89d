// The claim both delivery queues share (webhook_deliveries, notify_deliveries): due pending rows
// are taken with FOR UPDATE SKIP LOCKED and their next attempt pushed out by a lease, so any
// number of processes drain one queue and a row is attempted by one of them at a time; a process
// that dies mid-send leaves its rows to be claimed again when the lease ends.
import type { Queryable } from '../db/client.ts'

/** A queue's tables and columns: constants of its repository, never input. */
export interface DeliveryQueue {
  table: 'webhook_deliveries' | 'notify_deliveries'
  /** The order due rows are claimed in. */
  order: string
  /** What the row is joined with (`FROM`), and how (`AND`); the row is `d`. */
  joins: string
  on: string
  returning: string
}

/** Claims up to `limit` due rows of the queue for `leaseMs`. */
export async function claimDue<T>(db: Queryable, q: DeliveryQueue, now: Date, leaseMs: number, limit: number): Promise<T[]> {
  return db.query<T>(
    `UPDATE ${q.table} d SET next_attempt_at = $1::timestamptz + make_interval(secs => $2::float8 / 1000)
     FROM ${q.joins}
     WHERE d.id IN (SELECT id FROM ${q.table} WHERE status = 'pending' AND next_attempt_at <= $1
                    ORDER BY ${q.order} LIMIT $3 FOR UPDATE SKIP LOCKED)
       AND ${q.on}
     RETURNING ${q.returning}`,
    [now, leaseMs, limit],
  )
}
