// `housing-brain bench notify`: pages per second through the notification outbox and the time
// from an alert raised to its SMS accepted by a local sink, each next to a ceiling measured in the
// same run on the same database and sink. Alerts are raised through the alert service (the page
// is queued in the raise's transaction); the dispatcher delivers over the generic HTTP SMS adapter
// to a local HTTP server that records when each page arrives.
//
// Phases, each with --alerts alerts:
// - sink alone: the same POSTs straight to the sink, as many in flight as the dispatcher sends
//   (its batch): the most the sink and the HTTP client can take, and the round trip no page can
//   beat;
// - live: producers raise alerts while the dispatcher runs: raised → delivered p50/p99, and
//   pages/s, which cannot outrun the producers (a raise is about 15 statements, the page included);
// - backlog: with the dispatcher stopped, alerts are raised and their pages wait in the outbox;
//   first they are claimed alone (`FOR UPDATE SKIP LOCKED`, the dispatcher's batches, a 1 ms
//   lease so they are due again at once) — the outbox's claim ceiling — then the dispatcher is
//   started and drains them: pages/s through the whole outbox (claim, render, send, record).
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { AlertService, DEFAULT_DEADLINES } from '../alerts/service.ts'
import type { CommandContext } from '../cli/context.ts'
import type { Db } from '../core/db/client.ts'
import { silentLogger } from '../core/log.ts'
import { provisionCommunity, provisionDevices } from '../core/provision.ts'
import { claimDueNotifications } from '../core/repos/notify-deliveries.ts'
import { insertContact, upsertRota } from '../core/repos/notify-setup.ts'
import { upsertRule } from '../core/repos/rules.ts'
import { insertUser } from '../core/repos/tokens.ts'
import { DEFAULT_NOTIFY_DISPATCH } from '../notify/dispatcher.ts'
import { destinationPolicy } from '../core/egress.ts'
import { Notifications } from '../notify/notifications.ts'
import { createChannel } from '../notify/setup.ts'
import { Cleanup } from './cleanup.ts'
import { openBenchDatabase } from './database.ts'
import { LatencyHistogram } from './histogram.ts'
import { int, ms, table } from './report.ts'

export interface NotifyBenchOptions {
  /** Alerts per phase (live and backlog); the sink alone takes as many requests. */
  alerts: number
  /** Raises in flight at once (alert producers reporting concurrently). */
  concurrency: number
  json: boolean
}

/** Rows the dispatcher claims per pass (notify/dispatcher.ts), and so its sends in flight. */
const DISPATCH_BATCH = 50
/** The sink listens on 127.0.0.1: allowed the way a deployment allows an intranet gateway (EGRESS_ALLOW). */
const LOCAL_SINK = { egress: destinationPolicy(['127.0.0.1']), mayOverrideVendorHost: false }

export function parseNotifyOptions(args: string[]): NotifyBenchOptions {
  const { values } = parseArgs({ args, options: { alerts: { type: 'string' }, concurrency: { type: 'string' }, json: { type: 'boolean' } } })
  const positive = (name: string, raw: string | undefined, fallback: number) => {
    const n = raw === undefined ? fallback : Number(raw)
    if (!Number.isInteger(n) || n <= 0) throw new Error(`bench: --${name} expects an integer above 0 (got "${raw ?? ''}")`)
    return n
  }
  return { alerts: positive('alerts', values.alerts, 1000), concurrency: positive('concurrency', values.concurrency, 8), json: values.json === true }
}

interface Rate {
  count: number
  seconds: number
  perSecond: number
}

const rate = (count: number, elapsedMs: number): Rate => ({ count, seconds: elapsedMs / 1000, perSecond: count / (elapsedMs / 1000) })

interface Latency {
  p50: number
  p99: number
  max: number
}

const latencyOf = (h: LatencyHistogram): Latency => ({ p50: h.quantile(0.5), p99: h.quantile(0.99), max: h.maxMs })

export interface NotifyBenchReport {
  engine: string
  alerts: number
  concurrency: number
  ceilings: {
    /** The sink alone: POSTs straight to it, DISPATCH_BATCH in flight; its round trip. */
    sink: Rate & { roundTripMs: Latency }
    /** The outbox's claim alone, on the backlog. */
    claim: Rate
  }
  live: { raised: Rate; delivered: Rate; raisedToDeliveredMs: Latency }
  backlog: { drained: Rate; ofCeiling: number }
}

/** A local HTTP server that records when each page (by its `alert` field) arrived. */
async function startSink(cleanup: Cleanup): Promise<{ url: string; arrived: Map<string, number> }> {
  const arrived = new Map<string, number>()
  const sink = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString('utf8')))
    req.on('end', () => {
      arrived.set((JSON.parse(body) as { alert: string }).alert, performance.now())
      res.writeHead(200).end('{"code":0}')
    })
  })
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
  cleanup.add('sink', () => new Promise((r) => sink.close(() => r())))
  const addr = sink.address()
  const port = typeof addr === 'object' && addr ? addr.port : 0
  return { url: `http://127.0.0.1:${port}/sms`, arrived }
}

/** `n` POSTs of an SMS-sized body straight to the sink, `inFlight` at a time. */
async function sinkAlone(url: string, n: number, inFlight: number): Promise<NotifyBenchReport['ceilings']['sink']> {
  const h = new LatencyHistogram()
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now()
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ to: '13800000000', text: '【紧急】基准小区电梯困人，10:05前确认 https://hb.example/n/1a.AbCdEfGhIjKl', alert: `ceiling-${i}` }),
        })
        await res.text()
        h.record(performance.now() - t)
      }
    }),
  )
  return { ...rate(n, performance.now() - start), roundTripMs: latencyOf(h) }
}

/** Claims every due page in the dispatcher's batches with a 1 ms lease: they are due again at once. */
async function claimAlone(db: Db, expected: number): Promise<Rate> {
  // One instant for the whole pass: rows claimed in it are due 1 ms after it, so none is claimed twice.
  const at = new Date()
  let claimed = 0
  const start = performance.now()
  for (;;) {
    const rows = await claimDueNotifications(db, at, 1, DISPATCH_BATCH)
    claimed += rows.length
    if (rows.length < DISPATCH_BATCH) break
  }
  const elapsed = performance.now() - start
  if (claimed !== expected) throw new Error(`bench: claimed ${claimed} pages, expected ${expected}`)
  // Let the 1 ms lease pass before the dispatcher looks.
  await new Promise((r) => setTimeout(r, 5))
  return rate(claimed, elapsed)
}

async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 5))
}

export function formatNotifyReport(r: NotifyBenchReport): string {
  const lat = (l: Latency) => [ms(l.p50), ms(l.p99), ms(l.max)]
  const rows = [
    ['ceiling: sink alone', int(r.ceilings.sink.perSecond), ...lat(r.ceilings.sink.roundTripMs), `POST round trip, ${DISPATCH_BATCH} in flight`],
    ['ceiling: outbox claim alone', int(r.ceilings.claim.perSecond), '', '', '', `SKIP LOCKED, batches of ${DISPATCH_BATCH}`],
    ['live: alerts raised', int(r.live.raised.perSecond), '', '', '', `${r.concurrency} producers; pages cannot outrun them`],
    ['live: pages delivered', int(r.live.delivered.perSecond), ...lat(r.live.raisedToDeliveredMs), 'raised → accepted by the sink'],
    ['backlog: pages drained', int(r.backlog.drained.perSecond), '', '', '', `${r.backlog.ofCeiling.toFixed(2)} × the lower ceiling`],
  ]
  return [
    `notify: ${r.alerts} alerts a phase, ${r.engine}; generic HTTP SMS adapter → local HTTP sink`,
    table(['', 'per s', 'p50 ms', 'p99 ms', 'max ms', 'detail'], rows),
  ].join('\n')
}

export async function notifyBench(ctx: CommandContext, o: NotifyBenchOptions): Promise<void> {
  const cleanup = new Cleanup()
  const untrap = cleanup.trapSignals()
  const cancel = cleanup.deadline(o.alerts * 300 + 120_000)
  try {
    const database = await openBenchDatabase(ctx.cfg.database.url ? 'postgres' : 'embedded', ctx.cfg.database.url, silentLogger)
    cleanup.add('database', () => database.close())
    const db = database.db
    await provisionCommunity(db, { id: 'co-bench', name: 'Bench Property Co.' }, { id: 'cm-bench', name: '基准小区' })
    await provisionDevices(db, Array.from({ length: 2 * o.alerts }, (_, i) => ({ id: `nb-el-${i}`, kind: 'elevator' as const, communityId: 'cm-bench' })))
    await upsertRule(db, { id: 'entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { id: 'entrapment', name: '电梯困人', severity: 'critical' } })
    const crew = await insertUser(db, { name: 'bench-crew', role: 'crew', companyId: 'co-bench' })
    await insertContact(db, { userId: crew, kind: 'phone', address: '13800000000', locale: 'zh-CN', position: 0 })
    await upsertRota(db, { id: 'bench-crew', companyId: 'co-bench', role: 'crew', name: 'crew', timezone: 'Asia/Shanghai', startsOn: '2020-01-06', handoverTime: '09:00', members: [crew], createdBy: 'bench' })

    const sink = await startSink(cleanup)
    // A warm-up pass (connections opened, code compiled) before the measured one.
    await sinkAlone(sink.url, Math.min(o.alerts, 200), DISPATCH_BATCH)
    const sinkCeiling = await sinkAlone(sink.url, o.alerts, DISPATCH_BATCH)
    const key = randomBytes(32)
    await createChannel(db, key, {
      companyId: null,
      kind: 'sms_http',
      name: 'sink',
      settings: { url: sink.url, body: '{"to":"{{phone}}","text":"{{text}}","alert":"{{alert}}"}' },
      createdBy: 'bench',
    }, LOCAL_SINK)
    const alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger)
    const notifications = new Notifications(db, alerts, key, { ...DEFAULT_NOTIFY_DISPATCH, destinations: LOCAL_SINK.egress, companyPerMinute: 0, linkBaseUrl: 'https://hb.example', linkTtlMs: 86_400_000 }, silentLogger)
    cleanup.add('notifications', () => notifications.stop())

    /** Raises alerts on devices [from, from + n), `o.concurrency` at a time; when each was raised. */
    const raise = async (from: number, n: number): Promise<{ raisedAt: Map<string, number>; rate: Rate }> => {
      const raisedAt = new Map<string, number>()
      let next = from
      const start = performance.now()
      await Promise.all(
        Array.from({ length: o.concurrency }, async () => {
          for (let i = next++; i < from + n; i = next++) {
            const t = performance.now()
            const { alert } = await alerts.report({ ruleId: 'entrapment', deviceId: `nb-el-${i}`, condition: 'active' }, 'bench')
            if (alert) raisedAt.set(String(alert.id), t)
          }
        }),
      )
      return { raisedAt, rate: rate(raisedAt.size, performance.now() - start) }
    }
    const arrivedOf = (ids: Map<string, number>) => [...ids.keys()].filter((id) => sink.arrived.has(id)).length

    // Live.
    await notifications.start()
    const liveStart = performance.now()
    const live = await raise(0, o.alerts)
    await waitFor(() => arrivedOf(live.raisedAt) === live.raisedAt.size)
    const liveLast = Math.max(...[...live.raisedAt.keys()].map((id) => sink.arrived.get(id) ?? 0))
    const latency = new LatencyHistogram()
    for (const [id, t] of live.raisedAt) latency.record((sink.arrived.get(id) ?? t) - t)

    // Backlog.
    await notifications.stop()
    const backlog = await raise(o.alerts, o.alerts)
    const claim = await claimAlone(db, backlog.raisedAt.size)
    const drainStart = performance.now()
    await notifications.start()
    notifications.dispatcher.kick()
    await waitFor(() => arrivedOf(backlog.raisedAt) === backlog.raisedAt.size)
    const drained = rate(backlog.raisedAt.size, performance.now() - drainStart)

    const report: NotifyBenchReport = {
      engine: database.engine,
      alerts: o.alerts,
      concurrency: o.concurrency,
      ceilings: { sink: sinkCeiling, claim },
      live: { raised: live.rate, delivered: rate(live.raisedAt.size, liveLast - liveStart), raisedToDeliveredMs: latencyOf(latency) },
      backlog: { drained, ofCeiling: drained.perSecond / Math.min(sinkCeiling.perSecond, claim.perSecond) },
    }
    const text = formatNotifyReport(report)
    if (o.json) {
      console.error(text)
      console.log(JSON.stringify(report, null, 2))
    } else {
      console.log(text)
    }
  } finally {
    cancel()
    untrap()
    await cleanup.run()
  }
}
