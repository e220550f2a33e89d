// Accounting for the MQTT fuzz suite: after each PUBACK, what became of the message just sent.
// Nothing is predicted from our own validator; the test only uses what it knows it sent. Every
// (entry, metric) pair the message carries is a "unit"; a unit is stored when a reading with its
// device, metric and time exists afterwards. A message is accounted for when it left a trace
// (a stored unit or a new dead letter of its client), and when any of its units is not stored,
// at least one dead letter says why. A dead letter may stand for many units (a rejected entry,
// a summary row), so the check is "some reason given", not a one-to-one count.
import { METRICS, REJECT_REASONS, type DeviceKind } from '../../core/contract.ts'
import type { Db } from '../../core/db/client.ts'

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export interface Unit {
  deviceId: string
  metric: string
  /** The reading's time, or the window it must fall in (no `ts`: the broker's receive time). */
  lo: number
  hi: number
}

/**
 * A batch with no entries (`[]`, or a gateway message `{}` or of empty lists only): nothing to
 * store and nothing wrong with it, so it needs no trace.
 */
export function emptyBatch(payload: Buffer, gateway: boolean): boolean {
  let json: unknown
  try {
    json = JSON.parse(payload.toString('utf8'))
  } catch {
    return false
  }
  if (!gateway) return Array.isArray(json) && json.length === 0
  return isObject(json) && Object.values(json).every((list) => Array.isArray(list) && list.length === 0)
}

/** Times PostgreSQL can hold and the test can name; anything else is never a stored reading. */
const T_MIN = Date.UTC(1900, 0, 1)
const T_MAX = 8.64e15

/**
 * The units of a telemetry payload as sent: `count` of them in all, and those that could have
 * been stored at all (`candidates`: a registered device, a metric of its kind, a representable
 * time), which are the ones worth looking up.
 */
export function unitsOf(
  payload: Buffer,
  topic: { gateway: boolean; deviceId: string },
  kinds: ReadonlyMap<string, DeviceKind>,
  window: { sentAt: number; ackedAt: number },
): { count: number; candidates: Unit[] } {
  let json: unknown
  try {
    json = JSON.parse(payload.toString('utf8'))
  } catch {
    return { count: 0, candidates: [] }
  }
  const lists: [string, unknown][] = topic.gateway ? (isObject(json) ? Object.entries(json) : []) : [[topic.deviceId, json]]
  let count = 0
  const candidates: Unit[] = []
  for (const [deviceId, list] of lists) {
    const entries: unknown[] = topic.gateway ? (Array.isArray(list) ? list : []) : Array.isArray(list) ? list : [list]
    const kind = kinds.get(deviceId)
    for (const e of entries) {
      if (!isObject(e) || !isObject(e.values)) continue
      const t = timeOf(e.ts, window)
      for (const metric of Object.keys(e.values)) {
        count++
        if (kind === undefined || t === undefined || !Object.hasOwn(METRICS[kind], metric)) continue
        candidates.push({ deviceId, metric, ...t })
      }
    }
  }
  return { count, candidates }
}

function timeOf(ts: unknown, window: { sentAt: number; ackedAt: number }): { lo: number; hi: number } | undefined {
  if (ts === undefined) return { lo: window.sentAt, hi: window.ackedAt }
  const t = typeof ts === 'number' ? ts : typeof ts === 'string' ? Date.parse(ts) : Number.NaN
  if (!Number.isSafeInteger(t) || t < T_MIN || t > T_MAX) return undefined
  return { lo: t, hi: t }
}

/** How many of `units` have a stored reading. */
export async function storedUnits(db: Db, units: readonly Unit[]): Promise<number> {
  if (units.length === 0) return 0
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS u(d, m, lo, hi)
     WHERE EXISTS (
       SELECT 1 FROM readings r
       WHERE r.device_id = u.d AND r.metric = u.m
         AND r.ts BETWEEN 'epoch'::timestamptz + u.lo * INTERVAL '1 millisecond'
                      AND 'epoch'::timestamptz + u.hi * INTERVAL '1 millisecond')`,
    [units.map((u) => u.deviceId), units.map((u) => u.metric), units.map((u) => u.lo), units.map((u) => u.hi)],
  )
  return row?.n ?? 0
}

export interface NewDeadLetter {
  id: number
  reason_code: string
  reason_length: number
}

/** Dead letters of one client written after `afterId` (ids grow: a lane sends one message at a time). */
export async function deadLettersSince(db: Db, clientId: string, afterId: number): Promise<NewDeadLetter[]> {
  return db.query<NewDeadLetter>(
    'SELECT id, reason_code, length(reason)::int AS reason_length FROM dead_letters WHERE id > $1 AND client_id = $2 ORDER BY id',
    [afterId, clientId],
  )
}

/** A dead letter that does not say why: an unknown reason code or an empty reason. */
export function unexplained(rows: readonly NewDeadLetter[]): NewDeadLetter[] {
  return rows.filter((r) => !Object.hasOwn(REJECT_REASONS, r.reason_code) || r.reason_length === 0)
}
