// The ranking on a fixture of alerts and ratings, against figures computed by hand, for two
// consecutive periods and the change between them.
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { insertFeedback, rateAlert } from '../../core/repos/feedback.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { apiFor } from '../helpers/api.ts'

const H = 3_600_000
const M = 60_000
/** Period 2 is [P2, P2 + 10 days); period 1 the 10 days before. */
const P2 = Date.UTC(2026, 5, 11)
const P1 = P2 - 10 * 24 * H
const END = P2 + 10 * 24 * H

let db: Db
let app: App
let auth: Record<string, string>

interface Fixture {
  company: string
  raisedAt: number
  severity?: 'critical' | 'major' | 'minor' | 'warning'
  /** minutes after raise */
  ackAfter?: number
  resolveAfter?: number
  reopened?: boolean
  silenced?: boolean
}

/** Deadlines: acknowledge within 60 min, resolve within 240 min, for every fixture alert. */
async function alert(f: Fixture): Promise<number> {
  const raised = new Date(f.raisedAt)
  const at = (min: number | undefined) => (min === undefined ? null : new Date(f.raisedAt + min * M))
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO alerts (rule_id, device_id, community_id, company_id, source, severity, title, state, raised_at, last_seen_at,
       acknowledged_at, resolved_at, ack_deadline, resolve_deadline, silenced, resolved_active)
     VALUES ($1, NULL, $2, $3, 'operator', $4, 'fixture', $5, $6, $6, $7, $8, $9, $10, $11, false) RETURNING id`,
    [
      `fx-${Math.random()}`,
      f.company === 'co-a' ? 'cm-a' : 'cm-b',
      f.company,
      f.severity ?? 'major',
      f.resolveAfter === undefined ? (f.ackAfter === undefined ? 'open' : 'acknowledged') : 'resolved',
      raised,
      at(f.ackAfter),
      at(f.resolveAfter),
      new Date(f.raisedAt + 60 * M),
      new Date(f.raisedAt + 240 * M),
      f.silenced ?? false,
    ],
  )
  const id = row?.id ?? 0
  if (f.reopened) {
    await db.query(
      `INSERT INTO alerts (rule_id, community_id, company_id, source, severity, title, raised_at, ack_deadline, resolve_deadline, reraise_of, state, acknowledged_at, resolved_at)
       VALUES ($1, 'cm-a', $2, 'operator', 'minor', 'reraised', $3, $3, $3, $4, 'resolved', $3, $3)`,
      [`fx-re-${id}`, f.company, new Date(END + H), id],
    )
  }
  return id
}

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  for (const [co, cm, name] of [['co-a', 'cm-a', 'Alpha Property'], ['co-b', 'cm-b', 'Beta Property']] as const) {
    await createCompany(db, { id: co, name, contact: null })
    await createCommunity(db, cm, { name: cm, district: null, street: null, address: null, lat: null, lon: null })
    await assignCommunity(db, cm, co, 'fixture', null)
  }
  const api = await apiFor(db, features)
  app = api.app
  auth = { authorization: `Bearer ${api.token}` }

  // Period 1. Alpha: two alerts, both fast. Beta: two alerts, one late on both deadlines.
  await alert({ company: 'co-a', raisedAt: P1 + H, ackAfter: 10, resolveAfter: 60 })
  await alert({ company: 'co-a', raisedAt: P1 + 2 * H, ackAfter: 30, resolveAfter: 120 })
  await alert({ company: 'co-b', raisedAt: P1 + H, ackAfter: 20, resolveAfter: 100 })
  await alert({ company: 'co-b', raisedAt: P1 + 2 * H, ackAfter: 90, resolveAfter: 300 })
  // Other residents than in period 2: both periods fall in one calendar month, and a resident's
  // newer feedback of the same month replaces their earlier one.
  await insertFeedback(db, { communityId: 'cm-a', rating: 4, comment: null, author: 'r3', at: new Date(P1 + 3 * H) })
  await insertFeedback(db, { communityId: 'cm-b', rating: 3, comment: null, author: 'r4', at: new Date(P1 + 3 * H) })

  // Period 2. Alpha: 4 alerts (one critical, one reopened, one never acknowledged, one silenced and
  // left out). Beta: 1 alert, quick.
  const a1 = await alert({ company: 'co-a', raisedAt: P2 + H, severity: 'critical', ackAfter: 5, resolveAfter: 30 })
  await alert({ company: 'co-a', raisedAt: P2 + 2 * H, ackAfter: 50, resolveAfter: 200, reopened: true })
  await alert({ company: 'co-a', raisedAt: P2 + 3 * H, severity: 'minor' })
  await alert({ company: 'co-a', raisedAt: P2 + 4 * H, ackAfter: 1, resolveAfter: 2, silenced: true })
  await alert({ company: 'co-b', raisedAt: P2 + H, ackAfter: 6, resolveAfter: 24 })
  await insertFeedback(db, { communityId: 'cm-a', rating: 2, comment: null, author: 'r1', at: new Date(P2 + H) })
  await rateAlert(db, { alertId: a1, rating: 5, comment: null, ratedBy: 'r1', at: new Date(P2 + 2 * H) })
  await insertFeedback(db, { communityId: 'cm-b', rating: 5, comment: null, author: 'r2', at: new Date(P2 + H) })
})

afterAll(async () => {
  await app.close()
  await db.close()
})

interface Ranked {
  companyId: string
  alerts: number
  bySeverity: Record<string, number>
  timeToAcknowledge: { medianS: number | null; p90S: number | null }
  timeToResolve: { medianS: number | null; p90S: number | null }
  deadlineCompliance: { acknowledge: number | null; resolve: number | null }
  reopenedShare: number | null
  satisfaction: { mean: number | null; count: number; raters: number }
  components: Record<string, number | null>
  score: number | null
  rank: number | null
  previous: { score: number | null; rank: number | null }
  change: { score: number | null; rank: number | null }
}

async function ranking(from: number, to: number): Promise<Map<string, Ranked>> {
  const res = await app.inject({ url: `/api/v1/evaluation/ranking?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`, headers: auth })
  expect(res.statusCode).toBe(200)
  return new Map(res.json<{ items: Ranked[] }>().items.map((r) => [r.companyId, r]))
}

describe('evaluation ranking', () => {
  it('period 1: figures, score and rank as computed by hand', async () => {
    const r = await ranking(P1, P2)
    const a = r.get('co-a')
    const b = r.get('co-b')
    // Alpha: TTA 10, 30 min → median 20 min, p90 = 10 + 0.9 × 20 = 28 min. TTR 60, 120 → median 90, p90 114 min.
    expect(a).toMatchObject({ alerts: 2, timeToAcknowledge: { medianS: 1200, p90S: 1680 }, timeToResolve: { medianS: 5400, p90S: 6840 } })
    // Both deadlines met; window used 60/240 and 120/240 → median 0.375 → speed 0.625; satisfaction 4 → 0.75.
    expect(a?.components).toEqual({ ack: 1, resolve: 1, speed: 0.625, quality: 1, satisfaction: 0.75 })
    // 100 × (0.25 + 0.25 + 0.15 × 0.625 + 0.15 + 0.2 × 0.75) = 89.375 → 89.4
    expect(a?.score).toBe(89.4)
    // Beta: ack 20 ok, 90 late → 0.5; resolve 100 ok, 300 late → 0.5; window used 100/240, 300/240 → median 0.8333 → speed 0.1667;
    // satisfaction 3 → 0.5. 100 × (0.125 + 0.125 + 0.025 + 0.15 + 0.1) = 52.5
    expect(b?.components.ack).toBe(0.5)
    expect(b?.components.resolve).toBe(0.5)
    expect(b?.components.speed).toBeCloseTo(1 / 6, 10)
    expect(b?.score).toBe(52.5)
    expect([a?.rank, b?.rank]).toEqual([1, 2])
  })

  it('period 2: figures, score, rank and the change against period 1', async () => {
    const r = await ranking(P2, END)
    const a = r.get('co-a')
    const b = r.get('co-b')
    // Alpha: 3 alerts counted (the silenced one is left out): critical, major, minor.
    expect(a).toMatchObject({ alerts: 3, bySeverity: { critical: 1, major: 1, minor: 1, warning: 0 } })
    // TTA 5, 50 min (the third was never acknowledged) → median 27.5 min; p90 5 + 0.9 × 45 = 45.5 min.
    expect(a?.timeToAcknowledge).toEqual({ medianS: 1650, p90S: 2730 })
    // Acknowledge: 2 of 3 due met (the third passed its deadline unacknowledged); resolve: 2 of 3 due met
    // (the second resolved at 200 ≤ 240 min; the third passed its resolve deadline).
    expect(a?.deadlineCompliance.acknowledge).toBeCloseTo(2 / 3, 10)
    expect(a?.deadlineCompliance.resolve).toBeCloseTo(2 / 3, 10)
    // One of two resolved alerts was re-raised.
    expect(a?.reopenedShare).toBe(0.5)
    // Satisfaction pools community feedback (2) and the alert rating (5): mean 3.5 over 2.
    // One resident's feedback and rating: two ratings, one voice.
    expect(a?.satisfaction).toEqual({ mean: 3.5, count: 2, raters: 1 })
    // Window used 30/240 = 0.125 and 200/240 = 0.8333 → median 0.479167 → speed 0.520833.
    // 100 × (0.25 × 2/3 + 0.25 × 2/3 + 0.15 × 0.520833 + 0.15 × 0.5 + 0.2 × 0.625) = 61.146 → 61.1
    expect(a?.score).toBe(61.1)
    // Beta: one alert, TTA 6 min, TTR 24 min (0.1 of its window → speed 0.9), satisfaction 5 → 1.
    // 100 × (0.25 + 0.25 + 0.135 + 0.15 + 0.2) = 98.5
    expect(b?.score).toBe(98.5)
    expect([b?.rank, a?.rank]).toEqual([1, 2])
    expect(a?.previous).toEqual({ score: 89.4, rank: 1 })
    expect(a?.change).toEqual({ score: -28.3, rank: -1 })
    expect(b?.change).toEqual({ score: 46, rank: 1 })
  })

  it('exports the ranking as CSV and drills down into one company', async () => {
    const q = `from=${new Date(P2).toISOString()}&to=${new Date(END).toISOString()}`
    const csv = await app.inject({ url: `/api/v1/evaluation/ranking.csv?${q}`, headers: auth })
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8')
    // The byte-order mark first, so Excel on a Chinese Windows reads UTF-8, not GBK.
    expect(csv.body.startsWith('\uFEFFrank,company_id,company,score,alerts,')).toBe(true)
    const lines = csv.body.trim().split('\r\n')
    expect(lines[1]).toMatch(/^1,co-b,Beta Property,98.5,1,/)
    expect(lines[2]).toMatch(/^2,co-a,Alpha Property,61.1,3,/)
    // Read back as our own import reads a file (csv-parse, bom: true), every column is where it was.
    const rows = parse<Record<string, string>>(csv.body, { columns: true, bom: true })
    expect(rows.map((r) => [r.rank, r.company_id, r.company, r.score])).toEqual([
      ['1', 'co-b', 'Beta Property', '98.5'],
      ['2', 'co-a', 'Alpha Property', '61.1'],
    ])
    const drill = await app.inject({ url: `/api/v1/evaluation/companies/co-a?${q}`, headers: auth })
    const body = drill.json<{ company: { score: number }; communities: { communityId: string; alerts: number }[]; slowest: { title: string }[] }>()
    expect(body.company.score).toBe(61.1)
    expect(body.communities).toEqual([expect.objectContaining({ communityId: 'cm-a', alerts: 3 })])
    expect(body.slowest).toHaveLength(3)
  })
})
