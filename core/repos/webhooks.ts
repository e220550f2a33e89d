// SQL for webhooks, their queued deliveries and the log of every attempt.
import type { Queryable } from '../db/client.ts'
import type { OutboxFigures } from '../metrics.ts'
import { ALERT_COLUMNS } from './alerts.ts'
import { claimDue, type DeliveryQueue } from './delivery-queue.ts'

export interface Webhook {
  id: string
  url: string
  severities: string[] | null
  communityIds: string[] | null
  eventTypes: string[] | null
  enabled: boolean
  createdBy: string
  createdAt: Date
}

const COLUMNS = `id, url, severities, community_ids AS "communityIds", event_types AS "eventTypes", enabled,
  created_by AS "createdBy", created_at AS "createdAt"`

export async function insertWebhook(
  db: Queryable,
  w: { id: string; url: string; secret: string; severities: string[] | null; communityIds: string[] | null; eventTypes: string[] | null; createdBy: string },
): Promise<Webhook> {
  const [row] = await db.query<Webhook>(
    `INSERT INTO webhooks (id, url, secret, severities, community_ids, event_types, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [w.id, w.url, w.secret, w.severities, w.communityIds, w.eventTypes, w.createdBy],
  )
  if (!row) throw new Error('insert returned no webhook')
  return row
}

export async function listWebhooks(db: Queryable): Promise<Webhook[]> {
  return db.query<Webhook>(`SELECT ${COLUMNS} FROM webhooks ORDER BY created_at`)
}

export async function getWebhook(db: Queryable, id: string): Promise<Webhook | undefined> {
  const [row] = await db.query<Webhook>(`SELECT ${COLUMNS} FROM webhooks WHERE id = $1`, [id])
  return row
}

export async function deleteWebhook(db: Queryable, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM webhooks WHERE id = $1 RETURNING 1', [id])).length > 0
}

/** Queues one delivery of an event to every enabled webhook whose filters match it. */
export async function enqueueDeliveries(
  db: Queryable,
  e: { eventId: number; eventType: string; severity: string; communityId: string | null },
): Promise<number> {
  const rows = await db.query(
    `INSERT INTO webhook_deliveries (webhook_id, event_id)
     SELECT id, $1 FROM webhooks
     WHERE enabled
       AND (severities IS NULL OR $3 = ANY(severities))
       AND (community_ids IS NULL OR $4 = ANY(community_ids))
       AND (event_types IS NULL OR $2 = ANY(event_types))
     ON CONFLICT (webhook_id, event_id) DO NOTHING
     RETURNING 1`,
    [e.eventId, e.eventType, e.severity, e.communityId],
  )
  return rows.length
}

export interface DueDelivery {
  id: number
  attempts: number
  url: string
  secret: string
  eventId: number
  eventType: string
}

const QUEUE: DeliveryQueue = {
  table: 'webhook_deliveries',
  order: 'next_attempt_at',
  joins: 'webhooks w, alert_events e',
  on: 'w.id = d.webhook_id AND e.id = d.event_id',
  returning: 'd.id, d.attempts, w.url, w.secret, d.event_id AS "eventId", e.type AS "eventType"',
}

/** Claims due deliveries for `leaseMs` (delivery-queue.ts). */
export async function claimDueDeliveries(db: Queryable, now: Date, leaseMs: number, limit: number): Promise<DueDelivery[]> {
  return claimDue<DueDelivery>(db, QUEUE, now, leaseMs, limit)
}

/** The queue's backlog for /metrics: pending deliveries (the partial due index holds just these) and the oldest one's queueing time. */
export async function webhookOutboxFigures(db: Queryable): Promise<OutboxFigures> {
  const [row] = await db.query<OutboxFigures>(`SELECT count(*)::int AS depth, min(created_at) AS "oldestDueAt" FROM webhook_deliveries WHERE status = 'pending'`)
  return row ?? { depth: 0, oldestDueAt: null }
}

/** The alert event a delivery carries, with the alert as it is now (the webhook's JSON body). */
export async function deliveryEvent(db: Queryable, eventId: number): Promise<Record<string, unknown> | undefined> {
  const [event] = await db.query(
    `SELECT e.id, e.type, e.at, e.actor, e.note, e.data,
            (SELECT row_to_json(x) FROM (SELECT ${ALERT_COLUMNS} FROM alerts a WHERE a.id = e.alert_id) x) AS alert
     FROM alert_events e WHERE e.id = $1`,
    [eventId],
  )
  return event
}

export async function recordAttempt(
  db: Queryable,
  a: { deliveryId: number; statusCode: number | null; error: string | null; durationMs: number; delivered: boolean; nextAttemptAt: Date | null },
): Promise<void> {
  await db.query('INSERT INTO webhook_attempts (delivery_id, status_code, error, duration_ms) VALUES ($1, $2, $3, $4)', [
    a.deliveryId,
    a.statusCode,
    a.error,
    a.durationMs,
  ])
  await db.query(
    `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $2, last_error = $3,
       status = CASE WHEN $4 THEN 'delivered' WHEN $5::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
       delivered_at = CASE WHEN $4 THEN now() ELSE NULL END,
       next_attempt_at = COALESCE($5, next_attempt_at)
     WHERE id = $1`,
    [a.deliveryId, a.statusCode, a.error, a.delivered, a.nextAttemptAt],
  )
}

export interface DeliveryLogEntry {
  id: number
  eventId: number
  eventType: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  lastStatusCode: number | null
  lastError: string | null
  createdAt: Date
  deliveredAt: Date | null
  nextAttemptAt: Date
}

export async function listDeliveries(db: Queryable, webhookId: string, limit: number): Promise<DeliveryLogEntry[]> {
  return db.query<DeliveryLogEntry>(
    `SELECT d.id, d.event_id AS "eventId", e.type AS "eventType", d.status, d.attempts, d.last_status_code AS "lastStatusCode",
            d.last_error AS "lastError", d.created_at AS "createdAt", d.delivered_at AS "deliveredAt", d.next_attempt_at AS "nextAttemptAt"
     FROM webhook_deliveries d JOIN alert_events e ON e.id = d.event_id
     WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2`,
    [webhookId, limit],
  )
}
