// The demo's past: three weeks of handled alerts (acknowledged, crews on their way and on site,
// resolved; a few cleared by themselves), residents' ratings and feedback, and hourly readings of
// one metric per device — so the ranking, the overview and the charts show something on the first
// start. Seeded (the same district every time, relative to the first start), bounded (a few hundred
// alerts, about 40,000 readings), written in a handful of statements, and only into a district
// without a past: a restart, or a database with real history, gets nothing made up.
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import { demoLayout } from '../core/provision.ts'
import { hasHistoryBefore, insertPastAlerts, insertPastFeedback, type PastAlert } from '../core/repos/demo-history.ts'
import { insertReadings, type ReadingColumns } from '../core/repos/readings.ts'
import { DEFAULT_DEADLINES } from '../alerts/service.ts'
import { DEFAULT_RULES } from '../rules/catalogue.ts'
import type { DeviceKind } from '../core/contract.ts'
import { Rng } from '../simulators/rng.ts'

const M = 60_000
const H = 60 * M
const DAY = 24 * H
export const HISTORY_DAYS = 21
const SEED = 20_260_101

/** Which faults the district sees, by kind, and how often (relative weights). */
const FAULTS: Partial<Record<DeviceKind, [string, number][]>> = {
  manhole: [['manhole-cover-displaced', 2], ['manhole-gas-persistent', 1], ['manhole-low-battery', 3], ['manhole-sewer-overflow', 1]],
  fire_tank: [['fire-tank-low-pressure', 2], ['fire-tank-below-reserve', 1], ['fire-tank-low-battery', 2]],
  elevator: [['elevator-entrapment', 1], ['elevator-door-faults', 4], ['elevator-vibration', 2], ['elevator-machine-room-hot', 1]],
}

/**
 * How each demo company works: `pace` is the share of each deadline its crews typically use (above
 * 1: late), `stars` the ratings residents give. One company is prompt, the other slips: the ranking
 * has a story to tell.
 */
const COMPANIES: Record<string, { pace: number; stars: [number, number]; crews: string[] }> = {
  'co-jinxiu': { pace: 0.45, stars: [4, 5], crews: ['张建国', '李卫东', '王志强'] },
  'co-hongqiao': { pace: 1.05, stars: [2, 4], crews: ['陈国平', '刘海涛'] },
}


export interface DemoHistory {
  alerts: PastAlert[]
  feedback: { communityId: string; companyId: string; rating: number; author: string; at: Date }[]
  readings: ReadingColumns
}

/** The demo district's past up to `now` (pure: the same `now`, the same history). */
export function demoHistory(now: Date): DemoHistory {
  // The simulators' seeded generator (mulberry32): the same history on every machine.
  const gen = new Rng(SEED)
  const rnd = () => gen.float()
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const weighted = (xs: [string, number][]): string => {
    let r = rnd() * xs.reduce((s, [, w]) => s + w, 0)
    for (const [x, w] of xs) if ((r -= w) < 0) return x
    return xs[0]?.[0] ?? ''
  }
  const rules = new Map(DEFAULT_RULES.map((r) => [r.id, r]))
  const { communities, devices } = demoLayout()
  const end = now.getTime()
  const alerts: PastAlert[] = []

  const handle = (companyId: string, communityId: string, raisedAt: number, fast: boolean) => {
    const co = COMPANIES[companyId]
    const candidates = devices.filter((d) => d.communityId === communityId && FAULTS[d.kind])
    if (!co || candidates.length === 0) return
    const device = pick(candidates)
    const ruleId = weighted(FAULTS[device.kind] ?? [])
    const rule = rules.get(ruleId)
    if (!rule) return
    const deadline = DEFAULT_DEADLINES[rule.severity]
    const base = { ruleId, deviceId: device.id, communityId, companyId, severity: rule.severity, title: rule.name, autoResolve: rule.autoResolve }
    const raised = new Date(raisedAt)
    const deadlines = { ackDeadline: new Date(raisedAt + deadline.ackMs), resolveDeadline: new Date(raisedAt + deadline.resolveMs) }
    // A third of the faults that clear by themselves do so before anyone is needed.
    if (rule.autoResolve && !fast && rnd() < 0.3) {
      const resolvedAt = new Date(raisedAt + Math.min(deadline.ackMs, deadline.resolveMs) * (0.1 + 0.4 * rnd()))
      alerts.push({ ...base, raisedAt: raised, ...deadlines, acknowledgedAt: null, enRouteAt: null, arrivedAt: null, resolvedAt, crew: null, rating: null })
      return
    }
    // Today's few are handled within the hour; the past ones at the company's pace (capped: all resolved by now).
    const pace = fast ? 0.3 : co.pace * (0.35 + 0.9 * rnd())
    const ack = raisedAt + Math.max(M, (fast ? 4 * M : deadline.ackMs) * pace * (0.4 + rnd()))
    const enRoute = ack + (2 + 5 * rnd()) * M
    const arrive = enRoute + (fast ? 8 + 6 * rnd() : (8 + 25 * rnd()) * (co.pace + 0.4)) * M
    const resolve = Math.min(Math.max(arrive + (10 + 20 * rnd()) * M, raisedAt + (fast ? 0 : deadline.resolveMs * pace)), end - 5 * M)
    const crew = pick(co.crews)
    const rated = rnd() < 0.5
    const [lo, hi] = co.stars
    alerts.push({
      ...base,
      raisedAt: raised,
      ...deadlines,
      acknowledgedAt: new Date(ack),
      enRouteAt: new Date(enRoute),
      arrivedAt: new Date(arrive),
      resolvedAt: new Date(resolve),
      crew,
      rating: rated ? { stars: lo + Math.floor(rnd() * (hi - lo + 1)), by: `demo-resident-${communityId.slice(3)}-${1 + Math.floor(rnd() * 12)}`, at: new Date(Math.min(resolve + (1 + 3 * rnd()) * H, end - M)) } : null,
    })
  }

  for (const c of communities) {
    for (let d = 1; d <= HISTORY_DAYS; d++) {
      const n = 2 + Math.floor(rnd() * 4)
      for (let i = 0; i < n; i++) handle(c.companyId, c.id, end - (d + rnd()) * DAY, false)
    }
    // A few earlier today, so the overview's response times show something too.
    for (let i = 0; i < 2; i++) handle(c.companyId, c.id, end - (70 + 120 * rnd()) * M, true)
  }
  alerts.sort((a, b) => a.raisedAt.getTime() - b.raisedAt.getTime())

  const feedback = communities.flatMap((c) => {
    const [lo, hi] = COMPANIES[c.companyId]?.stars ?? [3, 4]
    return Array.from({ length: 8 }, (_, k) => ({
      communityId: c.id,
      companyId: c.companyId,
      rating: Math.min(5, lo + Math.floor(rnd() * (hi - lo + 2))),
      author: `demo-resident-${c.id.slice(3)}-${k + 1}`,
      at: new Date(end - (1 + rnd() * (HISTORY_DAYS - 1)) * DAY),
    }))
  })

  // Hourly, one metric a device: a tank's level drawn down and refilled, a machine room warming
  // by day, a manhole sensor's battery slowly running down.
  const readings: ReadingColumns = { deviceIds: [], metrics: [], ts: [], values: [] }
  const hours = HISTORY_DAYS * 24
  const first = Math.floor(end / H) * H - hours * H
  for (const [k, d] of devices.entries()) {
    const series =
      d.kind === 'fire_tank'
        ? { metric: 'water_level_m', at: (h: number) => 3.4 + 0.5 * Math.sin((h + k * 5) / 9) + 0.05 * rnd() }
        : d.kind === 'elevator'
          ? { metric: 'machine_room_temp_c', at: (h: number) => 24 + 5 * Math.sin(((h % 24) - 9) * (Math.PI / 12)) + rnd() }
          : d.kind === 'manhole'
            ? { metric: 'battery_pct', at: (h: number) => 92 - (k % 5) - (h / hours) * 4 + 0.3 * rnd() }
            : null
    if (!series) continue
    for (let h = 0; h < hours; h++) {
      readings.deviceIds.push(d.id)
      readings.metrics.push(series.metric)
      readings.ts.push(first + h * H)
      readings.values.push(Math.round(series.at(h) * 100) / 100)
    }
  }
  return { alerts, feedback, readings }
}

/** Writes the demo's past unless the district has one; answers what was written. */
export async function ensureDemoHistory(db: Db, log: Logger, now = new Date()): Promise<{ alerts: number; readings: number } | null> {
  if (await hasHistoryBefore(db, new Date(now.getTime() - H))) return null
  const started = Date.now()
  const h = demoHistory(now)
  const written = await db.transaction(async (tx) => {
    const alerts = await insertPastAlerts(tx, h.alerts)
    await insertPastFeedback(tx, h.feedback)
    return { alerts, readings: await insertReadings(tx, h.readings) }
  })
  log.info({ ...written, days: HISTORY_DAYS, ms: Date.now() - started }, 'wrote the demo district\'s past weeks')
  return written
}
