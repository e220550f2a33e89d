// GET /api/v1/feed: the commit-ordered feed (core/feed.ts) for programs beside the rules engine —
// Node-RED's example flow, an integrator's own consumer. It gives what committed, whatever the way
// in (MQTT, HTTP, OneNET, CTWing, ChirpStack, RabbitMQ, profile-decoded), in the order the rules
// engine reads it, from a cursor the caller keeps: a consumer that comes back resumes where it
// stopped (within FEED_RETENTION). A long poll (`wait`) answers as soon as something commits.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { ALL_BUCKETS, decodeEntries, partitionBuckets, type FeedPosition } from '../../core/feed.ts'
import { feedHead, readFeed } from '../../core/repos/feed.ts'
import { requireRole } from '../access.ts'
import { errorResponses, timestamp } from '../schemas.ts'

const ALL = new Set(partitionBuckets(ALL_BUCKETS))
/** How often a long poll looks again (besides the cost, a commit is seen within this). */
const POLL_MS = 100

const item = z.discriminatedUnion('type', [
  z.object({ type: z.literal('reading'), deviceId: z.string(), metric: z.string(), ts: timestamp, value: z.number(), receivedAt: timestamp }),
  z.object({ type: z.literal('status'), deviceId: z.string(), status: z.enum(['online', 'offline']), at: timestamp }),
])

function parseCursor(text: string): FeedPosition {
  const m = /^(\d{1,20}):(\d{1,19})$/.exec(text)
  if (!m) throw new AppError('validation_failed', 'querystring.after: expected the `next` of an earlier answer (digits:digits), or leave it out to start at the newest')
  return { xid: m[1] ?? '0', id: Number(m[2]) }
}

const feed: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  app.get(
    '',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Committed readings and status changes in commit order, from a cursor you keep (long poll with `wait`)',
        querystring: z.object({
          after: z.string().max(48).optional().describe('The `next` of the previous answer; omitted: start at the newest (nothing before it)'),
          limit: z.coerce.number().int().min(1).max(1000).default(500).describe('Most feed rows read (each holds one commit: often many readings)'),
          wait: z.coerce.number().int().min(0).max(25).default(0).describe('Seconds to wait for something to commit when nothing is there yet'),
        }),
        response: { 200: z.object({ next: z.string(), items: z.array(item) }), ...errorResponses },
      },
    },
    async (req) => {
      // Every device's readings: machine consumers (a service token) and the office's admins.
      requireRole(req, 'admin', 'service')
      const q = req.query
      let pos: FeedPosition = q.after === undefined ? await feedHead(db) : parseCursor(q.after)
      const deadline = Date.now() + q.wait * 1000
      for (;;) {
        const { rows } = await readFeed(db, pos, q.limit)
        const items: z.infer<typeof item>[] = []
        for (const row of rows) {
          pos = row
          for (const e of decodeEntries(row.entries, ALL)) {
            if ('s' in e) items.push({ type: 'status', deviceId: e.d, status: e.s, at: new Date(e.at) })
            else for (const [metric, ts, value] of e.r) items.push({ type: 'reading', deviceId: e.d, metric, ts: new Date(ts), value, receivedAt: new Date(e.at) })
          }
        }
        const next = `${pos.xid}:${pos.id}`
        if (items.length > 0 || rows.length === q.limit || Date.now() >= deadline || req.raw.destroyed) return { next, items }
        await new Promise((r) => setTimeout(r, POLL_MS))
      }
    },
  )
}

export default feed
