// Service sessions (rules engine, standalone ingest, Node-RED log in with an API token) live only
// as long as their token: a revoked or expired token, or a user who lost the service/admin role,
// ends the MQTT session too (issue 7, item 7). Expiry is enforced at the moment it passes (a
// timer, and a check on every publish, subscribe and delivery); revocation when announced
// (TOKEN_REVOKED_CHANNEL, wired in cli/stack.ts) and, since a notification can be missed, by a
// periodic recheck of every connected service's token. While the database is unreachable the
// recheck cannot tell and keeps the sessions: revocation takes effect when it answers again.
import type { Client } from 'aedes'
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import { getToken, liveTokens } from '../core/repos/tokens.ts'

/** setTimeout's ceiling (about 24.8 days); later expiries are left to the periodic recheck. */
const MAX_TIMER_MS = 2 ** 31 - 1

interface Session {
  tokenId: string
  expiresAt: number | null
  timer: NodeJS.Timeout | undefined
}

export class ServiceSessions {
  /** One entry per connected service client; removed on disconnect and on drop. */
  private readonly sessions = new Map<Client, Session>()
  private readonly dropped = new WeakSet<Client>()
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined

  constructor(
    private readonly db: Db,
    private readonly opts: { recheckMs: number },
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.recheck(), this.opts.recheckMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    for (const s of this.sessions.values()) clearTimeout(s.timer)
    this.sessions.clear()
  }

  /** Registers a service client that logged in with `tokenId`; false when the token is no longer valid. */
  async add(client: Client, tokenId: string): Promise<boolean> {
    const token = await getToken(this.db, tokenId)
    const expiresAt = token?.expiresAt ? token.expiresAt.getTime() : null
    if (!token || token.revokedAt !== null || (expiresAt !== null && expiresAt <= this.now())) return false
    const session: Session = { tokenId, expiresAt, timer: undefined }
    const left = expiresAt === null ? undefined : expiresAt - this.now()
    if (left !== undefined && left < MAX_TIMER_MS) {
      session.timer = setTimeout(() => this.drop(client, 'token expired'), left)
      session.timer.unref()
    }
    this.sessions.set(client, session)
    return true
  }

  /** False once the client's token has expired or it was dropped; devices are always valid here. */
  stillValid(client: Client): boolean {
    if (this.dropped.has(client)) return false
    const s = this.sessions.get(client)
    if (s?.expiresAt != null && s.expiresAt <= this.now()) {
      this.drop(client, 'token expired')
      return false
    }
    return true
  }

  remove(client: Client): void {
    clearTimeout(this.sessions.get(client)?.timer)
    this.sessions.delete(client)
  }

  /** Drops every service whose token is gone; one run at a time (a run asked for meanwhile joins it). */
  recheck(): Promise<void> {
    this.running ??= this.check().finally(() => (this.running = undefined))
    return this.running
  }

  private async check(): Promise<void> {
    for (const client of this.sessions.keys()) if (client.closed) this.remove(client)
    if (this.sessions.size === 0) return
    const ids = [...new Set([...this.sessions.values()].map((s) => s.tokenId))]
    let live: Map<string, string>
    try {
      live = await liveTokens(this.db, ids)
    } catch (err) {
      this.log.warn({ err }, 'could not recheck service tokens; sessions kept until the database answers')
      return
    }
    for (const [client, s] of this.sessions) {
      const role = live.get(s.tokenId)
      if (role === undefined) this.drop(client, 'token revoked or expired')
      else if (role !== 'service' && role !== 'admin') this.drop(client, `user's role is now ${role}`)
    }
  }

  private drop(client: Client, reason: string): void {
    if (this.dropped.has(client)) return
    this.dropped.add(client)
    this.remove(client)
    this.metrics.servicesDropped.inc()
    this.log.warn({ clientId: client.id, reason }, 'closing a service session')
    client.close()
  }
}
