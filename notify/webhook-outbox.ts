// The webhook outbox: registered with the alert service at wiring (cli/stack.ts), like the
// notification outbox (outbox.ts), so each event's deliveries are queued in the transaction that
// records it and a crash after the commit loses none. A silenced alert notifies nobody; each
// enabled webhook's filters (severity, community, event type) choose what it is sent.
import type { EventOutbox } from '../alerts/events.ts'
import { enqueueDeliveries } from '../core/repos/webhooks.ts'

export const webhookOutbox: EventOutbox = async (tx, { event, alert }) => {
  if (alert.silenced) return 0
  return enqueueDeliveries(tx, { eventId: event.id, eventType: event.type, severity: alert.severity, communityId: alert.communityId })
}
