// Wiring of the notification core for one process: the outbox registered with the alert
// service (written in each event's transaction), the dispatcher unit, and what the API routes
// need (the secret key to seal channel credentials, the link signer, the link lifetime).
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import type { Unit } from '../core/units.ts'
import type { AlertService } from '../api/alerts/service.ts'
import { NotificationDispatcher, type NotifyDispatchOptions } from './dispatcher.ts'
import { LinkSigner } from './links.ts'
import { enqueueNotifications } from './outbox.ts'

export interface NotifySettings extends NotifyDispatchOptions {
  /** Where the links in messages point: the API's public base URL. */
  linkBaseUrl: string
  linkTtlMs: number
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

export class Notifications implements Unit {
  readonly name = 'notifications'
  readonly context: NotifyContext
  readonly dispatcher: NotificationDispatcher

  constructor(db: Db, alerts: AlertService, secretKey: Buffer, settings: NotifySettings, log: Logger, clock: () => Date = () => new Date()) {
    const links = new LinkSigner(secretKey, settings.linkBaseUrl)
    this.context = { secretKey, links, alerts, linkTtlMs: settings.linkTtlMs, timezone: settings.timezone, clock }
    alerts.outboxes.push((tx, { event, alert }, now) => enqueueNotifications(tx, event, alert, now, { linkTtlMs: settings.linkTtlMs }))
    this.dispatcher = new NotificationDispatcher(db, alerts.bus, secretKey, links, settings, log, clock)
  }

  start(): Promise<void> {
    return this.dispatcher.start()
  }

  stop(): Promise<void> {
    return this.dispatcher.stop()
  }
}
