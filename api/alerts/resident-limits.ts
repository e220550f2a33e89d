// Residents are bounded (issue 18, item 6): one resident filed 50 hazard reports in 0.8 s, each a
// `major` alert paged to the on-call crew (an SMS costs money), and 50 MB of photos in 3.7 s.
// Reports per resident per hour and per day, photo bytes per resident per day; beyond, 429 with a
// code, a message saying when they may send again, and Retry-After. Only residents are bounded:
// the office and crews are accountable staff. The ledger and its lock: core/repos/resident-usage.ts.
import type { FastifyReply } from 'fastify'
import type { Db } from '../../core/db/client.ts'
import { AppError } from '../../core/errors.ts'
import { releaseUsage, reserveUsage, type UsageKind, type UsageLimit } from '../../core/repos/resident-usage.ts'
import type { Principal } from '../../core/repos/tokens.ts'

/** RESIDENT_REPORTS_PER_HOUR, RESIDENT_REPORTS_PER_DAY, RESIDENT_PHOTO_BYTES_PER_DAY. */
export interface ResidentLimits {
  reportsPerHour: number
  reportsPerDay: number
  photoBytesPerDay: number
}

export const DEFAULT_RESIDENT_LIMITS: ResidentLimits = { reportsPerHour: 5, reportsPerDay: 20, photoBytesPerDay: 25 * 1024 * 1024 }

const HOUR = 3_600_000
const DAY = 24 * HOUR

function windows(kind: UsageKind, l: ResidentLimits): UsageLimit[] {
  return kind === 'report'
    ? [
        { windowMs: HOUR, max: l.reportsPerHour },
        { windowMs: DAY, max: l.reportsPerDay },
      ]
    : [{ windowMs: DAY, max: l.photoBytesPerDay }]
}

const mb = (n: number) => `${Math.round((n / 1048576) * 10) / 10} MB`
const hhmm = (d: Date) => `${d.toISOString().slice(11, 16)} UTC`

/**
 * Runs `work` once the resident's `amount` of `kind` fits under their limits; throws 429 (with
 * Retry-After on `reply`) when it does not. What `work` fails to do is given back. Anyone but a
 * resident passes unchecked.
 */
export async function withinResidentLimits<T>(
  db: Db,
  p: Principal,
  reply: FastifyReply,
  kind: UsageKind,
  amount: number,
  limits: ResidentLimits,
  now: Date,
  work: () => Promise<T>,
): Promise<T> {
  if (p.role !== 'resident') return work()
  const r = await reserveUsage(db, p.userId, kind, amount, windows(kind, limits), now)
  if (!r.ok) {
    const seconds = Math.max(1, Math.ceil((r.retryAt.getTime() - now.getTime()) / 1000))
    void reply.header('retry-after', String(seconds))
    const per = r.limit.windowMs === HOUR ? 'hour' : '24 hours'
    if (kind === 'report') {
      const setting = r.limit.windowMs === HOUR ? 'RESIDENT_REPORTS_PER_HOUR' : 'RESIDENT_REPORTS_PER_DAY'
      throw new AppError('report_limit', `You have sent ${r.used} hazard reports in the last ${per}, the most a resident may (${setting}); you may report again at ${hhmm(r.retryAt)} (in ${Math.ceil(seconds / 60)} min). In an emergency call 110/119.`, { retryAt: r.retryAt.toISOString() })
    }
    throw new AppError('photo_quota', `You have sent ${mb(r.used)} of photos in the last 24 hours; a resident may send ${mb(r.limit.max)} (RESIDENT_PHOTO_BYTES_PER_DAY). You may add this photo again at ${hhmm(r.retryAt)} (in ${Math.ceil(seconds / 60)} min).`, { retryAt: r.retryAt.toISOString() })
  }
  try {
    return await work()
  } catch (err) {
    await releaseUsage(db, r.id)
    throw err
  }
}
