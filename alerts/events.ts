// The committed alert events as the rest of the system hears of them: the live stream, the
// dispatchers (notify/) and the outboxes import these instead of the alert service, so a folder
// that only listens does not depend on the lifecycle. The service (service.ts) writes them, the
// feed (feed.ts) hands every API process's onto the bus in id order.
import { EventEmitter } from 'node:events'
import type { Queryable } from '../core/db/client.ts'
import type { Alert, AlertEvent } from '../core/repos/alerts.ts'

export interface CommittedEvent {
  event: AlertEvent
  alert: Alert
}

/** Committed alert events of every API process, in id (= commit) order, for the live stream and the dispatchers. */
export class AlertBus extends EventEmitter<{ event: [CommittedEvent] }> {}

/**
 * Work queued in the transaction of each recorded event: the webhook and notification outboxes
 * (notify/webhook-outbox.ts, notify/outbox.ts). `now` is the alert service's clock.
 */
export type EventOutbox = (tx: Queryable, committed: CommittedEvent, now: Date) => Promise<unknown>
