// GET /api/v1/overview on a fixture whose figures are computed by hand: unresolved alerts by
// severity (overdue, unacknowledged), devices online/offline/unknown, the day's response times
// (the ranking's own measure), and the companies' standing at both ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { officeMidnight } from '../../api/routes/overview.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { apiFor } from '../helpers/api.ts'

const M = 60_000
const H = 60 * M
let db: Db
let app: App
let auth: Record<string, string>
let operator: Record<string, string>
const now = Date.now()
const SINCE = now - 6 * H

interface Fixture {
  company: string
  severity: 'critical' | 'major' | 'minor' | 'warning'
  raisedAt: number
  /** Minutes after the raise. */
  ackAfter?: number
  arriveAfter?: number
  resolveAfter?: number
  ackDeadline?: number
}

async function alert(f: Fixture): Promise<void> {
  const at = (min: number | undefined) => (min === undefined ? null : new Date(f.raisedAt + min * M))
  const state = f.resolveAfter !== undefined ? 'resolved' : f.ackAfter !== undefined ? 'acknowledged' : 'open'
  await db.query(
    `INSERT INTO alerts (rule_id, community_id, company_id, source, severity, title, state, raised_at, last_seen_at,
       acknowledged_at, arrived_at, resolved_at, ack_deadline, resolve_deadline)
     VALUES ($1, $2, $3, 'operator', $4, 'fixture', $5, $6, $6, $7, $8, $9, $10, $11)`,
    [
      `fx-${Math.random()}`,
      f.company === 'co-a' ? 'cm-a' : 'cm-b',
      f.company,
      f.severity,
      state,
      new Date(f.raisedAt),
      at(f.ackAfter),
      at(f.arriveAfter),
      at(f.resolveAfter),
      new Date(f.ackDeadline ?? f.raisedAt + 60 * M),
      new Date(f.raisedAt + 240 * M),
    ],
  )
}

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  for (const [co, cm, name] of [['co-a', 'cm-a', 'Alpha Property'], ['co-b', 'cm-b', 'Beta Property'], ['co-c', 'cm-c', 'Gamma Property']] as const) {
    await provisionCommunity(db, { id: co, name }, { id: cm, name: cm })
  }
  await provisionDevices(db, [
    { id: 'el-a', kind: 'elevator', communityId: 'cm-a' },
    { id: 'el-b', kind: 'elevator', communityId: 'cm-b' },
    { id: 'el-c', kind: 'elevator', communityId: 'cm-b' },
  ])
  // el-a said online, el-b offline (its Last Will); el-c never said anything.
  await db.query(`INSERT INTO device_status (device_id, status, changed_at) VALUES ('el-a', 'online', now()), ('el-b', 'offline', now())`)
  const api = await apiFor(db, features)
  app = api.app
  auth = { authorization: `Bearer ${api.token}` }
  operator = { authorization: `Bearer ${await api.tokenFor('operator')}` }

  // Today (after SINCE): Alpha acknowledged in 4 and 10 min, arrived in 20 min, resolved in 30 and 90 min.
  await alert({ company: 'co-a', severity: 'critical', raisedAt: SINCE + H, ackAfter: 4, arriveAfter: 20, resolveAfter: 30 })
  await alert({ company: 'co-a', severity: 'major', raisedAt: SINCE + 2 * H, ackAfter: 10, resolveAfter: 90 })
  // Beta: one acknowledged in 16 min, unresolved; one open past its deadline; one open within it.
  await alert({ company: 'co-b', severity: 'major', raisedAt: SINCE + 3 * H, ackAfter: 16 })
  await alert({ company: 'co-b', severity: 'critical', raisedAt: SINCE + 4 * H })
  await alert({ company: 'co-b', severity: 'warning', raisedAt: now - 10 * M, ackDeadline: now + H })
  // Before SINCE: in the standing and still unresolved, but not in the day's figures.
  await alert({ company: 'co-c', severity: 'minor', raisedAt: SINCE - 2 * H, ackAfter: 100 })
})

afterAll(async () => {
  await app.close()
  await db.close()
})

describe('GET /api/v1/overview', () => {
  it('counts, times and standing as computed by hand', async () => {
    const res = await app.inject({ url: `/api/v1/overview?since=${new Date(SINCE).toISOString()}`, headers: operator })
    expect(res.statusCode).toBe(200)
    const o = res.json<Record<string, unknown>>()
    // Unresolved: Beta's three and Gamma's one; open: Beta's critical (overdue) and warning (not yet).
    expect(o.open).toEqual({ critical: 1, major: 1, minor: 1, warning: 1, total: 4, unacknowledged: 2, overdue: 1 })
    expect(o.devices).toEqual({ online: 1, offline: 1, unknown: 1, total: 3, truncated: false })
    // Five raised today; acknowledge 4, 10, 16 → median 10 min, p90 = 10 + 0.8 × 6 = 14.8 min.
    // Arrive: one, 20 min. Resolve 30, 90 → median 60 min, p90 30 + 0.9 × 60 = 84 min.
    expect(o.today).toEqual({
      raised: 5,
      resolved: 2,
      timeToAcknowledge: { medianS: 600, p90S: expect.closeTo(888, 6) as number },
      timeToArrive: { medianS: 1200, p90S: 1200 },
      timeToResolve: { medianS: 3600, p90S: expect.closeTo(5040, 6) as number },
    })
    const standing = o.standing as { companies: number; top: { companyId: string; rank: number }[]; bottom: { companyId: string; rank: number }[] }
    // Alpha met every deadline, Beta missed one, Gamma was late: all three scored, best first, once each.
    expect(standing.companies).toBe(3)
    expect(standing.top.map((r) => r.companyId)[0]).toBe('co-a')
    expect(standing.top.map((r) => r.rank)).toEqual([1, 2, 3])
    expect(standing.bottom).toEqual([])
  })

  it("defaults to the office's day (midnight in Shanghai) and refuses a week-old start", async () => {
    const res = await app.inject({ url: '/api/v1/overview', headers: auth })
    expect(res.statusCode).toBe(200)
    const since = new Date(res.json<{ since: string }>().since)
    expect(since.getTime()).toBe(officeMidnight(new Date()).getTime())
    // 16:00 UTC is midnight in Shanghai; 15:59 UTC is still the day before's evening.
    expect(officeMidnight(new Date('2026-03-01T16:00:00Z')).toISOString()).toBe('2026-03-01T16:00:00.000Z')
    expect(officeMidnight(new Date('2026-03-01T15:59:00Z')).toISOString()).toBe('2026-02-28T16:00:00.000Z')
    const old = await app.inject({ url: `/api/v1/overview?since=${new Date(now - 8 * 24 * H).toISOString()}`, headers: auth })
    expect(old.statusCode).toBe(400)
    expect(old.json<{ code: string }>().code).toBe('validation_failed')
  })
})
