// Deciding who is paged for an alert event, inside the transaction that records the event: the
// rows written here are the outbox, so a crash after the commit loses no page and a rollback
// sends none. Only raises, escalations and reminders page people; repeats and updates of an
// alert never do (deduplication), and the same event reaches the same address once (unique key).
// Acknowledging or resolving cancels what is still queued: the chain stops. A group's later
// members page nobody: one digest lists them when the group's window closes.
import type { Queryable } from '../core/db/client.ts'
import type { Severity } from '../shared/domain.ts'
import type { Alert, AlertEvent } from '../core/repos/alerts.ts'
import { getGroup } from '../core/repos/alert-groups.ts'
import { cancelPending, insertDelivery, pagedFirstStep, queueDigest, reminderOrdinal } from '../core/repos/notify-deliveries.ts'
import { botChannels, reachableContacts, storedPolicies } from '../core/repos/notify-setup.ts'
import { findUserByName } from '../core/repos/tokens.ts'
import { coverOf } from './coverage.ts'
import { DEFAULT_POLICIES, parsePolicy, quietUntil, stepFor, type Policy } from './policy.ts'

export interface OutboxOptions {
  /** How long a message's link opens the alert. */
  linkTtlMs: number
}

export type PolicySource = 'company' | 'office' | 'default'

/**
 * The policy in force for a company's alert of a severity: the company's own, else the housing
 * office's, else the default. `companyId` null (an alert of no company) asks for the office's.
 */
export async function policyFor(db: Queryable, severity: Severity, companyId: string | null): Promise<{ policy: Policy; source: PolicySource }> {
  for (const stored of await storedPolicies(db, severity, companyId)) {
    // A stored policy was validated when it was saved; a row that no longer parses is passed over.
    try {
      return { policy: parsePolicy(severity, stored.definition, stored.companyId), source: stored.companyId === null ? 'office' : 'company' }
    } catch {
      continue
    }
  }
  return { policy: DEFAULT_POLICIES[severity], source: 'default' }
}

/**
 * An alert handed to a person by someone else pages that person at once (a claim pages nobody):
 * their most preferred reachable contact point, step 0 — a page to a person, sent while the
 * alert is unresolved, acknowledged or not (notify/dispatcher.ts).
 */
async function pageAssignee(tx: Queryable, event: AlertEvent, alert: Alert, now: Date, opts: OutboxOptions): Promise<number> {
  const to = typeof event.data?.to === 'string' ? event.data.to : undefined
  if (!to || to === event.actor || alert.state === 'resolved') return 0
  const user = await findUserByName(tx, to)
  const [first] = user ? await reachableContacts(tx, user.id) : []
  if (!user || !first) return 0
  const base = { alertId: alert.id, eventId: event.id, step: 0, companyId: alert.companyId, dueAt: now, heldUntil: null, createdAt: now, linkExpiresAt: new Date(now.getTime() + opts.linkTtlMs) }
  return (await insertDelivery(tx, { ...base, channelId: first.channelId, userId: user.id, address: first.address, locale: first.locale })) ? 1 : 0
}

/**
 * The digest of a group (notify/digest.ts), queued by the raise of its second member for the end of
 * the window, to whom the first alert paged; later members find it queued and add nothing.
 */
async function queueGroupDigest(tx: Queryable, event: AlertEvent, alert: Alert, now: Date, opts: OutboxOptions): Promise<number> {
  if (alert.groupId === null || (event.type !== 'raised' && event.type !== 'unsilenced')) return 0
  const group = await getGroup(tx, alert.groupId)
  if (!group) return 0
  const dueAt = group.closesAt > now ? group.closesAt : now
  return queueDigest(tx, { groupId: group.id, alertId: alert.id, eventId: event.id, companyId: alert.companyId, dueAt, createdAt: now, linkExpiresAt: new Date(dueAt.getTime() + opts.linkTtlMs) })
}

/** Queues the pages an alert event calls for; returns how many deliveries were queued. */
export async function enqueueNotifications(tx: Queryable, event: AlertEvent, alert: Alert, now: Date, opts: OutboxOptions): Promise<number> {
  if (event.type === 'acknowledged' || event.type === 'resolved') {
    await cancelPending(tx, alert.id, `alert ${event.type} by ${event.actor}`)
    return 0
  }
  if (event.type === 'assigned') return pageAssignee(tx, event, alert, now, opts)
  if (alert.silenced || alert.state !== 'open') return 0
  // A later member of a group pages nobody itself: its raise queues the group's digest, and the
  // group's escalation follows its first alert (alerts/grouping.ts). When the first paged nobody
  // (raised in a maintenance window that does not cover this one), the member pages on its own.
  if (alert.groupId !== null && alert.groupId !== alert.id && (await pagedFirstStep(tx, alert.groupId))) return queueGroupDigest(tx, event, alert, now, opts)
  const { policy } = await policyFor(tx, alert.severity, alert.companyId)
  const reminders = event.type === 'reminded' ? await reminderOrdinal(tx, alert.id, event.id) : 0
  const index = stepFor(event.type, event.data?.deadline, reminders, policy.steps.length)
  const step = index === undefined ? undefined : policy.steps[index]
  if (index === undefined || !step) return 0

  const owner = step.rota === 'duty' ? null : alert.companyId
  const held = quietUntil(policy, now) ?? null
  const base = {
    alertId: alert.id,
    eventId: event.id,
    step: index + 1,
    companyId: alert.companyId,
    dueAt: held ?? now,
    heldUntil: held,
    createdAt: now,
    linkExpiresAt: new Date((held ?? now).getTime() + opts.linkTtlMs),
  }
  let queued = 0
  // The on-call person's most preferred contact point a channel reaches (the others are fall-backs
  // for people who set them up, not extra pages). A company step that would reach nobody — no
  // rota, nobody on call, no reachable contact, or an alert of no company — pages the office's
  // duty officer at once instead (notify/coverage.ts).
  let cover = owner === null && step.rota !== 'duty' ? { gap: 'no_rota' as const } : await coverOf(tx, owner, step.rota, now)
  if (cover.gap !== undefined && step.rota !== 'duty') cover = await coverOf(tx, null, 'duty', now)
  const { userId, contact } = cover
  if (userId && contact && (await insertDelivery(tx, { ...base, channelId: contact.channelId, userId, address: contact.address, locale: contact.locale }))) queued++
  if (step.bots && (owner !== null || step.rota === 'duty')) {
    for (const bot of await botChannels(tx, owner)) {
      if (await insertDelivery(tx, { ...base, channelId: bot.id, userId: null, address: '', locale: 'zh-CN' })) queued++
    }
  }
  return queued
}
