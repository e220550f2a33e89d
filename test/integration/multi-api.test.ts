// Several `housing-brain api` processes on one PostgreSQL database (issue 11): every live-stream
// subscriber, on either process, sees every alert event whichever process wrote it, once and in
// order; a client cut off by a kill -9 resumes on the other with Last-Event-ID; the deadline
// checker runs in one process (the advisory-lock leader) and a deadline is escalated — and its
// webhook delivered to a real receiver — once, also after the leader is killed.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStream, type StreamClient } from '../../alerts/stream-client.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { createTestDatabase, eventually, freePort, hasPostgres } from '../helpers/services.ts'
import { startEscalationReceiver } from '../helpers/escalation-receiver.ts'
import { startService, type ServiceProcess } from '../helpers/service-process.ts'
import { seed } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

interface Api {
  proc: ServiceProcess
  port: number
}

describe.skipIf(!pgUp)('several API processes on one database', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let db: Db
  let dataDir: string
  let token: string
  const notifyKey = randomBytes(32).toString('base64')
  const apis: Api[] = []
  const streams: StreamClient[] = []

  async function startApi(): Promise<Api> {
    const port = await freePort()
    const proc = await startService(
      'api',
      {
        DATABASE_URL: tdb.url,
        HTTP_PORT: String(port),
        DATA_DIR: dataDir,
        // Every API process of a deployment shares the key that seals channel secrets and signs links.
        NOTIFY_SECRET_KEY: notifyKey,
        EGRESS_ALLOW: '127.0.0.1',
        RATE_LIMIT_PER_MINUTE: '0',
        ALERT_CHECK_EVERY: '200ms',
        LEADER_RETRY: '500ms',
        ALERT_DEADLINES: 'major=1500ms/4s',
        ALERT_REMIND_EVERY: '1h',
      },
      'API listening',
    )
    const api = { proc, port }
    apis.push(api)
    return api
  }

  async function call(api: Api, method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`http://127.0.0.1:${api.port}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  async function raise(api: Api, ruleId: string, severity: 'minor' | 'major'): Promise<number> {
    const res = await call(api, 'POST', '/api/v1/alerts', { ruleId, deviceId: 'mh-1', condition: 'active', source: 'operator', severity, title: `test ${ruleId}` })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return (res.body.alert as { id: number }).id
  }

  const allEventIds = async (after = 0) => (await db.query<{ id: number }>('SELECT id FROM alert_events WHERE id > $1 ORDER BY id', [after])).map((r) => r.id)
  const idsOf = (s: StreamClient) => s.events.map((e) => e.id)

  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = await openDb({ url: tdb.url })
    await migrate(db, { log: silentLogger })
    await seed(db)
    token = (await issueToken(db, await insertUser(db, { name: 'ops', role: 'admin' }))).token
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hb-multiapi-'))
    await startApi()
    await startApi()
  }, 120_000)

  afterAll(async () => {
    for (const s of streams) s.close()
    await Promise.all(apis.map((a) => a.proc.kill9()))
    await db.close()
    await tdb.drop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('delivers every event to a subscriber on either process once and in order; after a kill -9 the other keeps streaming and a resume gets the gap', async () => {
    const [a, b] = apis
    if (!a || !b) throw new Error('two API processes expected')
    const onA = await openStream(a.port, token)
    const onB = await openStream(b.port, token)
    streams.push(onA, onB)
    // Written through both processes at once: commits interleave across them.
    await Promise.all(Array.from({ length: 30 }, (_, i) => raise(i % 2 === 0 ? a : b, `multi-${i}`, 'minor')))
    const written = await allEventIds()
    expect(written).toHaveLength(30)
    await eventually(() => (idsOf(onA).length >= 30 && idsOf(onB).length >= 30 ? true : undefined), 20_000, 'both streams to see 30 events')
    expect(idsOf(onA)).toEqual(written)
    expect(idsOf(onB)).toEqual(written)

    // A's process dies; B's subscriber keeps receiving what B writes.
    const lastOnA = idsOf(onA).at(-1) ?? 0
    await a.proc.kill9()
    await Promise.all(Array.from({ length: 10 }, (_, i) => raise(b, `after-kill-${i}`, 'minor')))
    const gap = await allEventIds(lastOnA)
    expect(gap).toHaveLength(10)
    await eventually(() => (idsOf(onB).length >= 40 ? true : undefined), 20_000, 'B to stream the events written after the kill')
    expect(idsOf(onB)).toEqual([...written, ...gap])
    expect(idsOf(onA)).toEqual(written)

    // A's client resumes on B from its last id: the gap from the backfill, then live events.
    const resumed = await openStream(b.port, token, lastOnA)
    streams.push(resumed)
    await eventually(() => (idsOf(resumed).length >= 10 ? true : undefined), 20_000, 'the resumed stream to get the gap')
    await raise(b, 'after-resume', 'minor')
    const all = await allEventIds(lastOnA)
    await eventually(() => (idsOf(resumed).length >= all.length ? true : undefined), 20_000, 'the resumed stream to go live')
    expect(idsOf(resumed)).toEqual(all)
    const ids = idsOf(onB)
    expect(new Set(ids).size).toBe(ids.length)
  }, 120_000)

  it('escalates a passed deadline once across two processes, and once again after the leader is killed', async () => {
    // A's successor, so two processes run again.
    await startApi()
    const live = apis.filter((x) => x.proc.child.exitCode === null && x.proc.child.signalCode === null)
    expect(live).toHaveLength(2)
    const [b, c] = live as [Api, Api]

    const hooks = await startEscalationReceiver()
    const { url, received, escalations } = hooks
    try {
      const hook = await call(b, 'POST', '/api/v1/webhooks', { url, severities: ['major'], events: ['escalated'] })
      expect(hook.status, JSON.stringify(hook.body)).toBe(201)

      const escalatedOnce = async (alertId: number) => {
        // The resolve deadline comes after the acknowledge one: both seen means the checker has run on the alert many times.
        await eventually(() => (escalations.filter((e) => e.alertId === alertId).length >= 2 ? true : undefined), 30_000, `both escalations of alert ${alertId}`)
        await eventually(
          async () => ((await db.query(`SELECT 1 FROM webhook_deliveries WHERE status <> 'delivered'`)).length === 0 ? true : undefined),
          20_000,
          'every delivery recorded',
        )
        expect(escalations.filter((e) => e.alertId === alertId).map((e) => e.deadline).sort()).toEqual(['acknowledge', 'resolve'])
        const events = await db.query<{ type: string }>(`SELECT type FROM alert_events WHERE alert_id = $1 AND type IN ('escalated', 'reminded')`, [alertId])
        expect(events).toHaveLength(2)
      }

      const first = await raise(c, 'deadline-1', 'major')
      await escalatedOnce(first)

      const leaders = await Promise.all([b, c].map(async (x) => (await call(x, 'GET', '/readyz')).body.leader === true))
      expect(leaders.filter(Boolean)).toHaveLength(1)
      const [leader, standby] = leaders[0] ? [b, c] : [c, b]
      await leader.proc.kill9()

      const second = await raise(standby, 'deadline-2', 'major')
      await escalatedOnce(second)
      expect((await call(standby, 'GET', '/readyz')).body.leader).toBe(true)
      // Every delivery reached the receiver once.
      expect([...received.values()].every((n) => n === 1)).toBe(true)
      expect(received.size).toBe(4)
    } finally {
      hooks.close()
    }
  }, 120_000)
})
