// Live alerts over Server-Sent Events. Each event carries the id of its history row; a client
// that reconnects with Last-Event-ID (or ?after=) first receives what it missed, from the
// database, then the live events. A client that cannot keep up is disconnected (it resumes from
// its last id) rather than buffered without bound.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { eventsAfter } from '../../core/repos/alerts.ts'
import type { AlertService, CommittedEvent } from '../alerts/service.ts'
import { companyScope, requireRole } from '../plugins/auth.ts'

const BACKFILL_PAGE = 500
/** Events queued for one slow client before it is cut off. */
const MAX_QUEUED = 2000
const HEARTBEAT_MS = 15_000

interface Wire {
  id: number
  type: string
  at: Date | string
  actor: string
  note: string | null
  data: Record<string, unknown> | null
  alert: unknown
}

function frame(e: Wire): string {
  // One JSON line per data field; JSON.stringify never emits a raw newline.
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`
}

const stream: FastifyPluginAsyncZod<{ service: AlertService }> = async (app, { service }) => {
  app.get(
    '/api/v1/alerts/stream',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Live alert events (Server-Sent Events), resumable with Last-Event-ID',
        description:
          'text/event-stream. Each event: `id` (history row id), `event` (raised, updated, cleared, acknowledged, started, ' +
          'resolved, commented, escalated, reminded) and `data` (JSON: the history row and the alert after it). ' +
          'Without Last-Event-ID or `after`, only new events are sent.',
        querystring: z.object({ after: z.coerce.number().int().min(0).optional().describe('Resume after this event id') }),
        headers: z.object({ 'last-event-id': z.coerce.number().int().min(0).optional() }),
      },
    },
    async (req, reply) => {
      const scope = companyScope(requireRole(req, 'admin', 'operator', 'crew', 'service')) ?? null
      const resumeFrom = req.headers['last-event-id'] ?? req.query.after
      const raw = reply.raw
      reply.hijack()
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      raw.write(`retry: 2000\n\n`)

      let lastSent = resumeFrom ?? 0
      let live = false
      const queued: CommittedEvent[] = []
      let closed = false
      const close = () => {
        if (closed) return
        closed = true
        service.bus.off('event', onEvent)
        clearInterval(heartbeat)
        raw.end()
      }
      const send = (e: Wire) => {
        if (e.id <= lastSent) return
        lastSent = e.id
        raw.write(frame(e))
      }
      const sendLive = (e: CommittedEvent) => send({ ...e.event, alert: e.alert })
      function onEvent(e: CommittedEvent): void {
        if (scope !== null && e.alert.companyId !== scope) return
        if (!live) {
          if (queued.length >= MAX_QUEUED) return close()
          queued.push(e)
          return
        }
        if (raw.writableNeedDrain && raw.writableLength > 1024 * 1024) return close()
        sendLive(e)
      }
      // Listen first, so nothing committed during the backfill falls between the two.
      service.bus.on('event', onEvent)
      const heartbeat = setInterval(() => raw.write(': ping\n\n'), HEARTBEAT_MS)
      req.raw.on('close', close)

      try {
        // A fresh client gets only what is committed from its subscription on (queued below).
        if (resumeFrom !== undefined) {
          for (;;) {
            const page = await eventsAfter(service.db, lastSent, BACKFILL_PAGE, scope)
            for (const e of page) send(e)
            if (page.length < BACKFILL_PAGE || raw.destroyed) break
          }
        }
        for (const e of queued.splice(0)) sendLive(e)
        live = true
      } catch (err) {
        req.log.error({ err }, 'alert stream backfill failed')
        close()
      }
    },
  )
}

export default stream
