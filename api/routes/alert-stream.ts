// Live alerts over Server-Sent Events. Each event carries the id of its history row; a client
// that reconnects with Last-Event-ID (or ?after=) first receives what it missed, from the
// database, then the live events — those of every API process on the database, in id order
// (alerts/feed.ts), so a client may reconnect to any process. A server shutting down ends its
// streams first (its clients resume elsewhere).
//
// Bounded (issue 7, item 8): the backfill is at most the newest `backfillMax` events no older
// than `backfillMaxAgeMs` (an `event: truncated` says when older ones were left out; the history
// is in GET /api/v1/alerts), and it waits for `drain` whenever the socket's buffer is full, so a
// client that never reads holds one page of rows and one frame in memory, not the history. A live client that cannot
// keep up is disconnected (it resumes from its last id), and so is one whose buffer stays full
// from one heartbeat to the next (15-30 s). A token has at most `perToken` streams.
//
// A stream lives no longer than its token (item 7): revoking the token through the API ends it
// at once (an in-process event); a revocation elsewhere (the CLI, another instance) or the
// token's expiry ends it at the next recheck, every `recheckMs`, or at the expiry itself.
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { backfillStart, eventsAfter } from '../../core/repos/alerts.ts'
import { sessionValidity } from '../../core/repos/sessions.ts'
import { tokenValidity } from '../../core/repos/tokens.ts'
import type { CommittedEvent } from '../../alerts/events.ts'
import { companyScope, requireRole, streetScope } from '../access.ts'
import { listCommunities } from '../../core/repos/registry.ts'

export interface StreamLimits {
  /** Most events one backfill sends (ALERT_STREAM_BACKFILL_MAX). */
  backfillMax: number
  /** Oldest event a backfill sends, as an age (ALERT_STREAM_BACKFILL_MAX_AGE). */
  backfillMaxAgeMs: number
  /** Open streams per token (ALERT_STREAMS_PER_TOKEN). */
  perToken: number
  /** How often a stream rechecks that its token still works (ALERT_STREAM_RECHECK). */
  recheckMs: number
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { backfillMax: 1000, backfillMaxAgeMs: 86_400_000, perToken: 5, recheckMs: 30_000 }

/** Rows read per backfill query: what a stream waiting for `drain` holds in memory at most. */
const BACKFILL_PAGE = 100
/** Events queued for one slow client before it is cut off. */
const MAX_QUEUED = 2000
const HEARTBEAT_MS = 15_000
/** setTimeout's longest delay; a later expiry is caught by the periodic recheck. */
const MAX_TIMER_MS = 2 ** 31 - 1

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

/** Writes, and when the buffer is full waits until it drains or the client is gone. */
async function write(raw: ServerResponse, text: string): Promise<void> {
  if (raw.write(text) || raw.destroyed) return
  // The waiter that loses the race must go too: `once` keeps its listeners ('close' and 'error')
  // until its event comes, so a slow reader would pile up two per wait.
  const done = new AbortController()
  try {
    await Promise.race([once(raw, 'drain', { signal: done.signal }), once(raw, 'close', { signal: done.signal })])
  } finally {
    done.abort()
  }
}

const stream: FastifyPluginAsyncZod = async (app) => {
  const { alerts: service, db, settings } = app.deps
  const limits = settings.streamLimits
  /** Open streams per token id; an entry goes when its last stream closes (bounded by open sockets). */
  const open = new Map<string, number>()
  /** Every open stream's close: a shutting-down server ends them (the clients resume elsewhere with Last-Event-ID). */
  const closers = new Set<() => void>()
  app.addHook('preClose', async () => {
    for (const close of [...closers]) close()
  })

  app.get(
    '/stream',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Live alert events (Server-Sent Events), resumable with Last-Event-ID',
        description:
          'text/event-stream. Each event: `id` (history row id), `event` (raised, updated, cleared, acknowledged, en_route, arrived, started, ' +
          'resolved, commented, escalated, reminded) and `data` (JSON: the history row and the alert after it). ' +
          'Without Last-Event-ID or `after`, only new events are sent. A resume sends at most the newest ' +
          `ALERT_STREAM_BACKFILL_MAX events (default ${DEFAULT_STREAM_LIMITS.backfillMax}) no older than ALERT_STREAM_BACKFILL_MAX_AGE ` +
          '(default 24h); `event: truncated` says when older ones were left out. A token may hold ALERT_STREAMS_PER_TOKEN ' +
          `streams (default ${DEFAULT_STREAM_LIMITS.perToken}; 429 too_many_streams beyond). The stream ends when its token is revoked or expires.`,
        querystring: z.object({ after: z.coerce.number().int().min(0).optional().describe('Resume after this event id') }),
        headers: z.object({ 'last-event-id': z.coerce.number().int().min(0).optional() }),
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, 'admin', 'operator', 'crew', 'service', 'street_officer')
      const scope = companyScope(principal) ?? null
      const street = streetScope(principal) ?? null
      // A street officer's live events: those of the street's communities when the stream opened (a
      // community moved into the street later shows after a reconnect; the backfill asks the database).
      const streetCommunities = street === null ? null : new Set((await listCommunities(db, { streetId: street })).map((c) => c.id))
      const tokenId = principal.tokenId
      const streams = open.get(tokenId) ?? 0
      if (streams >= limits.perToken) throw new AppError('too_many_streams', `This token already has ${streams} open alert streams (at most ${limits.perToken}); close one first`)
      open.set(tokenId, streams + 1)
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
      /** Read after an await, where the compiler cannot see that `close` may have run. */
      const ended = () => closed || raw.destroyed
      let expiry: NodeJS.Timeout | undefined
      const close = () => {
        if (closed) return
        closed = true
        closers.delete(close)
        const left = (open.get(tokenId) ?? 1) - 1
        if (left > 0) open.set(tokenId, left)
        else open.delete(tokenId)
        service.bus.off('event', onEvent)
        app.revocations.off('revoked', onRevoked)
        clearInterval(heartbeat)
        clearInterval(recheck)
        clearTimeout(expiry)
        raw.end()
      }
      const send = (e: Wire): string | undefined => {
        if (e.id <= lastSent) return undefined
        lastSent = e.id
        return frame(e)
      }
      const sendLive = (e: CommittedEvent) => {
        const text = send({ ...e.event, alert: e.alert })
        if (text !== undefined) raw.write(text)
      }
      function onEvent(e: CommittedEvent): void {
        if (scope !== null && e.alert.companyId !== scope) return
        if (streetCommunities !== null && !streetCommunities.has(e.alert.communityId ?? '')) return
        if (!live) {
          if (queued.length >= MAX_QUEUED) return close()
          queued.push(e)
          return
        }
        if (raw.writableNeedDrain && raw.writableLength > 1024 * 1024) return close()
        sendLive(e)
      }
      function onRevoked(r: { tokenId?: string; userId?: string }): void {
        if (r.tokenId === tokenId || r.userId === principal.userId) close()
      }
      const checkToken = async () => {
        // A session ends at its idle time too: an open stream is not someone using the console.
        const { valid, expiresAt } = principal.sessionId
          ? await sessionValidity(db, principal.sessionId, app.sessionSettings.now(), app.sessionSettings.limits)
          : await tokenValidity(db, tokenId)
        if (!valid) return close()
        clearTimeout(expiry)
        if (expiresAt) expiry = setTimeout(close, Math.min(Math.max(expiresAt.getTime() - Date.now(), 0), MAX_TIMER_MS))
      }
      const recheckNow = () => {
        checkToken().catch((err: unknown) => req.log.warn({ err }, 'alert stream token recheck failed'))
      }
      closers.add(close)
      // Listen first, so nothing committed during the backfill falls between the two.
      service.bus.on('event', onEvent)
      app.revocations.on('revoked', onRevoked)
      // A client whose buffer stayed full from one heartbeat to the next has stopped reading: cut it off.
      let stalled = false
      const heartbeat = setInterval(() => {
        if (raw.writableNeedDrain && stalled) return close()
        stalled = raw.writableNeedDrain
        raw.write(': ping\n\n')
      }, HEARTBEAT_MS)
      const recheck = setInterval(recheckNow, limits.recheckMs)
      req.raw.on('close', close)

      try {
        await checkToken()
        // A fresh client gets only what is committed from its subscription on (queued below).
        if (resumeFrom !== undefined && !ended()) {
          const start = await backfillStart(db, resumeFrom, new Date(Date.now() - limits.backfillMaxAgeMs), limits.backfillMax, scope, street)
          if (start > resumeFrom) await write(raw, `event: truncated\ndata: ${JSON.stringify({ after: resumeFrom, resumedAfter: start })}\n\n`)
          lastSent = start
          let sent = 0
          while (!ended() && sent < limits.backfillMax) {
            const page = await eventsAfter(db, lastSent, Math.min(BACKFILL_PAGE, limits.backfillMax - sent), scope, street)
            for (const e of page) {
              const text = send(e)
              if (text === undefined) continue
              await write(raw, text)
              sent++
              if (ended()) break
            }
            if (page.length < BACKFILL_PAGE) break
          }
        }
        if (!ended()) for (const e of queued.splice(0)) sendLive(e)
        live = true
      } catch (err) {
        req.log.error({ err }, 'alert stream backfill failed')
        close()
      }
    },
  )
}

export default stream
