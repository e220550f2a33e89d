// SQL for the notification outbox: deliveries queued in the alert event's transaction, claimed
// by any number of dispatcher processes (the lease claim of delivery-queue.ts, shared with
// webhook deliveries), every attempt and every wait for a rate limit logged.
import type { Queryable } from '../db/client.ts'
import { claimDue, type DeliveryQueue } from './delivery-queue.ts'
import type { Role } from '../../shared/domain.ts'
import type { OutboxFigures } from '../metrics.ts'

export interface NewDelivery {
  alertId: number
  eventId: number
  step: number
  companyId: string | null
  channelId: string
  userId: string | null
  address: string
  locale: 'zh-CN' | 'en'
  /** When the first attempt is due: now, or the end of quiet hours. */
  dueAt: Date
  heldUntil: Date | null
  createdAt: Date
  linkExpiresAt: Date
  /** A group's digest (notify/digest.ts): the group's id. */
  digestOf?: number | null
}

/** Queues one delivery; the same event to the same address over the same channel only once. */
export async function insertDelivery(db: Queryable, d: NewDelivery): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO notify_deliveries (alert_id, event_id, step, company_id, channel_id, user_id, address, locale, next_attempt_at, held_until, created_at, link_expires_at, digest_of)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [d.alertId, d.eventId, d.step, d.companyId, d.channelId, d.userId, d.address, d.locale, d.dueAt, d.heldUntil, d.createdAt, d.linkExpiresAt, d.digestOf ?? null],
  )
  return rows.length > 0
}

/**
 * Acknowledging stops the chain: what is still queued for the alert is not sent. A group's digest
 * queued with it stays: it speaks for the other members too (the dispatcher checks them).
 */
export async function cancelPending(db: Queryable, alertId: number, why: string): Promise<number> {
  const rows = await db.query(
    `UPDATE notify_deliveries SET status = 'cancelled', last_status = 'cancelled', last_detail = $2
     WHERE alert_id = $1 AND status = 'pending' AND digest_of IS NULL RETURNING 1`,
    [alertId, why],
  )
  return rows.length
}

/**
 * Queues a group's digest, once: to each person (and bot) the group's first alert paged first,
 * over the same contact point, due when the window closes. The row belongs to the member whose
 * raise queued it (`alertId`, `eventId`). Quiet hours that held the first page hold the digest
 * too, until they end, when that is after the window. Returns how many were queued (0 when queued already, or
 * when the first alert paged nobody).
 */
export async function queueDigest(
  db: Queryable,
  d: { groupId: number; alertId: number; eventId: number; companyId: string | null; dueAt: Date; createdAt: Date; linkExpiresAt: Date },
): Promise<number> {
  const rows = await db.query(
    `INSERT INTO notify_deliveries (alert_id, event_id, step, company_id, channel_id, user_id, address, locale, next_attempt_at, held_until, created_at, link_expires_at, digest_of)
     SELECT $2, $3, 1, $4, f.channel_id, f.user_id, f.address, f.locale, GREATEST($5, f.held_until), CASE WHEN f.held_until > $5 THEN f.held_until END, $6, $7, $1
     FROM (SELECT DISTINCT ON (COALESCE(p.user_id::text, p.channel_id::text)) p.channel_id, p.user_id, p.address, p.locale, p.held_until
           FROM notify_deliveries p WHERE p.alert_id = $1 AND p.step = 1 AND p.digest_of IS NULL
           ORDER BY COALESCE(p.user_id::text, p.channel_id::text), p.id) f
     WHERE NOT EXISTS (SELECT 1 FROM notify_deliveries x WHERE x.digest_of = $1)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [d.groupId, d.alertId, d.eventId, d.companyId, d.dueAt, d.createdAt, d.linkExpiresAt],
  )
  return rows.length
}

/** Whether the alert's first step paged anyone (queued, sent or cancelled since): a group's first alert raised in a maintenance window did not. */
export async function pagedFirstStep(db: Queryable, alertId: number): Promise<boolean> {
  const [row] = await db.query<{ paged: boolean }>(`SELECT EXISTS (SELECT 1 FROM notify_deliveries WHERE alert_id = $1 AND step = 1 AND digest_of IS NULL) AS paged`, [alertId])
  return row?.paged ?? false
}

/** 'reminded' events of the alert up to this one: the first reminder is 1. */
export async function reminderOrdinal(db: Queryable, alertId: number, eventId: number): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM alert_events WHERE alert_id = $1 AND type = 'reminded' AND id <= $2`, [alertId, eventId])
  return row?.n ?? 0
}

export interface DueNotification {
  id: number
  alertId: number
  eventId: number
  step: number
  attempts: number
  companyId: string | null
  channelId: string
  channelKind: string
  settings: Record<string, unknown>
  /** Sealed; opened only to build the adapter. */
  secrets: string | null
  userId: string | null
  address: string
  locale: 'zh-CN' | 'en'
  alertState: string
  linkExpiresAt: Date
  /** A group's digest: the group's id; else null. */
  digestOf: number | null
}

const QUEUE: DeliveryQueue = {
  table: 'notify_deliveries',
  order: 'next_attempt_at, id',
  joins: 'notify_channels c, alerts a',
  on: 'c.id = d.channel_id AND a.id = d.alert_id',
  returning: `d.id::int AS id, d.alert_id::int AS "alertId", d.event_id::int AS "eventId", d.step, d.attempts, d.company_id AS "companyId",
    c.id AS "channelId", c.kind AS "channelKind", c.settings, c.secrets, d.user_id AS "userId", d.address, d.locale,
    a.state AS "alertState", d.link_expires_at AS "linkExpiresAt", d.digest_of::int AS "digestOf"`,
}

/** Claims due deliveries for `leaseMs` (delivery-queue.ts). */
export async function claimDueNotifications(db: Queryable, now: Date, leaseMs: number, limit: number): Promise<DueNotification[]> {
  return claimDue<DueNotification>(db, QUEUE, now, leaseMs, limit)
}

/**
 * The outbox's backlog for /metrics: pending deliveries (the partial due index holds just these)
 * and when the oldest of them fell due. A page held by quiet hours falls due when they end, so
 * a night's held pages do not read as a stuck queue.
 */
export async function notifyOutboxFigures(db: Queryable, now: Date): Promise<OutboxFigures> {
  const [row] = await db.query<OutboxFigures>(
    `SELECT count(*)::int AS depth, min(COALESCE(held_until, created_at)) FILTER (WHERE COALESCE(held_until, created_at) <= $1) AS "oldestDueAt"
     FROM notify_deliveries WHERE status = 'pending'`,
    [now],
  )
  return row ?? { depth: 0, oldestDueAt: null }
}

/** Sends over a channel, or for a company, since `since` (the rate-limit window). */
export async function sentSince(db: Queryable, by: { channelId: string } | { companyId: string }, since: Date): Promise<{ count: number; oldest: Date | null }> {
  const [row] =
    'channelId' in by
      ? await db.query<{ count: number; oldest: Date | null }>(`SELECT count(*)::int AS count, min(at) AS oldest FROM notify_attempts WHERE sent AND channel_id = $1 AND at > $2`, [by.channelId, since])
      : await db.query<{ count: number; oldest: Date | null }>(`SELECT count(*)::int AS count, min(at) AS oldest FROM notify_attempts WHERE sent AND company_id = $1 AND at > $2`, [by.companyId, since])
  return row ?? { count: 0, oldest: null }
}

export interface AttemptRecord {
  deliveryId: number
  channelId: string
  companyId: string | null
  at: Date
  /** False for a wait (rate limit) or a cancellation: nothing went out. */
  sent: boolean
  ok: boolean
  status: string
  detail: string
  outcome: 'delivered' | 'retry' | 'failed' | 'cancelled'
  /** The next attempt, for `retry`. */
  retryAt: Date | null
}

/** Logs one attempt and moves the delivery on, in one transaction (the caller's). */
export async function recordNotifyAttempt(db: Queryable, a: AttemptRecord): Promise<void> {
  await db.query(
    `INSERT INTO notify_attempts (delivery_id, channel_id, company_id, at, sent, ok, status, detail, retry_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [a.deliveryId, a.channelId, a.companyId, a.at, a.sent, a.ok, a.status, a.detail, a.retryAt],
  )
  await db.query(
    `UPDATE notify_deliveries SET attempts = attempts + $2::int, last_status = $3, last_detail = $4,
       status = CASE $5 WHEN 'retry' THEN 'pending' ELSE $5 END,
       delivered_at = CASE WHEN $5 = 'delivered' THEN $6 ELSE delivered_at END,
       next_attempt_at = COALESCE($7, next_attempt_at)
     WHERE id = $1`,
    [a.deliveryId, a.sent ? 1 : 0, a.status, a.detail, a.outcome, a.at, a.retryAt],
  )
}

export interface DeliveryView {
  id: number
  eventId: number
  eventType: string
  step: number
  /** A group's digest. */
  digest: boolean
  channelId: string
  channelKind: string
  channelName: string
  userId: string | null
  userName: string | null
  address: string
  status: 'pending' | 'delivered' | 'failed' | 'cancelled'
  heldUntil: Date | null
  attempts: number
  lastStatus: string | null
  createdAt: Date
  deliveredAt: Date | null
  nextAttemptAt: Date
  log: { at: Date; sent: boolean; ok: boolean; status: string; detail: string; retryAt: Date | null }[]
}

/** Deliveries of one alert with their attempts, oldest first (bounded by `limit` deliveries). */
export async function deliveriesOfAlert(db: Queryable, alertId: number, limit: number): Promise<DeliveryView[]> {
  const rows = await db.query<DeliveryView>(
    `SELECT d.id::int AS id, d.event_id::int AS "eventId", e.type AS "eventType", d.step, d.digest_of IS NOT NULL AS digest, c.id AS "channelId", c.kind AS "channelKind", c.name AS "channelName",
       d.user_id AS "userId", u.name AS "userName", d.address, d.status, d.held_until AS "heldUntil", d.attempts, d.last_status AS "lastStatus",
       d.created_at AS "createdAt", d.delivered_at AS "deliveredAt", d.next_attempt_at AS "nextAttemptAt",
       COALESCE((SELECT json_agg(json_build_object('at', t.at, 'sent', t.sent, 'ok', t.ok, 'status', t.status, 'detail', t.detail, 'retryAt', t.retry_at) ORDER BY t.id)
                 FROM (SELECT * FROM notify_attempts WHERE delivery_id = d.id ORDER BY id DESC LIMIT 50) t), '[]') AS log
     FROM notify_deliveries d JOIN notify_channels c ON c.id = d.channel_id JOIN alert_events e ON e.id = d.event_id
     LEFT JOIN users u ON u.id = d.user_id
     WHERE d.alert_id = $1 ORDER BY d.id LIMIT $2`,
    [alertId, limit],
  )
  // json_agg hands timestamps back as text.
  for (const r of rows) for (const l of r.log) Object.assign(l, { at: new Date(l.at), retryAt: l.retryAt === null ? null : new Date(l.retryAt) })
  return rows
}

export interface LinkTarget {
  deliveryId: number
  alertId: number
  userId: string | null
  userName: string | null
  /** The recipient as they are now (null for a group link, or a user since deleted): checked at every use. */
  user: { role: Role; companyId: string | null; disabled: boolean } | null
  /** The language the message was written in. */
  locale: 'zh-CN' | 'en'
  expiresAt: Date
  usedAt: Date | null
}

export async function linkTarget(db: Queryable, deliveryId: number): Promise<LinkTarget | undefined> {
  const [row] = await db.query<LinkTarget>(
    `SELECT d.id::int AS "deliveryId", d.alert_id::int AS "alertId", d.user_id AS "userId", u.name AS "userName", d.locale,
       CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('role', u.role, 'companyId', u.company_id, 'disabled', u.disabled_at IS NOT NULL) END AS "user",
       d.link_expires_at AS "expiresAt", d.link_used_at AS "usedAt"
     FROM notify_deliveries d LEFT JOIN users u ON u.id = d.user_id WHERE d.id = $1`,
    [deliveryId],
  )
  return row
}

/** Spends a link: true for the one caller that used it first, before it expired. */
export async function useLink(db: Queryable, deliveryId: number, now: Date): Promise<boolean> {
  const rows = await db.query(
    'UPDATE notify_deliveries SET link_used_at = $2 WHERE id = $1 AND link_used_at IS NULL AND link_expires_at > $2 RETURNING 1',
    [deliveryId, now],
  )
  return rows.length > 0
}
