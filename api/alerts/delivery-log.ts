// The notification delivery log of an alert, in one shape for both places it is shown: its own
// route (GET /api/v1/alerts/:id/deliveries) and the alert's history (GET /api/v1/alerts/:id).
// Addresses are masked here, so no view can hand out a full phone number; residents are never
// shown it (who was paged, and how, is the office's and the crews' business). A company's people see
// each attempt as delivered, retrying or failed and nothing more: a vendor's status, an error code
// or an address would let whoever configures a channel map what the server can reach (issue 18,
// item 1). The office's staff (admin, operator), who run the channels, see what the vendor answered.
import type { z } from 'zod'
import type { Queryable } from '../../core/db/client.ts'
import { deliveriesOfAlert } from '../../core/repos/notify-deliveries.ts'
import type { Principal } from '../../core/repos/tokens.ts'
import { parseJson } from '../../notify/channels/http.ts'
import { subscriptionSchema } from '../../notify/channels/webpush.ts'
import { maskAddress } from '../../notify/mask.ts'
import type { deliverySchema } from './schemas.ts'

export type DeliveryEntry = z.infer<typeof deliverySchema>

const KIND_LABEL: Record<string, string> = { sms_http: 'SMS', sms_aliyun: 'SMS', sms_tencent: 'SMS', email: 'e-mail', wecom: 'WeCom bot', dingtalk: 'DingTalk bot', feishu: 'Feishu bot', webpush: 'push' }

const localTime = (at: Date, timeZone: string) => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(at)

/** Whether `p` may see who was paged for an alert it can see: everyone but residents. */
export const seesDeliveries = (p: Principal): boolean => p.role !== 'resident'

/** Whether `p` sees what each attempt came to on the wire (status, vendor's code, detail): the office's staff. */
export const seesDeliveryDetail = (p: Principal): boolean => p.role === 'admin' || p.role === 'operator'

type LogEntry = DeliveryEntry['log'][number]

/**
 * Whom a page went to as the log shows it: a phone number masked; a Web Push subscription (an
 * endpoint and its keys, the `auth` secret among them) as the push service's host to the office and
 * as "browser" to a company — never the subscription itself.
 */
function shownRecipient(kind: string, address: string, detail: boolean): string {
  if (kind !== 'webpush') return maskAddress(address)
  const parsed = subscriptionSchema.safeParse(parseJson(address))
  return detail && parsed.success ? new URL(parsed.data.endpoint).host : 'browser'
}

/** An attempt in a company's words: delivered, retrying or failed; waits and cancellations are ours already. */
function plain(l: LogEntry): LogEntry {
  if (!l.sent) return l
  const status = l.ok ? 'delivered' : l.retryAt ? 'retrying' : 'failed'
  const detail = l.ok ? 'delivered' : l.retryAt ? 'not delivered; will retry' : 'not delivered'
  return { ...l, status, detail }
}

/**
 * The deliveries of one alert, oldest first, with a one-line summary each; times shown in `timezone`.
 * Without `detail` (see seesDeliveryDetail) each attempt says only delivered, retrying or failed.
 */
export async function deliveryLog(db: Queryable, alertId: number, limit: number, timezone: string, detail: boolean): Promise<DeliveryEntry[]> {
  const rows = await deliveriesOfAlert(db, alertId, limit)
  return rows.map((d) => {
    const to = shownRecipient(d.channelKind, d.address, detail)
    const label = `${KIND_LABEL[d.channelKind] ?? d.channelKind}${to ? ` to ${to}` : ` "${d.channelName}"`}`
    const log = detail ? d.log : d.log.map(plain)
    const failures = log.filter((l) => l.sent && !l.ok)
    // The office reads each failure and its fate; a company reads the retries (the end says the rest).
    const tries = detail ? failures.map((l) => `${l.status} → ${l.retryAt ? 'retried' : 'gave up'}`) : failures.filter((l) => l.retryAt).map((l) => l.status)
    const end = d.status === 'delivered' && d.deliveredAt ? `delivered ${localTime(d.deliveredAt, timezone)}` : d.heldUntil && d.status === 'pending' ? `held by quiet hours until ${localTime(d.heldUntil, timezone)}` : d.status
    return {
      id: d.id,
      eventId: d.eventId,
      eventType: d.eventType,
      step: d.step,
      digest: d.digest,
      channel: { id: d.channelId, kind: d.channelKind, name: d.channelName },
      user: d.userName,
      to,
      status: d.status,
      heldUntil: d.heldUntil,
      attempts: d.attempts,
      createdAt: d.createdAt,
      deliveredAt: d.deliveredAt,
      nextAttemptAt: d.nextAttemptAt,
      summary: `${label}: ${[...tries, end].join(', ')}`,
      log,
    }
  })
}
