// Wire shapes of alerts and their history.
import { z } from 'zod'
import { reasonDetailSchema } from '../../core/reason-detail.ts'
import { DEVICE_KINDS } from '../../core/contract.ts'
import { ALERT_SOURCES, ALERT_STATES, SEVERITIES } from '../../shared/domain.ts'
import { requestTime, timestamp } from '../schemas.ts'

export const alertSchema = z.object({
  id: z.number().int(),
  ruleId: z.string(),
  deviceId: z.string().nullable(),
  communityId: z.string().nullable(),
  companyId: z.string().nullable().describe('The property company the alert was dispatched to'),
  source: z.enum(ALERT_SOURCES),
  severity: z.enum(SEVERITIES),
  title: z.string(),
  titleDetail: z
    .object({ key: z.literal('resident.report'), said: z.string() })
    .nullable()
    .describe("The title as data for rendering it in the reader's language: a resident's report (the frame and the resident's words); null for other alerts"),
  reason: z.string().nullable().describe("Why it was raised; a resident's hazard description is shown to other residents as null"),
  reasonDetail: reasonDetailSchema
    .nullable()
    .describe('Why it was raised, as data (a key and its parameters) for rendering `reason` in the reader\'s language; null when the producer sent none (older rules processes, flows, residents, operators)'),
  state: z.enum(ALERT_STATES),
  condition: z.enum(['active', 'cleared']),
  autoResolve: z.boolean(),
  silenced: z.boolean().describe('Raised inside a maintenance window: recorded, but nobody is notified'),
  flapping: z.boolean(),
  count: z.number().int().describe('How many times the condition was reported'),
  firstValue: z.number().nullable(),
  lastValue: z.number().nullable(),
  predictedAt: timestamp.nullable().describe('Forecast rules: when the threshold is expected to be crossed'),
  raisedAt: timestamp.describe('When the condition was observed (never later than the server received the report)'),
  notifiedAt: timestamp
    .nullable()
    .describe("When people were asked to respond, by the server's clock: when the report arrived, or when the maintenance window it was raised in ended; null while silenced. Deadlines count from here"),
  lastSeenAt: timestamp,
  clearedAt: timestamp.nullable(),
  acknowledgedAt: timestamp.nullable(),
  acknowledgedBy: z.string().nullable(),
  assignedTo: z.string().nullable().describe('The person who has it (claimed, or assigned by the office or the company\'s manager), by user name; null: nobody yet'),
  assignedAt: timestamp.nullable(),
  enRouteAt: timestamp.nullable().describe('A person\'s first "on my way"'),
  arrivedAt: timestamp.nullable().describe('A person\'s first "arrived on site" (later arrivals are in the history only)'),
  startedAt: timestamp.nullable(),
  resolvedAt: timestamp.nullable(),
  resolvedBy: z.string().nullable(),
  ackDeadline: timestamp,
  resolveDeadline: timestamp,
  escalationLevel: z.number().int(),
  escalatedAt: timestamp.nullable(),
  reraiseOf: z.number().int().nullable(),
  location: z.string().nullable().describe('Resident hazard reports: where (a resident sees it only on their own report)'),
  photoUrl: z.string().nullable().describe('Resident hazard reports: a picture (a resident sees it only on their own report)'),
  reportedBy: z.string().nullable().describe('Resident hazard reports: who reported it (a resident sees it only on their own report)'),
  public: z.boolean().describe("Shown to the community's residents (the office decides); a resident also sees their own reports"),
  publicNote: z.string().nullable().describe('What was done, as the resolver wrote it for the residents'),
  groupId: z
    .number()
    .int()
    .nullable()
    .optional()
    .describe('Its group (same rule and community within ALERT_GROUP_WINDOW of the first, by default): the first alert\'s id; members at GET /api/v1/alerts/{id}/group. Null when grouping was off'),
  groupSize: z.number().int().nullable().optional().describe('How many alerts its group has (each is still an alert of its own: acted on, escalated and ranked one by one)'),
  myRating: z
    .object({ rating: z.number().int(), comment: z.string().nullable() })
    .nullable()
    .optional()
    .describe("A resident's list: the rating they gave this alert, if any"),
})

export const alertEventSchema = z.object({
  id: z.number().int(),
  at: timestamp,
  type: z
    .string()
    .describe('raised, updated, cleared, acknowledged, en_route (on my way), arrived (on site), started, resolved, commented, escalated, reminded, unsilenced (its maintenance window ended), attachment (a photo was added: data.photoId, served at /api/v1/alerts/{id}/photos/{photoId}; residents are not shown comments, escalations or reminders, nor notes other than their own)'),
  actor: z.string(),
  note: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable().describe('raised and cleared events of the rules engine: reasonDetail, the note as data (see the alert\'s reasonDetail)'),
})

const commaSeparated = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(values)))

/** The filters of an alert list: GET /api/v1/alerts and its CSV export take the same. */
export const alertFilterQuery = z.object({
  state: commaSeparated(ALERT_STATES).optional().describe('Comma-separated, e.g. open,acknowledged'),
  severity: commaSeparated(SEVERITIES).optional(),
  kind: z.enum(DEVICE_KINDS).optional(),
  community: z.string().optional(),
  company: z.string().optional(),
  device: z.string().optional(),
  rule: z.string().optional(),
  from: requestTime.optional().describe('Raised at or after'),
  to: requestTime.optional().describe('Raised before'),
})

/** One notification of an alert (api/alerts/delivery-log.ts builds it; the console reads it in the history). */
export const deliverySchema = z.object({
  id: z.number().int(),
  eventId: z.number().int(),
  eventType: z.string(),
  step: z.number().int(),
  digest: z.boolean().optional().describe("A group's digest: one message for the members raised after the group's first alert, sent when the group's window closes (docs/operators.md, Grouping)"),
  channel: z.object({ id: z.string(), kind: z.string(), name: z.string() }),
  user: z.string().nullable(),
  to: z.string().describe('Phone numbers masked; a Web Push subscription as its push service\'s host (the office) or "browser"'),
  status: z.enum(['pending', 'delivered', 'failed', 'cancelled']),
  heldUntil: timestamp.nullable().describe('Held by quiet hours until then'),
  attempts: z.number().int(),
  createdAt: timestamp,
  deliveredAt: timestamp.nullable(),
  nextAttemptAt: timestamp,
  summary: z.string().describe('e.g. "SMS to 138****1234: http 500 → retried, delivered 12:03:04" (the office); "…: retrying, delivered 12:03:04" (a company)'),
  log: z.array(z.object({ at: timestamp, sent: z.boolean(), ok: z.boolean(), status: z.string(), detail: z.string(), retryAt: timestamp.nullable() })),
})
