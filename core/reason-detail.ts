// Why an alert was raised or cleared, as data: a key from a closed set and its parameters (the
// metric, the observed value, the operator, the limit, durations in ms). The rules engine sends it
// with each raise and clear next to the English `reason` text, which is rendered from it
// (shared/reason-text.ts), so the two cannot disagree; the API validates it with this schema, keeps
// it on the alert (`reasonDetail`) and on the raised/cleared event (`data.reasonDetail`), and every
// reader renders it in its own language. It is optional end to end: older rules processes and
// alerts raised by people or flows have none, and readers fall back to the stored text.
//
// Tolerant of a newer rules engine, strict about this one's: objects are not strict (a parameter
// added later is dropped by an older API), and a key this API does not know is not an error — the
// report keeps its `reason` text and the detail is left out (acceptReasonDetail), so a rolling
// upgrade that starts with the rules engine loses no alert. A known key with parameters that do
// not fit is refused (400, naming the field): that is a sender's bug, not a newer version.
import { z } from 'zod'

const metric = z.string().min(1).max(64)
const value = z.number()
/** Durations in ms (not necessarily whole: a nodata timeout is factor × the device interval). */
const ms = z.number().min(0)
const op = z.enum(['>', '>=', '<', '<='])
/** The safe side a condition must return to (hysteresis), or the direction a trend must not cross. */
const side = z.enum(['<', '>'])

/** What a forecast is about: the level, its direction and the fitted trend. */
const forecast = { metric, op: side, limit: value, slopePerHour: value, windowMs: ms }
/** A count rule's window, limit and which readings count (the filter when it has one). */
const count = { metric, mode: z.enum(['occurrences', 'sum']), filter: z.object({ op, value }).nullable(), total: value, windowMs: ms, limit: value }
/** A rate rule's fitted rate (per `perMs`, signed) and its limits (null: no limit that way). */
const rate = { metric, rate: value, perMs: ms, rise: value.nullable(), fall: value.nullable(), windowMs: ms }

export const reasonDetailSchema = z
  .discriminatedUnion('key', [
    z.object({ key: z.literal('threshold.raise'), metric, observed: value, op, limit: value, forMs: ms }),
    // A raise whose holding condition is no longer known (the values changed at the deadline).
    z.object({ key: z.literal('threshold.held'), forMs: ms }),
    z.object({ key: z.literal('threshold.clear'), conditions: z.array(z.object({ metric, op: side, limit: value })).min(1).max(16), forMs: ms }),
    z.object({ key: z.literal('rate.raise'), ...rate }),
    z.object({ key: z.literal('rate.clear'), ...rate }),
    z.object({ key: z.literal('count.raise'), ...count }),
    z.object({ key: z.literal('count.clear'), ...count }),
    z.object({ key: z.literal('nodata.silent'), afterMs: ms }),
    // Last Will `offline`; graceMs 0: raised at once.
    z.object({ key: z.literal('nodata.offline'), graceMs: ms }),
    z.object({ key: z.literal('nodata.data') }),
    z.object({ key: z.literal('nodata.online') }),
    z.object({ key: z.literal('nodata.heard') }),
    z.object({ key: z.literal('forecast.crossed'), ...forecast, observed: value }),
    z.object({ key: z.literal('forecast.none'), ...forecast }),
    // crossing: when the trend is predicted to cross (RFC 3339; not named …At, which the alert feed
    // revives as a Date); leadMs: from the judgement to it.
    z.object({ key: z.literal('forecast.predicted'), ...forecast, crossing: z.iso.datetime(), leadMs: z.number() }),
    z.object({ key: z.literal('forecast.receded'), ...forecast, crossing: z.iso.datetime(), leadMs: z.number(), horizonMs: ms }),
    z.object({ key: z.literal('flapping.stopped'), windowMs: ms }),
    // Storm control: a child held back under its gateway is still silent once the gateway is back.
    z.object({ key: z.literal('gateway.back-silent') }),
    // The engine clears what it no longer evaluates.
    z.object({ key: z.literal('rule.removed') }),
  ])
  .describe('The reason as data: `key` names the sentence, the other fields fill it in (shared/reason-text.ts renders it in each language)')

export type ReasonDetail = z.infer<typeof reasonDetailSchema>
export type ReasonKey = ReasonDetail['key']
export type ReasonOf<K extends ReasonKey> = Extract<ReasonDetail, { key: K }>

/** The keys this version renders. */
export const REASON_KEYS: ReadonlySet<string> = new Set(reasonDetailSchema.options.map((o) => o.shape.key.value))

/** What a report may carry: any key (a newer rules engine may know more than this API). */
export const reportedReasonDetailSchema = z
  .object({ key: z.string().min(1).max(64) })
  .loose()
  .describe(`The reason as data, so readers can show it in their language. Keys of this version: ${[...REASON_KEYS].join(', ')}; their fields are checked (a misfit is a 400 naming it). A key this version does not know is left out and the report stands on its \`reason\``)

/** A known key's detail, checked; undefined for a key of a newer version. Throws the first misfit as a ZodError. */
export function acceptReasonDetail(reported: { key: string } | undefined): ReasonDetail | undefined {
  if (reported === undefined || !REASON_KEYS.has(reported.key)) return undefined
  return reasonDetailSchema.parse(reported)
}
