// The live alert stream's bounds (issue 7, items 7 and 8): a client that never reads holds the
// server to one buffer's worth, not the alert history; a resume sends a capped number of recent
// events; a token holds a capped number of streams; a revoked or expired token's stream ends.
import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { AlertService } from '../../alerts/service.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken, revokeTokens, setUserDisabled } from '../../core/repos/tokens.ts'
import { apiFor } from '../helpers/api.ts'
import { eventually } from '../helpers/services.ts'
import { seed } from '../helpers/stack.ts'

const HISTORY = 4000
const NOTE = 'n'.repeat(4000)

let db: Db
let alerts: AlertService
/** Generous backfill, so only backpressure bounds it; token rechecks rare, so revocation must be an event. */
let wide: { app: App; port: number; admin: string }
/** Small backfill and fast token rechecks. */
let narrow: { app: App; port: number; admin: string }
let alertId = 0
/** Process warnings while the streams run: waiting for a slow reader must not pile up listeners. */
const warnings: string[] = []
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`)

async function listening(app: App): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const addr = app.server.address()
  return typeof addr === 'object' && addr !== null ? addr.port : 0
}

beforeAll(async () => {
  process.on('warning', onWarning)
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  await seed(db)
  await upsertRule(db, { id: 'entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { name: 'Passenger trapped', severity: 'critical' } })
  const a = await apiFor(db, features, { alertStream: { backfillMax: 100_000, perToken: 2, recheckMs: 600_000 } })
  alerts = a.alerts
  wide = { app: a.app, port: await listening(a.app), admin: a.token }
  const b = await apiFor(db, features, { alertStream: { backfillMax: 50, backfillMaxAgeMs: 3_600_000, recheckMs: 100 } })
  narrow = { app: b.app, port: await listening(b.app), admin: b.token }
  alertId = (await alerts.report({ ruleId: 'entrapment', deviceId: 'el-1', condition: 'active' }, 'rules')).alert?.id ?? 0
  // A long history (about 20 MB of frames), then ten events older than the narrow app's age limit.
  await db.query(`INSERT INTO alert_events (alert_id, at, type, actor, note) SELECT $1, now(), 'commented', 'crew', $2 FROM generate_series(1, $3::int)`, [alertId, NOTE, HISTORY])
  await db.query(`INSERT INTO alert_events (alert_id, at, type, actor, note) SELECT $1, now() - interval '2 days', 'commented', 'crew', 'old' FROM generate_series(1, 10)`, [alertId])
})

afterAll(async () => {
  process.off('warning', onWarning)
  await wide.app.close()
  await narrow.app.close()
  await db.close()
})

interface Client {
  status: number
  frames: string[]
  ended: Promise<void>
  close: () => void
}

function open(port: number, token: string, headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/alerts/stream', headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
      const frames: string[] = []
      let buf = ''
      const ended = new Promise<void>((done) => res.on('close', done))
      res.on('data', (d: Buffer) => {
        buf += d.toString()
        const parts = buf.split('\n\n')
        buf = parts.pop() ?? ''
        frames.push(...parts.filter((p) => p.startsWith('id:') || p.startsWith('event:')))
      })
      resolve({ status: res.statusCode ?? 0, frames, ended, close: () => req.destroy() })
    })
    req.on('error', reject)
  })
}

/** True once the stream has ended; undefined while it is open (for `eventually`). */
function endedYet(c: Client): Promise<true | undefined> {
  return Promise.race([c.ended.then(() => true as const), new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))])
}

describe('alert stream bounds', () => {
  it('waits for a client that never reads instead of buffering the history', async () => {
    const serverSockets: net.Socket[] = []
    const onConnection = (s: net.Socket) => serverSockets.push(s)
    wide.app.server.on('connection', onConnection)
    const client = net.connect(wide.port, '127.0.0.1')
    client.pause() // never reads
    client.write(`GET /api/v1/alerts/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${wide.admin}\r\nLast-Event-ID: 0\r\n\r\n`)
    try {
      const socket = await eventually(() => serverSockets[0], 5000, 'the server side of the connection')
      // Wait until the server has stopped writing: two samples 200 ms apart agree.
      let previous = -1
      const total = await eventually(
        async () => {
          const now = socket.bytesWritten + socket.writableLength
          const settled = now === previous && now > 0
          previous = now
          await new Promise((r) => setTimeout(r, 200))
          return settled ? now : undefined
        },
        20_000,
        'the server to stop writing',
      )
      const history = HISTORY * NOTE.length
      console.log(`stream to a client that never reads: ${socket.writableLength} bytes buffered in the server, ${total} handed to the socket in all, history ${history} bytes`)
      expect(socket.writableLength).toBeLessThan(256 * 1024)
      expect(total).toBeLessThan(history / 2)
    } finally {
      wide.app.server.off('connection', onConnection)
      client.destroy()
    }
  })

  it('leaves no listeners behind while it waits for a slow reader (no MaxListenersExceededWarning)', () => {
    // Runs after the slow-reader test above, which waits for 'drain' many times on one response.
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([])
  })

  it('resumes with at most the newest capped events, none older than the age limit, and says so', async () => {
    const s = await open(narrow.port, narrow.admin, { 'last-event-id': '0' })
    await eventually(() => (s.frames.filter((f) => f.startsWith('id:')).length >= 50 ? true : undefined), 5000, '50 events')
    await new Promise((r) => setTimeout(r, 200))
    s.close()
    const [first, ...events] = s.frames
    expect(first).toMatch(/^event: truncated\ndata: \{"after":0,"resumedAfter":\d+\}$/)
    expect(events).toHaveLength(50)
    const ids = events.map((f) => Number(/^id: (\d+)/.exec(f)?.[1]))
    const [{ max }] = await db.query<{ max: number }>(`SELECT MAX(id)::int AS max FROM alert_events WHERE at > now() - interval '1 hour'`).then((r) => r as [{ max: number }])
    expect(ids.at(-1)).toBe(max)
    expect(events.some((f) => f.includes('"note":"old"'))).toBe(false)
  })

  it('caps the streams one token may hold open', async () => {
    const one = await open(wide.port, wide.admin)
    const two = await open(wide.port, wide.admin)
    const three = await new Promise<{ status: number; body: string }>((resolve) => {
      http.get({ host: '127.0.0.1', port: wide.port, path: '/api/v1/alerts/stream', headers: { authorization: `Bearer ${wide.admin}` } }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
    })
    expect([one.status, two.status, three.status]).toEqual([200, 200, 429])
    expect(JSON.parse(three.body)).toMatchObject({ code: 'too_many_streams' })
    one.close()
    await one.ended
    const again = await eventually(async () => {
      const s = await open(wide.port, wide.admin)
      if (s.status === 200) return s
      s.close()
      return undefined
    }, 5000, 'a stream after one closed')
    again.close()
    two.close()
  })

  it('ends a stream when its token is revoked through the API, at once', async () => {
    const userId = await insertUser(db, { name: 'op-revoked', role: 'operator' })
    const t = await issueToken(db, userId)
    const s = await open(wide.port, t.token)
    expect(s.status).toBe(200)
    // The wide app rechecks tokens only every 10 minutes: only the revocation event can end it.
    const res = await wide.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${t.id}`, headers: { authorization: `Bearer ${wide.admin}` } })
    expect(res.statusCode).toBe(204)
    await eventually(() => endedYet(s), 2000, 'the stream to end')
  })

  it('ends a stream when its user is disabled through the API, at once, and elsewhere at the next recheck', async () => {
    const userId = await insertUser(db, { name: 'op-disabled', role: 'operator' })
    const t = await issueToken(db, userId)
    const s = await open(wide.port, t.token)
    expect(s.status).toBe(200)
    const res = await wide.app.inject({ method: 'PATCH', url: `/api/v1/users/${userId}`, headers: { authorization: `Bearer ${wide.admin}` }, payload: { disabled: true } })
    expect(res.statusCode).toBe(200)
    await eventually(() => endedYet(s), 2000, 'the stream to end')
    // Disabled in another process (no event here): the narrow app's recheck ends it.
    await setUserDisabled(db, userId, false)
    const n = await open(narrow.port, t.token)
    expect(n.status).toBe(200)
    await setUserDisabled(db, userId, true)
    await eventually(() => endedYet(n), 3000, 'the rechecked stream to end')
  })

  it('ends a stream when its token is revoked elsewhere or expires', async () => {
    const userId = await insertUser(db, { name: 'op-elsewhere', role: 'operator' })
    const revoked = await issueToken(db, userId)
    const expiring = await issueToken(db, userId, { expiresAt: new Date(Date.now() + 1500) })
    const a = await open(narrow.port, revoked.token)
    const b = await open(narrow.port, expiring.token)
    expect([a.status, b.status]).toEqual([200, 200])
    await revokeTokens(db, { tokenId: revoked.id }) // as the CLI does, in another process
    await eventually(() => endedYet(a), 3000, 'the revoked stream to end')
    await eventually(() => endedYet(b), 5000, 'the expired stream to end')
  })
})
