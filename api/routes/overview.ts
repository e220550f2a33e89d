// The office's overview (总览) and wall screen (大屏) in one request: unresolved alerts by severity,
// devices online and offline, the day's response times, and the companies' standing over the last
// 30 days. The console reads it again after live alert changes and on a timer, so it must stay
// cheap: two aggregate queries and the map's device list, in parallel; the standing (a 30-day
// ranking, which one alert hardly moves) is computed at most once a minute per process.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { rank } from '../../alerts/score.ts'
import { AppError } from '../../core/errors.ts'
import { TtlCache } from '../../core/ttl-cache.ts'
import { periodScores, scoringOf } from '../evaluation/scoring.ts'
import { deviceConnectivity } from '../../core/repos/map.ts'
import { overviewFigures } from '../../core/repos/overview.ts'
import { requireRole } from '../access.ts'
import { CONNECTIVITY, connectivityOf, MAP_MAX_DEVICES } from '../devices/connectivity.ts'
import { overviewSchema, STANDING_EACH_END } from '../overview/schema.ts'
import { errorResponses, requestTime } from '../schemas.ts'

const DAY_MS = 86_400_000
/** The standing's period: the ranking's default (the last 30 days). */
const STANDING_MS = 30 * DAY_MS
/** How long one computed standing serves every overview. */
const STANDING_TTL_MS = 60_000
/** The furthest back `since` may reach: the overview is about the day, not a report. */
const SINCE_MAX_MS = 7 * DAY_MS
/** The office's day starts at midnight in China Standard Time (UTC+8, no daylight saving). */
const OFFICE_UTC_OFFSET_MS = 8 * 3_600_000

/** Midnight of the office's day that holds `now`. */
export function officeMidnight(now: Date): Date {
  const local = now.getTime() + OFFICE_UTC_OFFSET_MS
  return new Date(local - (local % DAY_MS) - OFFICE_UTC_OFFSET_MS)
}

type Standing = z.infer<typeof overviewSchema>['standing']

const overview: FastifyPluginAsyncZod = async (app) => {
  const { db, settings } = app.deps
  // One entry: the promise, so concurrent overviews share one computation; a failure is not kept.
  const cache = new TtlCache<Promise<Standing>>({ ttlMs: STANDING_TTL_MS, maxEntries: 1 })
  const standingNow = (now: Date): Promise<Standing> => {
    const hit = cache.get('standing')
    if (hit) return hit
    const computed = (async () => {
      const from = new Date(now.getTime() - STANDING_MS)
      const ranked = rank(await periodScores(db, from, now, now, await scoringOf(db, settings))).flatMap((r) =>
        r.score !== null && r.rank !== null ? [{ companyId: r.companyId, name: r.name, score: r.score, rank: r.rank }] : [],
      )
      ranked.sort((a, b) => a.rank - b.rank)
      const top = ranked.slice(0, STANDING_EACH_END)
      return { from, companies: ranked.length, top, bottom: ranked.slice(Math.max(top.length, ranked.length - STANDING_EACH_END)) }
    })()
    void computed.catch(() => cache.delete('standing'))
    cache.set('standing', computed)
    return computed
  }
  app.get(
    '',
    {
      schema: {
        tags: ['evaluation'],
        summary: "The office's overview: open alerts by severity, devices online, today's response times, the companies' standing",
        description: 'One request for the console\'s overview and wall screen, read again after each burst of live alert changes.',
        querystring: z.object({
          since: requestTime.optional().describe('Start of the "today" figures; default: the last midnight in China Standard Time (UTC+8). At most 7 days back'),
        }),
        response: { 200: overviewSchema, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const now = new Date()
      const since = req.query.since ?? officeMidnight(now)
      if (since > now || now.getTime() - since.getTime() > SINCE_MAX_MS) throw new AppError('validation_failed', 'querystring.since must be in the last 7 days')
      const [figures, devices, standing] = await Promise.all([overviewFigures(db, since, now), deviceConnectivity(db, { limit: MAP_MAX_DEVICES + 1 }), standingNow(now)])
      const counted = devices.slice(0, MAP_MAX_DEVICES)
      const byState = Object.fromEntries(CONNECTIVITY.map((c) => [c, 0])) as Record<(typeof CONNECTIVITY)[number], number>
      for (const d of counted) byState[connectivityOf(d, now).connectivity] += 1
      return {
        asOf: now,
        since,
        ...figures,
        devices: { ...byState, total: counted.length, truncated: devices.length > MAP_MAX_DEVICES },
        standing,
      }
    },
  )
}

export default overview
