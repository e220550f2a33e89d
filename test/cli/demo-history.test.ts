// The demo's past (cli/demo-history.ts) on a fresh embedded database with the demo district: the
// ranking is not empty on the first start and tells the prompt company from the slow one, the
// overview has today's times, the charts have readings; a second start writes nothing; the same
// moment gives the same history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoHistory, ensureDemoHistory, HISTORY_DAYS } from '../../cli/demo-history.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { demoLayout, provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { apiFor } from '../helpers/api.ts'
import type { App } from '../../api/app.ts'

let db: Db
let app: App
let auth: Record<string, string>
const now = new Date()

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  // The demo district as `up` provisions it (ensureDemo without its credentials file).
  const layout = demoLayout()
  for (const c of layout.communities) {
    const company = layout.companies.find((co) => co.id === c.companyId)
    if (company) await provisionCommunity(db, company, c)
  }
  await provisionDevices(db, layout.devices)
  const api = await apiFor(db, features)
  app = api.app
  auth = { authorization: `Bearer ${api.token}` }
})

afterAll(async () => {
  await app.close()
  await db.close()
})

describe('demo history', () => {
  it('the same moment gives the same history, bounded, all of it in the past', () => {
    const a = demoHistory(now)
    const b = demoHistory(now)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
    expect(a.alerts.length).toBeGreaterThan(HISTORY_DAYS * 2 * 2)
    expect(a.alerts.length).toBeLessThan(500)
    expect(a.readings.ts.length).toBeLessThan(50_000)
    for (const x of a.alerts) {
      expect(x.resolvedAt.getTime()).toBeLessThan(now.getTime())
      expect(x.resolvedAt.getTime()).toBeGreaterThanOrEqual(x.raisedAt.getTime())
      if (x.acknowledgedAt) expect(x.acknowledgedAt.getTime()).toBeLessThanOrEqual(x.resolvedAt.getTime())
    }
  })

  it('a fresh demo database gets a ranked past in seconds; a second start writes nothing', async () => {
    const started = Date.now()
    const written = await ensureDemoHistory(db, silentLogger, now)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(written?.alerts).toBeGreaterThan(50)
    expect(written?.readings).toBeGreaterThan(10_000)
    expect(await ensureDemoHistory(db, silentLogger, new Date(now.getTime() + 60_000))).toBeNull()

    const res = await app.inject({ url: '/api/v1/evaluation/ranking', headers: auth })
    expect(res.statusCode).toBe(200)
    const items = res.json<{ items: { companyId: string; alerts: number; score: number | null; rank: number | null; satisfaction: { count: number } }[] }>().items
    expect(items).toHaveLength(2)
    for (const r of items) {
      expect(r.alerts).toBeGreaterThan(20)
      expect(r.score).not.toBeNull()
      expect(r.satisfaction.count).toBeGreaterThan(0)
    }
    // The prompt company leads.
    expect(items.find((r) => r.rank === 1)?.companyId).toBe('co-jinxiu')

    const history = await app.inject({ url: '/api/v1/evaluation/history?periods=3&period=7d', headers: auth })
    const periods = history.json<{ periods: { items: { score: number | null }[] }[] }>().periods
    expect(periods.every((p) => p.items.some((i) => i.score !== null))).toBe(true)

    const readings = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM readings WHERE device_id = 'ft-xinzhuang-001' AND metric = 'water_level_m'")
    expect(readings[0]?.n).toBe(HISTORY_DAYS * 24)
    // Every alert is resolved: nothing of the past sits on the board.
    const open = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM alerts WHERE state <> 'resolved'")
    expect(open[0]?.n).toBe(0)
  })
})
