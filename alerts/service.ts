// The alert lifecycle: reports from producers (rules engine, Node-RED, residents) become one
// alert per (rule, device); people acknowledge, start and resolve it; missed deadlines escalate.
// Between acknowledging and resolving, the crew records "on my way" (`en_route`) and "arrived on
// site" (`arrived`): history events, the first of each also kept on the alert (`enRouteAt`,
// `arrivedAt`) for the ranking's time to arrive. Either acknowledges an open alert; arriving also
// puts it in progress. Repeats (a second trip) are history only: the first arrival counts.
// Every change is one transaction that also writes the history row and the registered outboxes'
// deliveries; the live stream and the dispatchers hear of it only after the commit.
//
// Time: deadlines, maintenance windows and people's actions run on this server's clock (`clock`),
// never on a producer's: a report's `at` is kept as when the condition was observed, but a time
// ahead of the server is taken as now, and deadlines count from when the report arrived. An alert
// raised inside a maintenance window notifies nobody; if it is still unresolved when the window
// ends it enters the normal path then, its deadlines counted from the window's end.
//
// Credit: `resolvedAuto` marks a resolve done by the producer because the condition cleared, so
// the ranking can tell it from a person's (alerts/score.ts, core/repos/evaluation.ts).
import type { Db, Queryable } from '../core/db/client.ts'
import { formatDuration } from '../shared/duration.ts'
import { AppError } from '../core/errors.ts'
import type { Logger } from '../core/log.ts'
import type { ReasonDetail } from '../core/reason-detail.ts'
import type { TitleDetail } from '../shared/alert-title.ts'
import { type AlertEventType, type AlertSource, type Severity } from '../shared/domain.ts'
import { alertsNeedingEscalation, getAlert, insertAlert, insertEvent, lastUpdateAt, notifyAlertEvents, raiseContext, silencedPastWindow, unresolvedForReport, updateAlert, type Alert, type AlertPatch, type RaiseContext } from '../core/repos/alerts.ts'
import { countPhotos, insertPhoto, type PhotoInfo, type PhotoType } from '../core/repos/photos.ts'
import { getRuleMeta, type RuleMeta } from '../core/repos/rules.ts'
import { renderReason } from '../shared/reason-text.ts'
import { ACK_HOW, type AckHow, type SystemNote } from '../shared/system-note.ts'
import { AlertBus, type CommittedEvent, type EventOutbox } from './events.ts'
import { AlertFeed, feedPayloadRest, type FeedMessage } from './feed.ts'
import { joinGroup, NO_GROUPING, openNewGroup, type GroupingPolicy } from './grouping.ts'

export interface DeadlinePolicy {
  ackMs: number
  resolveMs: number
}

/** Defaults; an elevator entrapment (critical): acknowledge within 5 min, resolve within 30 min. */
export const DEFAULT_DEADLINES: Record<Severity, DeadlinePolicy> = {
  critical: { ackMs: 5 * 60_000, resolveMs: 30 * 60_000 },
  major: { ackMs: 15 * 60_000, resolveMs: 4 * 3_600_000 },
  minor: { ackMs: 3_600_000, resolveMs: 24 * 3_600_000 },
  warning: { ackMs: 4 * 3_600_000, resolveMs: 72 * 3_600_000 },
}

export interface AlertReport {
  ruleId: string
  deviceId: string | null
  condition: 'active' | 'cleared'
  value?: number | null | undefined
  at?: Date | undefined
  reason?: string | undefined
  /** The reason as data; its English rendering stands in for a missing `reason`. */
  reasonDetail?: ReasonDetail | undefined
  /** The title as data (a resident's report), for readers in other languages; `title` is its English. */
  titleDetail?: TitleDetail | undefined
  predictedAt?: Date | null | undefined
  flapping?: boolean | undefined
  /** The device time of a rules engine's raise or clear: the same one twice is one fault (a re-send after a restart). */
  faultAt?: Date | undefined
  /** For producers without a stored rule (Node-RED flows, residents): how to raise it. */
  source?: AlertSource | undefined
  severity?: Severity | undefined
  title?: string | undefined
  communityId?: string | undefined
  /** Resident hazard reports: where, a picture, and who reported it. */
  location?: string | undefined
  photoUrl?: string | undefined
  reportedBy?: string | undefined
}

export type ReportOutcome = 'raised' | 'updated' | 'cleared' | 'resolved' | 'rearm_pending' | 'ignored'

/** What an action carries besides its note: a resolve's note meant for residents; a note the service writes itself (shared/system-note.ts). */
export interface ActOptions {
  publicNote?: boolean
  says?: SystemNote
}

export type Action = 'acknowledge' | 'en_route' | 'arrive' | 'start' | 'resolve' | 'comment'

/** Repeats within this time of the last `updated` event only bump the counters, without an event. */
const UPDATE_EVENT_EVERY_MS = 60_000
const UNIQUE_VIOLATION = '23505'
/** Alerts taken out of their ended maintenance windows per pass (the next pass takes the rest). */
const RELEASE_BATCH = 500

/** The report's reason text; a producer that sent only the detail gets its English rendering. */
function reasonText(r: AlertReport): string | undefined {
  return r.reason ?? (r.reasonDetail ? renderReason(r.reasonDetail, 'en') : undefined)
}

/** A raised or cleared event keeps the reason as data too, so its note reads in any language. */
function reasonData(r: AlertReport): { reasonDetail: ReasonDetail } | null {
  return r.reasonDetail ? { reasonDetail: r.reasonDetail } : null
}

export class AlertService {
  readonly bus = new AlertBus()
  /** Outboxes written with every event, in its transaction, in the order registered (once, at wiring). */
  readonly outboxes: EventOutbox[] = []

  /**
   * Every committed alert event of every API process on this database, in id order, onto `bus`
   * (feed.ts); started (LISTEN) by the API server, it also hands on this service's own without it.
   */
  readonly feed: AlertFeed

  constructor(
    private readonly db: Db,
    private readonly deadlines: Record<Severity, DeadlinePolicy>,
    private readonly log: Logger,
    /** The server's clock (tests pass a controllable one). */
    readonly clock: () => Date = () => new Date(),
    /** Which alerts form a group (grouping.ts); default off. */
    private readonly grouping: GroupingPolicy = NO_GROUPING,
  ) {
    // A listener that throws must not break the producer that committed the event.
    this.bus.setMaxListeners(1000)
    this.feed = new AlertFeed(db, (e) => this.bus.emit('event', e), log.child({ module: 'alert-feed' }))
  }

  /** Applies a producer's report; idempotent per (rule, device). */
  async report(r: AlertReport, actor: string): Promise<{ outcome: ReportOutcome; alert: Alert | null }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.inTx((tx, events) => this.applyReport(tx, events, r, actor))
      } catch (err) {
        // Two reports racing to raise the same (rule, device): the loser retries as an update.
        if (attempt === 0 && (err as { code?: string }).code === UNIQUE_VIOLATION) continue
        throw err
      }
    }
  }

  private async applyReport(tx: Queryable, events: CommittedEvent[], r: AlertReport, actor: string): Promise<{ outcome: ReportOutcome; alert: Alert | null }> {
    const now = this.clock()
    // A producer's clock may run ahead: nothing is observed later than it arrives.
    const at = r.at !== undefined && r.at < now ? r.at : now
    const value = r.value ?? null
    const { open, faultRecorded } = await unresolvedForReport(tx, { ruleId: r.ruleId, deviceId: r.deviceId, condition: r.condition, faultAt: r.faultAt })
    if (faultRecorded) return { outcome: 'ignored', alert: open ?? null }

    if (r.condition === 'cleared') {
      if (!open || open.condition === 'cleared') return { outcome: 'ignored', alert: open ?? null }
      let alert = await updateAlert(tx, open.id, { condition: 'cleared', clearedAt: at, lastValue: value ?? open.lastValue, flapping: r.flapping ?? open.flapping, ...(r.faultAt ? { faultClearedAt: r.faultAt } : {}) })
      events.push({ event: await insertEvent(tx, { alertId: alert.id, type: 'cleared', actor, note: reasonText(r) ?? null, at, data: reasonData(r) }), alert })
      if (!alert.autoResolve) return { outcome: 'cleared', alert }
      alert = await updateAlert(tx, alert.id, { state: 'resolved', resolvedAt: at, resolvedBy: actor, resolvedActive: false, resolvedAuto: true })
      events.push({ event: await insertEvent(tx, { alertId: alert.id, type: 'resolved', actor, note: 'condition cleared (auto-resolve)', at, data: { says: { key: 'resolve.auto' } } }), alert })
      return { outcome: 'resolved', alert }
    }

    if (open) {
      const patch: AlertPatch = { count: open.count + 1, lastValue: value ?? open.lastValue, lastSeenAt: at }
      if (r.predictedAt !== undefined) patch.predictedAt = r.predictedAt
      if (r.flapping !== undefined) patch.flapping = r.flapping
      const reactivated = open.condition === 'cleared'
      if (reactivated) {
        patch.condition = 'active'
        patch.clearedAt = null
      }
      if (r.faultAt && reactivated) patch.faultAt = r.faultAt
      const alert = await updateAlert(tx, open.id, patch)
      const changed = reactivated || alert.flapping !== open.flapping
      const quiet = ((await lastUpdateAt(tx, alert.id))?.getTime() ?? 0) + UPDATE_EVENT_EVERY_MS <= at.getTime()
      if (changed || quiet) {
        const note = reactivated ? 'condition active again' : alert.flapping && !open.flapping ? 'flapping' : null
        events.push({ event: await insertEvent(tx, { alertId: alert.id, type: 'updated', actor, note, at, data: { count: alert.count, value } }), alert })
      }
      return { outcome: 'updated', alert }
    }

    // What the raise needs, read in one round trip: on a loaded database each one costs (issue 17).
    const context = await raiseContext(tx, { ruleId: r.ruleId, deviceId: r.deviceId, communityId: r.communityId ?? null, faultAt: r.faultAt, now })
    if (context.faultRecorded) return { outcome: 'ignored', alert: null }
    const fromRule = r.source === undefined || r.source === 'rules'
    const meta = fromRule ? context.rule : undefined
    if (fromRule && !meta) {
      throw new AppError('validation_failed', `body.ruleId: no rule "${r.ruleId}"; create it first or send source, severity and title`)
    }
    // A person resolved the previous alert while the fault persisted: raise again only after the re-arm delay.
    const previous = context.previous
    if (previous?.resolvedActive && previous.resolvedAt && previous.resolvedAt.getTime() + previous.rearmMs > at.getTime()) {
      return { outcome: 'rearm_pending', alert: null }
    }
    const alert = await this.raise(tx, r, meta, context, { at, now }, value, previous?.resolvedActive ? previous.id : null)
    events.push({
      event: await insertEvent(tx, {
        alertId: alert.id,
        type: 'raised',
        actor,
        note: reasonText(r) ?? null,
        at,
        data: alert.reraiseOf || r.reasonDetail ? { ...(alert.reraiseOf ? { reraiseOf: alert.reraiseOf } : {}), ...reasonData(r) } : null,
      }),
      alert,
    })
    return { outcome: 'raised', alert }
  }

  private async raise(tx: Queryable, r: AlertReport, meta: RuleMeta | undefined, context: RaiseContext, t: { at: Date; now: Date }, value: number | null, reraiseOf: number | null): Promise<Alert> {
    const severity = meta?.severity ?? r.severity
    const title = meta?.name ?? r.title
    if (!severity || !title) throw new AppError('validation_failed', 'body: severity and title are required when the alert has no stored rule')
    if (r.deviceId && !context.deviceFound) throw new AppError('device_not_found', `No device "${r.deviceId}"`)
    if (!r.deviceId && r.communityId && !context.community) throw new AppError('not_found', `No community "${r.communityId}"`)
    const communityId = context.community?.id ?? null
    const companyId = context.community?.companyId ?? null
    const { ackMs, resolveMs } = this.deadlinesOf(severity, meta)
    const silenced = context.silenced
    // Takes the group key's lock to the commit: a raise of the same key waits and then joins.
    const joined = await joinGroup(tx, this.grouping, { ruleId: r.ruleId, communityId, companyId, severity }, t.now)
    const alert = await insertAlert(tx, {
      ruleId: r.ruleId,
      deviceId: r.deviceId,
      communityId,
      companyId,
      source: r.source ?? 'rules',
      severity,
      title,
      titleDetail: r.titleDetail ?? null,
      reason: reasonText(r) ?? meta?.description ?? null,
      reasonDetail: r.reasonDetail ?? null,
      autoResolve: meta?.autoResolve ?? false,
      silenced,
      flapping: r.flapping ?? false,
      value,
      predictedAt: r.predictedAt ?? null,
      raisedAt: t.at,
      notifiedAt: silenced ? null : t.now,
      rearmMs: meta?.rearmAfterMs ?? 10 * 60_000,
      // Provisional while silenced: counted again from the window's end (releaseSilenced).
      ackDeadline: new Date(t.now.getTime() + ackMs),
      resolveDeadline: new Date(t.now.getTime() + resolveMs),
      reraiseOf,
      location: r.location ?? null,
      photoUrl: r.photoUrl ?? null,
      reportedBy: r.reportedBy ?? null,
      faultAt: r.faultAt ?? null,
      groupId: joined?.groupId ?? null,
    })
    if (!joined || joined.groupId !== undefined) return alert
    await openNewGroup(tx, this.grouping, alert.id, joined.key, t.now)
    return { ...alert, groupId: alert.id, groupSize: 1 }
  }

  private deadlinesOf(severity: Severity, meta: RuleMeta | undefined): DeadlinePolicy {
    const policy = this.deadlines[severity]
    return { ackMs: meta?.ackDeadlineMs ?? policy.ackMs, resolveMs: meta?.resolveDeadlineMs ?? policy.resolveMs }
  }

  /**
   * Alerts raised in a maintenance window that are still unresolved when no window covers them
   * any more enter the normal path: unsilenced, their deadlines counted from the window's end, and
   * an `unsilenced` event that the live stream and the webhooks hear of.
   */
  async releaseSilenced(now: Date): Promise<number> {
    let released = 0
    for (const { id, windowEnd } of await silencedPastWindow(this.db, now, RELEASE_BATCH)) {
      await this.inTx(async (tx, events) => {
        const a = await getAlert(tx, id, true)
        if (!a?.silenced || a.state === 'resolved') return
        const from = windowEnd ?? now
        const meta = a.source === 'rules' ? await getRuleMeta(tx, a.ruleId) : undefined
        const { ackMs, resolveMs } = this.deadlinesOf(a.severity, meta)
        const alert = await updateAlert(tx, id, {
          silenced: false,
          notifiedAt: from,
          ackDeadline: new Date(from.getTime() + ackMs),
          resolveDeadline: new Date(from.getTime() + resolveMs),
        })
        const note = 'maintenance window ended with the alert unresolved; deadlines count from its end'
        events.push({ event: await insertEvent(tx, { alertId: id, type: 'unsilenced', actor: 'system', note, at: now, data: { windowEnd: from.toISOString() } }), alert })
        released++
      })
    }
    return released
  }

  /**
   * A person's action on an alert they may see (the caller has checked visibility). Resolving
   * with `publicNote` gives the note to the community's residents too (`publicNote`).
   */
  async act(id: number, action: Action, actor: string, note: string | undefined, opts: ActOptions = {}): Promise<Alert> {
    return this.inTx((tx, events) => this.transition(tx, events, id, action, actor, note, opts))
  }

  /**
   * The same action on many alerts (bulk by filter: api/routes/alerts-bulk.ts), in one
   * transaction, each through `act`'s transition with its history event; an alert whose state no
   * longer allows it (changed since it was listed) is skipped, not an error.
   */
  async actMany(ids: readonly number[], action: 'acknowledge' | 'resolve', actor: string, note: string | undefined): Promise<{ done: number; skipped: number }> {
    return this.inTx(async (tx, events) => {
      let done = 0
      for (const id of ids) {
        try {
          await this.transition(tx, events, id, action, actor, note, {})
          done++
        } catch (err) {
          // Refused before anything was written (gone, or no longer in a state that allows it).
          if (err instanceof AppError && (err.code === 'invalid_transition' || err.code === 'not_found')) continue
          throw err
        }
      }
      return { done, skipped: ids.length - done }
    })
  }

  private async transition(tx: Queryable, events: CommittedEvent[], id: number, action: Action, actor: string, note: string | undefined, opts: ActOptions): Promise<Alert> {
    const current = await getAlert(tx, id, true)
    if (!current) throw new AppError('not_found', `No alert ${id}`)
    const now = this.clock()
    const record = async (alert: Alert, type: AlertEventType, n: string | null = note ?? null, says: SystemNote | undefined = opts.says) => {
      events.push({ event: await insertEvent(tx, { alertId: id, type, actor, note: n, at: now, data: says ? { says } : null }), alert })
      return alert
    }
    const refuse = (what: string) => {
      throw new AppError('invalid_transition', `Alert ${id} is ${current.state.replace('_', ' ')}; it cannot be ${what}`)
    }
    // A later step without a separate acknowledgement acknowledges too.
    const acknowledgeBy = async (how: AckHow) =>
      current.state === 'open' ? record(await updateAlert(tx, id, { state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: actor }), 'acknowledged', `acknowledged by ${ACK_HOW[how]}`, { key: 'ack.by', how }) : current
    switch (action) {
      case 'comment':
        if (!note) throw new AppError('validation_failed', 'body.note: a comment needs a note')
        return record(current, 'commented')
      case 'acknowledge':
        if (current.state !== 'open') refuse('acknowledged')
        return record(await updateAlert(tx, id, { state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: actor }), 'acknowledged')
      case 'start': {
        if (current.state !== 'open' && current.state !== 'acknowledged') refuse('started')
        await acknowledgeBy('start')
        return record(await updateAlert(tx, id, { state: 'in_progress', startedAt: now }), 'started')
      }
      case 'en_route': {
        if (current.state === 'resolved') refuse('set on the way')
        const acked = await acknowledgeBy('en_route')
        return record(acked.enRouteAt ? acked : await updateAlert(tx, id, { enRouteAt: now }), 'en_route')
      }
      case 'arrive': {
        if (current.state === 'resolved') refuse('arrived at')
        const acked = await acknowledgeBy('arrive')
        const patch: AlertPatch = {}
        if (!acked.arrivedAt) patch.arrivedAt = now
        // On site is work in progress; an alert already in progress keeps its start time.
        if (acked.state === 'acknowledged') {
          patch.state = 'in_progress'
          patch.startedAt = now
        }
        return record(Object.keys(patch).length > 0 ? await updateAlert(tx, id, patch) : acked, 'arrived')
      }
      case 'resolve': {
        if (current.state === 'resolved') refuse('resolved again')
        const told = opts.publicNote && note ? { publicNote: note } : {}
        const alert = await updateAlert(tx, id, { state: 'resolved', resolvedAt: now, resolvedBy: actor, resolvedActive: current.condition === 'active', ...told })
        return record(alert, 'resolved')
      }
    }
  }

  /** The office shows an alert to the community's residents, or stops showing it; the history says so. */
  async publish(id: number, actor: string, shown: boolean): Promise<Alert> {
    return this.inTx(async (tx, events) => {
      const current = await getAlert(tx, id, true)
      if (!current) throw new AppError('not_found', `No alert ${id}`)
      if (current.public === shown) return current
      const alert = await updateAlert(tx, id, { public: shown })
      events.push({ event: await insertEvent(tx, { alertId: id, type: 'published', actor, note: null, at: this.clock(), data: { public: shown } }), alert })
      return alert
    })
  }

  /**
   * Gives an unresolved alert to a person: a claim ("我来处理") when `assignee` is the actor, which
   * also acknowledges an open alert; else an assignment or hand-over by the office or the
   * company's manager (the caller has checked who may), which pages the assignee (notify/outbox.ts).
   * The history keeps who had it before (`data.from`).
   */
  async assign(id: number, actor: string, assignee: string, note: string | undefined): Promise<Alert> {
    return this.inTx(async (tx, events) => {
      const current = await getAlert(tx, id, true)
      if (!current) throw new AppError('not_found', `No alert ${id}`)
      if (current.state === 'resolved') throw new AppError('invalid_transition', `Alert ${id} is resolved; it cannot be assigned`)
      const now = this.clock()
      let alert = current
      if (assignee === actor && current.state === 'open') {
        alert = await updateAlert(tx, id, { state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: actor })
        events.push({ event: await insertEvent(tx, { alertId: id, type: 'acknowledged', actor, note: `acknowledged by ${ACK_HOW.claim}`, at: now, data: { says: { key: 'ack.by', how: 'claim' } } }), alert })
      }
      alert = await updateAlert(tx, id, { assignedTo: assignee, assignedAt: now })
      const data = { to: assignee, from: current.assignedTo }
      events.push({ event: await insertEvent(tx, { alertId: id, type: 'assigned', actor, note: note ?? null, at: now, data }), alert })
      return alert
    })
  }

  /**
   * Attaches a photo (already checked: type, size, the caller's visibility) and records an
   * `attachment` event; the alert row is locked, so two uploads cannot both pass `perAlert`.
   */
  async attachPhoto(id: number, actor: string, photo: { contentType: PhotoType; bytes: Buffer }, perAlert: number): Promise<PhotoInfo> {
    return this.inTx(async (tx, events) => {
      const alert = await getAlert(tx, id, true)
      if (!alert) throw new AppError('not_found', `No alert ${id}`)
      const n = await countPhotos(tx, id)
      if (n >= perAlert) throw new AppError('too_many_photos', `Alert ${id} has ${n} photos, the most one alert may carry (PHOTOS_PER_ALERT); add the note without another photo`)
      const at = this.clock()
      const info = await insertPhoto(tx, { alertId: id, contentType: photo.contentType, bytes: photo.bytes, uploadedBy: actor, at })
      const data = { photoId: info.id, contentType: info.contentType, size: info.size }
      events.push({ event: await insertEvent(tx, { alertId: id, type: 'attachment', actor, note: null, at, data }), alert })
      return info
    })
  }

  /**
   * Escalates every unresolved, unsilenced alert past a deadline: a missed acknowledge deadline
   * escalates once and then reminds every `remindEveryMs` until someone acknowledges; a missed
   * resolve deadline escalates once.
   */
  async escalate(now: Date, remindEveryMs: number): Promise<number> {
    const due = await alertsNeedingEscalation(this.db, now, remindEveryMs)
    let changed = 0
    for (const candidate of due) {
      await this.inTx(async (tx, events) => {
        const a = await getAlert(tx, candidate.id, true)
        if (!a || a.state === 'resolved') return
        if (a.state === 'open' && a.ackDeadline <= now) {
          const withinMs = Math.round((a.ackDeadline.getTime() - (a.notifiedAt ?? a.raisedAt).getTime()) / 1000) * 1000
          const late = formatDuration(withinMs)
          if (!a.escalatedAt) {
            const alert = await updateAlert(tx, a.id, { escalationLevel: a.escalationLevel + 1, escalatedAt: now })
            events.push({ event: await insertEvent(tx, { alertId: a.id, type: 'escalated', actor: 'system', note: `not acknowledged within ${late}`, at: now, data: { deadline: 'acknowledge', level: alert.escalationLevel, says: { key: 'escalate.ack', withinMs } } }), alert })
            changed++
          } else if ((a.lastRemindedAt ?? a.escalatedAt).getTime() + remindEveryMs <= now.getTime()) {
            const alert = await updateAlert(tx, a.id, { escalationLevel: a.escalationLevel + 1, lastRemindedAt: now })
            events.push({ event: await insertEvent(tx, { alertId: a.id, type: 'reminded', actor: 'system', note: `still not acknowledged (${late} deadline)`, at: now, data: { level: alert.escalationLevel, says: { key: 'remind.ack', withinMs } } }), alert })
            changed++
          }
        }
        if (a.resolveDeadline <= now && !a.resolveOverdueAt) {
          const alert = await updateAlert(tx, a.id, { resolveOverdueAt: now, escalationLevel: a.escalationLevel + 1 })
          events.push({ event: await insertEvent(tx, { alertId: a.id, type: 'escalated', actor: 'system', note: 'not resolved by its deadline', at: now, data: { deadline: 'resolve', level: alert.escalationLevel, says: { key: 'escalate.resolve' } } }), alert })
          changed++
        }
      })
    }
    return changed
  }

  /** Runs `fn` in a transaction and publishes the events it recorded once it has committed. */
  private async inTx<T>(fn: (tx: Queryable, events: CommittedEvent[]) => Promise<T>): Promise<T> {
    const events: CommittedEvent[] = []
    let message: FeedMessage | undefined
    const result = await this.db.transaction(async (tx) => {
      const value = await fn(tx, events)
      // Deliveries (webhooks, notifications) are queued in the same transaction as the event: none is lost to a crash.
      const now = this.clock()
      for (const outbox of this.outboxes) for (const e of events) await outbox(tx, e, now)
      const first = events[0]
      const last = events.at(-1)
      if (first && last) {
        // Every API process hears of the events at commit (feed.ts), this one included.
        const rest = feedPayloadRest({ t: last.event.id, e: events })
        message = { p: await notifyAlertEvents(tx, first.event.id, rest), t: last.event.id, e: events }
      }
      return value
    })
    // Handed on here at once, rather than when the NOTIFY comes back; the feed drops the echo.
    if (message) await this.feed.accept(message)
    return result
  }
}
