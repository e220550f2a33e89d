// The alert event feed: every committed alert event, whichever API process wrote it, handed to
// this process's bus once each and in id order (the live stream, the webhook and notification
// dispatchers listen there). Issue 11.
//
// Order: event ids are drawn under a transaction-level advisory lock held to commit
// (core/repos/alerts.ts insertEvent), so ids increase in commit order across processes; once
// event N is seen committed, every id below N is final. Last-Event-ID and the backfill rely on
// the same order.
//
// Transport: PostgreSQL LISTEN/NOTIFY (works on PGlite too, within its one process). Each
// transaction that records events sends one NOTIFY, at its commit, carrying `p` (the newest event
// id before its own), `t` (its newest id) and, when the whole message fits NOTIFY's 8000-byte
// payload, the events themselves with the alert as it was after each (`e`). The compact form is
// chosen because it is the common case (an event with its alert is about 1-2 kB), costs no query
// in any process, and gives every process the same snapshot the writer had; a larger transaction
// sends ids only and each process reads the rows (the alert then as it is at reading, as the
// backfill shows it).
//
// Exactly once: the feed keeps `cursor`, the newest id it has handed on. A message whose `t` is
// not past the cursor is a repeat (this process's own NOTIFY coming back after the writer handed
// its events on directly, without waiting for the round trip) and is dropped. A message whose `p`
// is past the cursor means something was missed (a LISTEN connection that dropped, a message too
// big to carry events): the feed reads (cursor, t] from the database before going on. A timer
// every POLL_MS compares the cursor with the newest committed id, so a lost notification delays
// an event by at most that long. Messages are applied one at a time; the queue is bounded, and
// when it overflows it is replaced by one read up to the newest id (batching under load).
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import { ALERT_EVENTS_CHANNEL, eventsBetween, lastEventId } from '../core/repos/alerts.ts'
import type { Unit } from '../core/units.ts'
import type { CommittedEvent } from './events.ts'

/** One transaction's events, as NOTIFY carries them (and as the writer hands them on itself). */
export interface FeedMessage {
  /** The newest event id committed before this transaction's first. */
  p: number
  /** This transaction's newest event id. */
  t: number
  /** The events, when they fit the payload. */
  e?: CommittedEvent[]
}

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; the margin is for safety. */
export const NOTIFY_MAX_BYTES = 7900
const POLL_MS = 5000
/** Rows read per query while catching up. */
const PAGE = 500
/** Messages waiting to be applied before they are replaced by one catch-up read. */
const MAX_QUEUED = 1000

/**
 * The NOTIFY payload for a transaction's events, without its opening `{"p":<id>,` (the database
 * adds it, notifyAlertEvents): with the events if the whole fits, else ids only. `p` is below `t`,
 * so `t`'s digits bound its length.
 */
export function feedPayloadRest(m: Omit<FeedMessage, 'p'>): string {
  const full = JSON.stringify({ t: m.t, e: m.e }).slice(1)
  const prefix = `{"p":${m.t},`.length
  return prefix + Buffer.byteLength(full) < NOTIFY_MAX_BYTES ? full : JSON.stringify({ t: m.t }).slice(1)
}

/** Timestamps come back as Date: the alert's `…At` and `…Deadline` fields and the event's `at`. */
function revive(key: string, value: unknown): unknown {
  return typeof value === 'string' && (key === 'at' || /[a-z](At|Deadline)$/.test(key)) ? new Date(value) : value
}

function parseMessage(payload: string): FeedMessage | undefined {
  try {
    const m = JSON.parse(payload, revive) as Partial<FeedMessage>
    return typeof m.p === 'number' && typeof m.t === 'number' ? { p: m.p, t: m.t, ...(Array.isArray(m.e) ? { e: m.e } : {}) } : undefined
  } catch {
    return undefined
  }
}

interface Queued {
  m: FeedMessage
  done?: () => void
}

export class AlertFeed implements Unit {
  readonly name = 'alert-feed'
  /** The newest event id handed on; undefined until the first message or start(). */
  private cursor: number | undefined
  private readonly queue: Queued[] = []
  private running = false
  private unlisten: (() => Promise<void>) | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly db: Db,
    private readonly emit: (e: CommittedEvent) => void,
    private readonly log: Logger,
  ) {}

  /** Listens for other processes' events; without it the feed still hands on this process's own. */
  async start(): Promise<void> {
    this.unlisten = await this.db.listen(ALERT_EVENTS_CHANNEL, (payload) => {
      const m = parseMessage(payload)
      if (m) this.push({ m })
    })
    // Events committed before now are the backfill's business, not the live feed's.
    const last = await lastEventId(this.db)
    this.cursor = Math.max(this.cursor ?? 0, last)
    this.timer = setInterval(() => this.poll(), POLL_MS)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.unlisten?.()
    this.unlisten = undefined
  }

  /** This process's committed transaction: handed on now; resolves once its events are on the bus. */
  accept(m: FeedMessage): Promise<void> {
    return new Promise((resolve) => this.push({ m, done: resolve }))
  }

  private poll(): void {
    lastEventId(this.db).then(
      (last) => {
        if (this.cursor !== undefined && last > this.cursor) this.push({ m: { p: Number.MAX_SAFE_INTEGER, t: last } })
      },
      (err: unknown) => this.log.debug({ err }, 'alert feed poll failed'),
    )
  }

  private push(q: Queued): void {
    if (this.queue.length >= MAX_QUEUED) {
      // One read up to the newest id stands for everything queued; their waiters are released with it.
      const waiters = this.queue.splice(0).flatMap((x) => (x.done ? [x.done] : []))
      const t = Math.max(q.m.t, this.cursor ?? 0)
      this.queue.push({ m: { p: Number.MAX_SAFE_INTEGER, t }, done: () => [...waiters, ...(q.done ? [q.done] : [])].forEach((d) => d()) })
    } else {
      this.queue.push(q)
    }
    void this.drain()
  }

  private async drain(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      for (let q = this.queue.shift(); q; q = this.queue.shift()) {
        try {
          await this.apply(q.m)
        } catch (err) {
          // The poll will find what is missing once the database answers again.
          this.log.warn({ err, upTo: q.m.t }, 'alert feed could not read events; will catch up')
        } finally {
          q.done?.()
        }
      }
    } finally {
      this.running = false
    }
  }

  private async apply(m: FeedMessage): Promise<void> {
    this.cursor ??= Math.min(m.p, m.t - 1)
    if (m.t <= this.cursor) return
    if (m.e && m.p <= this.cursor) {
      for (const e of m.e) if (e.event.id > this.cursor) this.hand(e)
      this.cursor = m.t
      return
    }
    // A gap: read what lies between from the database.
    while (this.cursor < m.t) {
      const page = await eventsBetween(this.db, this.cursor, m.t, PAGE)
      for (const e of page) this.hand(e)
      if (page.length < PAGE) this.cursor = m.t
    }
  }

  private hand(e: CommittedEvent): void {
    this.cursor = e.event.id
    try {
      this.emit(e)
    } catch (err) {
      this.log.error({ err, eventId: e.event.id }, 'alert event listener failed')
    }
  }
}
