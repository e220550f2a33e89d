// Weights as data (issue 22): a new weights version re-orders the ranking of the periods that start
// after it takes effect, worked out by hand, and leaves the earlier period as it was; a period is
// scored by the version in force at its start; invalid versions are refused saying what to fix.
// On the embedded database (PGlite) and on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { insertFeedback } from '../../core/repos/feedback.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { apiFor } from '../helpers/api.ts'
import { dbTargets, onTarget } from '../helpers/services.ts'

const M = 60_000
const H = 60 * M
const DAY = 24 * H
/** Period 1 is [P1, P2), period 2 [P2, END); version 1 takes effect in the middle of period 1. */
const P1 = Date.UTC(2026, 3, 1)
const P2 = P1 + 10 * DAY
const END = P2 + 10 * DAY
const V1_FROM = P1 + 5 * DAY
const iso = (t: number) => new Date(t).toISOString()

let db: Db
let app: App
let admin: Record<string, string>
let operator: Record<string, string>

/** One alert: acknowledge within 60 min, resolve within 240 min; acknowledged and resolved after the minutes given. */
async function alert(company: string, raisedAt: number, ackAfter: number, resolveAfter: number): Promise<void> {
  await db.query(
    `INSERT INTO alerts (rule_id, community_id, company_id, source, severity, title, state, raised_at, last_seen_at, acknowledged_at, resolved_at, ack_deadline, resolve_deadline)
     VALUES ($1, $2, $3, 'operator', 'major', 'fixture', 'resolved', $4, $4, $5, $6, $7, $8)`,
    [`fx-${company}-${raisedAt}`, company === 'co-a' ? 'cm-a' : 'cm-b', company, new Date(raisedAt), new Date(raisedAt + ackAfter * M), new Date(raisedAt + resolveAfter * M), new Date(raisedAt + 60 * M), new Date(raisedAt + 240 * M)],
  )
}

async function setUp(url: string | undefined): Promise<void> {
  db = await openDb(url ? { url } : {})
  const features = await migrate(db, { log: silentLogger })
  for (const [co, cm, name] of [['co-a', 'cm-a', 'Alpha Property'], ['co-b', 'cm-b', 'Beta Property']] as const) {
    await createCompany(db, { id: co, name, contact: null })
    await createCommunity(db, cm, { name: cm, district: null, street: null, address: null, lat: null, lon: null })
    await assignCommunity(db, cm, co, 'fixture', null)
  }
  const api = await apiFor(db, features)
  app = api.app
  admin = { authorization: `Bearer ${api.token}` }
  operator = { authorization: `Bearer ${await api.tokenFor('operator')}` }
  // The same in both periods. Alpha: quick (ack 10 min, resolve 48 of 240 min), residents unhappy (2).
  // Beta: acknowledged late (90 > 60 min), resolved at 200 of 240 min, residents very happy (5).
  for (const [p, n] of [[P1, 1], [P2, 2]] as const) {
    await alert('co-a', p + H, 10, 48)
    await alert('co-b', p + H, 90, 200)
    await insertFeedback(db, { communityId: 'cm-a', rating: 2, comment: null, author: `ra${n}`, at: new Date(p + 2 * H) })
    await insertFeedback(db, { communityId: 'cm-b', rating: 5, comment: null, author: `rb${n}`, at: new Date(p + 2 * H) })
  }
}

interface Ranking {
  scoring: { version: number; weights: Record<string, number>; formula: string }
  items: { companyId: string; score: number | null; rank: number | null; previous: { score: number | null; rank: number | null } }[]
}

async function ranking(from: number, to: number): Promise<Ranking & { byId: Map<string, Ranking['items'][number]> }> {
  const res = await app.inject({ url: `/api/v1/evaluation/ranking?from=${iso(from)}&to=${iso(to)}`, headers: admin })
  expect(res.statusCode, res.body).toBe(200)
  const body = res.json<Ranking>()
  return { ...body, byId: new Map(body.items.map((r) => [r.companyId, r])) }
}

const post = (body: unknown, headers = admin) => app.inject({ method: 'POST', url: '/api/v1/evaluation/weights', headers, payload: body as object })

describe.each(await dbTargets())('score weights versions (%s)', (_name, postgres) => {
  onTarget(postgres, setUp, async () => {
    await app.close()
    await db.close()
  }, { beforeAll, afterAll })

  it('scores by the built-in version (EVAL_WEIGHTS defaults) until a version is stored', async () => {
    const r = await ranking(P2, END)
    expect(r.scoring).toMatchObject({ version: 0, weights: { ack: 0.25, resolve: 0.25, speed: 0.15, quality: 0.15, satisfaction: 0.2, hotlineOnTime: 0, hotlineSatisfaction: 0 } })
    expect(r.scoring.formula).toContain('0.25·ack + 0.25·resolve + 0.15·speed + 0.15·quality + 0.2·satisfaction')
    // Alpha: ack 1, resolve 1, speed 1 − 48/240 = 0.8, quality 1, satisfaction (2 − 1)/4 = 0.25.
    // 100 × (0.25 + 0.25 + 0.15 × 0.8 + 0.15 + 0.2 × 0.25) = 82
    // Beta: ack 0, resolve 1, speed 1 − 200/240 = 1/6, quality 1, satisfaction 1.
    // 100 × (0 + 0.25 + 0.15 / 6 + 0.15 + 0.2) = 62.5
    expect([r.byId.get('co-a')?.score, r.byId.get('co-b')?.score]).toEqual([82, 62.5])
    expect([r.byId.get('co-a')?.rank, r.byId.get('co-b')?.rank]).toEqual([1, 2])
  })

  it('refuses invalid versions, saying what to fix', async () => {
    const cases: [unknown, string][] = [
      [{ effectiveFrom: iso(V1_FROM), weights: { ack: 0.5, punctuality: 0.5 }, note: 'x' }, 'body.weights.punctuality: not a component; the components are ack, resolve, speed, quality, satisfaction, hotlineOnTime, hotlineSatisfaction'],
      [{ effectiveFrom: iso(V1_FROM), weights: { ack: 0.5, resolve: 0.4 }, note: 'x' }, 'body.weights: the weights must add up to 1; these add up to 0.9 (a component not named weighs 0)'],
      [{ effectiveFrom: iso(V1_FROM), weights: { ack: 1.5, resolve: -0.5 }, note: 'x' }, 'body.weights.ack: must be 1 or less; body.weights.resolve: must be 0 or more'],
      [{ effectiveFrom: iso(V1_FROM), weights: { ack: '1' }, note: 'x' }, 'body.weights.ack: must be a number from 0 to 1'],
      [{ effectiveFrom: 'soon', weights: { ack: 1 }, note: 'x' }, 'body.effectiveFrom: expected a time with its offset, e.g. 2026-07-01T00:00:00+08:00'],
    ]
    for (const [body, message] of cases) {
      const res = await post(body)
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json()).toMatchObject({ code: 'validation_failed' })
      expect(res.json<{ message: string }>().message).toContain(message)
    }
    expect((await post({ effectiveFrom: iso(V1_FROM), weights: { ack: 1 } })).json<{ message: string }>().message).toContain('body.note')
    // Reading is the office's; changing is an admin's.
    expect((await post({ effectiveFrom: iso(V1_FROM), weights: { ack: 1 }, note: 'x' }, operator)).statusCode).toBe(403)
    expect((await app.inject({ url: '/api/v1/evaluation/weights', headers: operator })).statusCode).toBe(200)
  })

  it('a new version re-orders the later period as worked out by hand; the earlier period is unchanged', async () => {
    const made = await post({ effectiveFrom: iso(V1_FROM), weights: { ack: 0.2, satisfaction: 0.8 }, note: 'Residents first (assessment notice 2026-3)' })
    expect(made.statusCode, made.body).toBe(201)
    expect(made.json()).toMatchObject({ version: 1, effectiveFrom: iso(V1_FROM), weights: { ack: 0.2, satisfaction: 0.8, resolve: 0 } })
    expect(typeof made.json<{ createdBy: unknown }>().createdBy).toBe('string')

    // Period 1 started before version 1 took effect: still the built-in version's scores and order.
    const before = await ranking(P1, P2)
    expect(before.scoring.version).toBe(0)
    expect([before.byId.get('co-a')?.score, before.byId.get('co-b')?.score]).toEqual([82, 62.5])
    expect([before.byId.get('co-a')?.rank, before.byId.get('co-b')?.rank]).toEqual([1, 2])

    // Period 2 started after it: Alpha 100 × (0.2 × 1 + 0.8 × 0.25) = 40; Beta 100 × (0.2 × 0 + 0.8 × 1) = 80.
    const after = await ranking(P2, END)
    expect(after.scoring).toMatchObject({ version: 1, weights: { ack: 0.2, satisfaction: 0.8 } })
    expect([after.byId.get('co-a')?.score, after.byId.get('co-b')?.score]).toEqual([40, 80])
    expect([after.byId.get('co-b')?.rank, after.byId.get('co-a')?.rank]).toEqual([1, 2])
    // The previous period keeps its own version's scores.
    expect(after.byId.get('co-a')?.previous).toEqual({ score: 82, rank: 1 })

    // So does the CSV's last column.
    const csv = (await app.inject({ url: `/api/v1/evaluation/ranking.csv?from=${iso(P2)}&to=${iso(END)}`, headers: admin })).body.trim().split('\r\n')
    expect(csv[0]?.endsWith(',weights_version')).toBe(true)
    expect(csv.slice(1).map((l) => l.split(',').at(-1))).toEqual(['1', '1'])

    // The history names each period's version.
    const history = await app.inject({ url: `/api/v1/evaluation/history?periods=2&period=10d&to=${iso(END)}`, headers: admin })
    expect(history.json<{ periods: { version: number }[] }>().periods.map((p) => p.version)).toEqual([0, 1])

    // Versions never change or slip under one another.
    const late = await post({ effectiveFrom: iso(V1_FROM), weights: { ack: 1 }, note: 'again' })
    expect(late.statusCode).toBe(409)
    expect(late.json()).toMatchObject({ code: 'weights_out_of_order', message: `body.effectiveFrom: a version takes effect from ${iso(V1_FROM)} already; give a later effectiveFrom` })
    // Nor can the database change one behind the API's back.
    await expect(db.query(`UPDATE score_weights SET weights = '{"ack": 1}'`)).rejects.toThrow(/immutable/)
    await expect(db.query(`DELETE FROM score_weights`)).rejects.toThrow(/immutable/)
    const list = await app.inject({ url: `/api/v1/evaluation/weights?at=${iso(P1)}`, headers: admin })
    expect(list.json()).toMatchObject({ inForce: { version: 0 }, items: [{ version: 1 }, { version: 0 }] })

    // The change is in the audit log, with what it set.
    const rows = await db.query<{ body: { weights: Record<string, number> } }>(`SELECT body FROM audit_log WHERE action = 'score_weights.create' AND status = 201`)
    expect(rows.map((r) => r.body.weights)).toEqual([{ ack: 0.2, satisfaction: 0.8 }])
  })
})
