// The overview's answer (GET /api/v1/overview), apart from its route so the console can take the
// type without the server's modules.
import { z } from 'zod'
import { CONNECTIVITY } from '../devices/connectivity.ts'
import { timestamp } from '../schemas.ts'

/** Companies named at each end of the standing. */
export const STANDING_EACH_END = 3

const spread = z
  .object({ medianS: z.number().nullable(), p90S: z.number().nullable() })
  .describe('Seconds, median and 90th percentile (PostgreSQL percentile_cont), measured as GET /api/v1/evaluation/ranking measures them; null without data')
const standing = z.object({ companyId: z.string(), name: z.string(), score: z.number(), rank: z.number().int() })

export const overviewSchema = z.object({
  asOf: timestamp,
  since: timestamp.describe('Start of the "today" figures'),
  open: z
    .object({
      critical: z.number().int(),
      major: z.number().int(),
      minor: z.number().int(),
      warning: z.number().int(),
      total: z.number().int(),
      unacknowledged: z.number().int().describe('Still open: nobody has acknowledged them'),
      overdue: z.number().int().describe('Open past their acknowledge deadline'),
    })
    .describe('Unresolved alerts now (the board\'s list), silenced ones included'),
  devices: z.object(Object.fromEntries(CONNECTIVITY.map((c) => [c, z.number().int()])) as Record<(typeof CONNECTIVITY)[number], z.ZodNumber>).extend({
    total: z.number().int(),
    truncated: z.boolean().describe('More devices than the map carries: the counts cover the first ones by id'),
  }),
  today: z.object({
    raised: z.number().int().describe('Alerts raised since `since`, not silenced'),
    resolved: z.number().int().describe('Of those, resolved by a person'),
    timeToAcknowledge: spread,
    timeToArrive: spread,
    timeToResolve: spread,
  }),
  standing: z
    .object({
      from: timestamp,
      companies: z.number().int().describe('Companies with a score'),
      top: z.array(standing).describe(`The best ${STANDING_EACH_END}, best first`),
      bottom: z.array(standing).describe(`The worst ${STANDING_EACH_END} not already in top, best first`),
    })
    .describe('The ranking of the last 30 days (GET /api/v1/evaluation/ranking), both ends'),
})

