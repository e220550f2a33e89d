// Wiring of the notification core for one process: the outbox registered with the alert
// service (written in each event's transaction), the dispatcher unit, and what the API routes
// need (the secret key to seal channel credentials, the link signer, the link lifetime).
import type { Config } from '../core/config.ts'
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import type { Unit } from '../core/units.ts'
import type { AlertService } from '../alerts/service.ts'
import { DEFAULT_NOTIFY_DISPATCH, NotificationDispatcher, type NotifyDispatchOptions } from './dispatcher.ts'
import { LinkSigner } from './links.ts'
import { enqueueNotifications } from './outbox.ts'

export interface NotifySettings extends NotifyDispatchOptions {
  /** Where the links in messages point: the API's public base URL. */
  linkBaseUrl: string
  linkTtlMs: number
}

/** The `notify` section (core/settings.ts) over the dispatcher's fixed defaults (poll, lease). */
export function notifySettings(cfg: Omit<Config['notify'], 'secretKey'>): NotifySettings {
  const { linkBaseUrl, linkTtlMs, retryBaseMs, retryMaxMs, maxAttempts, companyPerMinute, timezone } = cfg
  return { ...DEFAULT_NOTIFY_DISPATCH, linkBaseUrl, linkTtlMs, retryBaseMs, retryMaxMs, maxAttempts, companyPerMinute, timezone }
}

export interface NotifyContext {
  secretKey: Buffer
  links: LinkSigner
  alerts: AlertService
  linkTtlMs: number
  /** Time zone the delivery log's times are shown in. */
  timezone: string
  /** The server's clock (the alert service's). */
  clock: () => Date
}

/** What the API routes need of notifications; the dispatcher is not part of it. */
export function notifyContext(alerts: AlertService, secretKey: Buffer, settings: Pick<NotifySettings, 'linkBaseUrl' | 'linkTtlMs' | 'timezone'>, clock: () => Date = () => new Date()): NotifyContext {
  return { secretKey, links: new LinkSigner(secretKey, settings.linkBaseUrl), alerts, linkTtlMs: settings.linkTtlMs, timezone: settings.timezone, clock }
}

export class Notifications implements Unit {
  readonly name = 'notifications'
  readonly context: NotifyContext
  readonly dispatcher: NotificationDispatcher

  constructor(db: Db, alerts: AlertService, secretKey: Buffer, settings: NotifySettings, log: Logger, clock: () => Date = () => new Date()) {
    this.context = notifyContext(alerts, secretKey, settings, clock)
    alerts.outboxes.push((tx, { event, alert }, now) => enqueueNotifications(tx, event, alert, now, { linkTtlMs: settings.linkTtlMs }))
    this.dispatcher = new NotificationDispatcher(db, alerts.bus, secretKey, this.context.links, settings, log, clock)
  }

  start(): Promise<void> {
    return this.dispatcher.start()
  }

  stop(): Promise<void> {
    return this.dispatcher.stop()
  }
}
