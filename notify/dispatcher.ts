// Notifications on the one delivery pipeline (pump.ts: claim with a lease, retry with backoff, the
// loop, shared with webhooks); the outbox (outbox.ts) queues them with the alert event. Per row:
// an alert acknowledged in the meantime is not paged; a channel's documented limits
// (ChannelLimits: a minute's, and a second's where the vendor has one — Feishu) and the
// per-company limit delay the page — it waits in the queue, it is never dropped; a failure the
// vendor may get over (connection refused, 5xx, 429) is retried with capped exponential backoff,
// or after the vendor's Retry-After when that is longer; one it cannot get over (or too many
// attempts) moves the page to the person's next contact point. Every attempt and every wait is
// in the delivery log. Phone numbers appear masked in the process log; secrets never do.
import type { Db } from '../core/db/client.ts'
import { unseal } from '../core/crypto.ts'
import type { Logger } from '../core/log.ts'
import { getAlert, type Alert } from '../core/repos/alerts.ts'
import { getDevice } from '../core/repos/devices.ts'
import { claimDueNotifications, deliveriesOfAlert, insertDelivery, recordNotifyAttempt, sentSince, type AttemptRecord, type DueNotification } from '../core/repos/notify-deliveries.ts'
import { reachableContacts } from '../core/repos/notify-setup.ts'
import { getCommunity } from '../core/repos/registry.ts'
import type { Unit } from '../core/units.ts'
import type { AlertBus } from '../alerts/events.ts'
import { DENY_ALL_SPECIAL, type DestinationPolicy } from '../core/egress.ts'
import type { ChannelAdapter, ChannelKind, DeliveryOutcome, Locale } from './channel.ts'
import type { LinkSigner } from './links.ts'
import { ADAPTERS, type AdapterEntry } from './registry.ts'
import { maskAddress } from './mask.ts'
import { DeliveryPump, settle, type RetryPolicy } from './pump.ts'
import { render, type RenderInput } from './render.ts'
import { DIGEST_LISTED, renderDigest, type DigestInput } from './digest.ts'
import { groupMembers } from '../core/repos/alert-groups.ts'
import { placeText } from '../shared/place.ts'

export interface NotifyDispatchOptions extends RetryPolicy {
  pollMs: number
  /** How long a claimed row is left alone by other processes; longer than the slowest send. */
  leaseMs: number
  /** Pages a minute for one company over all its channels (0 = no limit). */
  companyPerMinute: number
  /** Time zone of the deadlines printed in messages. */
  timezone: string
  /** Where every channel may connect (EGRESS_ALLOW); default: public addresses only. */
  destinations?: DestinationPolicy
  /** Told of every recorded attempt (hb_notify_deliveries_total); a wait for a rate limit is `rate_limited`. */
  onAttempt?: (channelKind: string, outcome: AttemptOutcome) => void
}

export type AttemptOutcome = AttemptRecord['outcome'] | 'rate_limited'

export const DEFAULT_NOTIFY_DISPATCH: NotifyDispatchOptions = {
  retryBaseMs: 5_000,
  retryMaxMs: 600_000,
  maxAttempts: 12,
  pollMs: 1000,
  leaseMs: 60_000,
  companyPerMinute: 120,
  timezone: 'Asia/Shanghai',
}

/** Adapters kept built (they may hold pooled connections); the oldest is closed beyond this. */
const ADAPTER_CACHE = 100
const SECOND = 1000
const MINUTE = 60_000
/** Members of a group a digest reads to find the open ones (a window's group is small). */
const DIGEST_MEMBERS = 200
/** People named as "also paged" in a message, at most. */
const OTHERS_LISTED = 5

export class NotificationDispatcher implements Unit {
  readonly name = 'notify-dispatcher'
  private readonly pump: DeliveryPump<DueNotification>
  private readonly adapters = new Map<string, { key: string; adapter: ChannelAdapter }>()

  constructor(
    private readonly db: Db,
    bus: AlertBus,
    private readonly secretKey: Buffer,
    private readonly links: LinkSigner,
    private readonly opts: NotifyDispatchOptions,
    private readonly log: Logger,
    private readonly clock: () => Date = () => new Date(),
    private readonly registry: Partial<Record<ChannelKind, AdapterEntry>> = ADAPTERS,
  ) {
    const kind = {
      claim: (now: Date, leaseMs: number, limit: number) => claimDueNotifications(db, now, leaseMs, limit),
      deliver: (d: DueNotification) => this.deliver(d),
      // A rate-limited channel's sends go one after the other (its limit is counted between them).
      serialKey: (d: DueNotification) => (this.isLimited(d) ? d.channelId : undefined),
    }
    this.pump = new DeliveryPump(this.name, bus, kind, { pollMs: opts.pollMs, leaseMs: opts.leaseMs, what: 'notification dispatch' }, log, clock)
  }

  start(): Promise<void> {
    return this.pump.start()
  }

  async stop(): Promise<void> {
    await this.pump.stop()
    for (const { adapter } of this.adapters.values()) await adapter.close?.().catch((err: unknown) => this.log.warn({ err }, 'closing a channel failed'))
    this.adapters.clear()
  }

  /** Runs a pass now (tests moving a controllable clock call this). */
  kick(): void {
    this.pump.kick()
  }

  /** Whether the channel has a documented sending limit (false when it cannot be built). */
  private isLimited(d: DueNotification): boolean {
    try {
      const limits = this.adapterFor(d)?.limits
      return limits?.perMinute !== undefined || limits?.perSecond !== undefined
    } catch {
      return false
    }
  }

  private adapterFor(d: DueNotification): ChannelAdapter | undefined {
    const entry = this.registry[d.channelKind as ChannelKind]
    if (!entry) return undefined
    const key = `${JSON.stringify(d.settings)}|${d.secrets ?? ''}`
    const cached = this.adapters.get(d.channelId)
    if (cached?.key === key) return cached.adapter
    if (cached) void cached.adapter.close?.().catch(() => undefined)
    const secrets: unknown = d.secrets ? JSON.parse(unseal(this.secretKey, d.secrets, d.channelId)) : {}
    const adapter = entry.create(d.settings, secrets, { egress: this.opts.destinations ?? DENY_ALL_SPECIAL })
    this.adapters.delete(d.channelId)
    this.adapters.set(d.channelId, { key, adapter })
    if (this.adapters.size > ADAPTER_CACHE) {
      const [oldest] = this.adapters.entries()
      if (oldest) {
        this.adapters.delete(oldest[0])
        void oldest[1].adapter.close?.().catch(() => undefined)
      }
    }
    return adapter
  }

  private async record(d: DueNotification, r: Omit<AttemptRecord, 'deliveryId' | 'channelId' | 'companyId'>): Promise<void> {
    await this.db.transaction((tx) => recordNotifyAttempt(tx, { ...r, deliveryId: d.id, channelId: d.channelId, companyId: d.companyId }))
    this.opts.onAttempt?.(d.channelKind, !r.sent && r.outcome === 'retry' ? 'rate_limited' : r.outcome)
  }

  /** When a limit of `max` sends a `windowMs` is reached, the time the oldest of them leaves the window. */
  private async limitedUntil(by: { channelId: string } | { companyId: string }, max: number, windowMs: number, now: Date): Promise<Date | undefined> {
    const { count, oldest } = await sentSince(this.db, by, new Date(now.getTime() - windowMs))
    return count >= max && oldest ? new Date(oldest.getTime() + windowMs + 1) : undefined
  }

  /** Until when a limit holds this page back, and the delivery log's words for it; undefined: send now. */
  private async heldByLimit(d: DueNotification, adapter: ChannelAdapter, now: Date): Promise<{ until: Date; detail: string } | undefined> {
    const channel: [number | undefined, number, string][] = [
      [adapter.limits.perSecond, SECOND, 'second'],
      [adapter.limits.perMinute, MINUTE, 'minute'],
    ]
    for (const [max, windowMs, unit] of channel) {
      const until = max ? await this.limitedUntil({ channelId: d.channelId }, max, windowMs, now) : undefined
      if (until) return { until, detail: `channel limit of ${max} a ${unit} reached; queued` }
    }
    const perMinute = this.opts.companyPerMinute
    const until = d.companyId && perMinute > 0 ? await this.limitedUntil({ companyId: d.companyId }, perMinute, MINUTE, now) : undefined
    return until ? { until, detail: `company limit of ${perMinute} a minute reached; queued` } : undefined
  }

  private async deliver(d: DueNotification): Promise<void> {
    const now = this.clock()
    const to = maskAddress(d.address)
    // A page of the escalation is moot once someone acknowledged; a page to the person the alert
    // was handed to (step 0) goes while it is unresolved; a group's digest while one of the
    // members it tells of is still open.
    const digest = d.digestOf === null ? undefined : await groupMembers(this.db, d.digestOf, DIGEST_MEMBERS + 1)
    const later = digest?.filter((a) => a.id !== d.digestOf)
    const moot = later ? (later.some((a) => a.state === 'open') ? undefined : 'every alert of the digest acknowledged before sending') : d.step > 0 ? d.alertState !== 'open' : d.alertState === 'resolved'
    if (moot) {
      const detail = typeof moot === 'string' ? moot : `alert ${d.alertState.replace('_', ' ')} before sending`
      await this.record(d, { at: now, sent: false, ok: false, status: 'cancelled', detail, outcome: 'cancelled', retryAt: null })
      return
    }
    const adapter = this.adapterFor(d)
    if (!adapter) {
      await this.record(d, { at: now, sent: false, ok: false, status: 'no adapter', detail: `no adapter for ${d.channelKind} in this build`, outcome: 'failed', retryAt: null })
      return
    }
    const wait = await this.heldByLimit(d, adapter, now)
    if (wait) {
      await this.record(d, { at: now, sent: false, ok: false, status: 'rate limited', detail: wait.detail, outcome: 'retry', retryAt: wait.until })
      return
    }

    const first = digest?.find((a) => a.id === d.digestOf)
    const alert = first ?? (await getAlert(this.db, d.alertId))
    if (!alert) return
    const signature = adapter.smsSignature ?? ''
    const message = later
      ? renderDigest(d.locale, { ...(await this.digestPlaces(alert, later, d.locale)), first: alert, link: this.links.url(d.id), signature })
      : render(d.locale, { ...(await this.whereAndWho(alert, d)), alert, link: this.links.url(d.id), step: d.step, timezone: this.opts.timezone, now, signature })
    let outcome: DeliveryOutcome
    try {
      outcome = await adapter.send(message, d.address ? { address: d.address } : {})
    } catch (err) {
      // An adapter should answer with an outcome; one that throws is treated as a retryable failure.
      this.log.error({ err, delivery: d.id, channel: d.channelKind }, 'channel adapter threw')
      outcome = { ok: false, retryable: true, status: 'adapter error', detail: 'the channel adapter failed' }
    }
    const attempt = d.attempts + 1
    const done = this.clock()
    if (outcome.ok) {
      await this.record(d, { at: done, sent: true, ok: true, status: outcome.status, detail: outcome.detail, outcome: 'delivered', retryAt: null })
      this.log.info({ delivery: d.id, alert: d.alertId, channel: d.channelKind, to, status: outcome.status }, 'notification delivered')
      return
    }
    const { outcome: next, retryAt } = settle(this.opts, attempt, done, outcome)
    const retry = next === 'retry'
    await this.record(d, { at: done, sent: true, ok: false, status: outcome.status, detail: outcome.detail, outcome: next, retryAt })
    this.log.warn({ delivery: d.id, alert: d.alertId, channel: d.channelKind, to, status: outcome.status, attempt, retryAt }, retry ? 'notification failed; will retry' : 'notification failed')
    if (!retry) await this.fallBack(d, done)
  }

  /** Where the alert is (community, the spot within it, the device) and who else was paged, for the message. */
  private async whereAndWho(alert: Alert, d: DueNotification): Promise<Pick<RenderInput, 'community' | 'spot' | 'device' | 'elevator' | 'others'>> {
    const community = alert.communityId ? await getCommunity(this.db, alert.communityId) : undefined
    const device = alert.deviceId ? await getDevice(this.db, alert.deviceId) : undefined
    const others = new Set<string>()
    for (const row of await deliveriesOfAlert(this.db, alert.id, OTHERS_LISTED * 2)) {
      if (row.id !== d.id && row.userName !== null && row.status !== 'cancelled') others.add(row.userName)
    }
    // Building, unit, floor and the position text as the registry has them (shared/place.ts); a
    // resident's report says where in its own words.
    const rooms = device ? placeText(d.locale, { building: device.building, unit: device.unit, floor: device.floor, location: device.location }) : ''
    return {
      community: community?.name ?? alert.communityId ?? '',
      spot: [rooms, alert.location ?? ''].filter(Boolean).join(' · '),
      device: device ? (device.name ?? device.id) : '',
      ...(device?.kind === 'elevator' ? { elevator: { rescueCode: device.rescueCode, registrationCode: device.registrationCode } } : {}),
      others: [...others].slice(0, OTHERS_LISTED),
    }
  }

  /** A digest's community and where each of the later members is (the first `DIGEST_LISTED` of them). */
  private async digestPlaces(first: Alert, later: Alert[], locale: Locale): Promise<Pick<DigestInput, 'community' | 'members' | 'total'>> {
    const community = first.communityId ? await getCommunity(this.db, first.communityId) : undefined
    const members: DigestInput['members'][number][] = []
    for (const alert of later.slice(0, DIGEST_LISTED)) {
      const device = alert.deviceId ? await getDevice(this.db, alert.deviceId) : undefined
      const rooms = device ? placeText(locale, { building: device.building, unit: device.unit, floor: device.floor, location: device.location }) : ''
      members.push({ alert, place: [device ? (device.name ?? device.id) : '', rooms, alert.location ?? ''].filter(Boolean).join(' · ') })
    }
    // The group's size counts every member; the list read here is bounded.
    const size = first.groupSize ?? later.length + 1
    return { community: community?.name ?? first.communityId ?? '', members, total: Math.max(size - 1, later.length) }
  }

  /** A page that cannot reach a person's preferred contact point goes to their next one. */
  private async fallBack(d: DueNotification, now: Date): Promise<void> {
    if (!d.userId) return
    const contacts = await reachableContacts(this.db, d.userId)
    const at = contacts.findIndex((c) => c.channelId === d.channelId && c.address === d.address)
    const next = at < 0 ? undefined : contacts[at + 1]
    if (!next) return
    await insertDelivery(this.db, {
      alertId: d.alertId,
      eventId: d.eventId,
      step: d.step,
      companyId: d.companyId,
      channelId: next.channelId,
      userId: d.userId,
      address: next.address,
      locale: next.locale,
      dueAt: now,
      heldUntil: null,
      createdAt: now,
      linkExpiresAt: d.linkExpiresAt,
      digestOf: d.digestOf,
    })
    this.pump.kick()
  }
}
