// `housing-brain bench notify`: pages per second through the notification outbox and the time
// from an alert raised to its SMS accepted by a local sink. Alerts are raised through the alert
// service (the page is queued in the raise's transaction), the dispatcher delivers over the
// generic HTTP SMS adapter to a local HTTP server that records when each page arrives.
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { AlertService, DEFAULT_DEADLINES } from '../api/alerts/service.ts'
import type { CommandContext } from '../cli/main.ts'
import { silentLogger } from '../core/log.ts'
import { provisionCommunity, provisionDevices } from '../core/provision.ts'
import { insertContact, upsertRota } from '../core/repos/notify-setup.ts'
import { upsertRule } from '../core/repos/rules.ts'
import { insertUser } from '../core/repos/tokens.ts'
import { DEFAULT_NOTIFY_DISPATCH } from '../notify/dispatcher.ts'
import { Notifications } from '../notify/notifications.ts'
import { createChannel } from '../notify/setup.ts'
import { Cleanup } from './cleanup.ts'
import { openBenchDatabase } from './database.ts'
import { LatencyHistogram } from './histogram.ts'

export interface NotifyBenchOptions {
  alerts: number
  /** Raises in flight at once (alert producers reporting concurrently). */
  concurrency: number
  json: boolean
}

export function parseNotifyOptions(args: string[]): NotifyBenchOptions {
  const { values } = parseArgs({ args, options: { alerts: { type: 'string' }, concurrency: { type: 'string' }, json: { type: 'boolean' } } })
  const int = (name: string, raw: string | undefined, fallback: number) => {
    const n = raw === undefined ? fallback : Number(raw)
    if (!Number.isInteger(n) || n <= 0) throw new Error(`bench: --${name} expects an integer above 0 (got "${raw ?? ''}")`)
    return n
  }
  return { alerts: int('alerts', values.alerts, 1000), concurrency: int('concurrency', values.concurrency, 8), json: values.json === true }
}

export async function notifyBench(ctx: CommandContext, o: NotifyBenchOptions): Promise<void> {
  const cleanup = new Cleanup()
  const untrap = cleanup.trapSignals()
  const cancel = cleanup.deadline(o.alerts * 100 + 120_000)
  try {
    const database = await openBenchDatabase(ctx.cfg.DATABASE_URL, silentLogger)
    cleanup.add('database', () => database.close())
    const db = database.db
    await provisionCommunity(db, { id: 'co-bench', name: 'Bench Property Co.' }, { id: 'cm-bench', name: '基准小区' })
    await provisionDevices(db, Array.from({ length: o.alerts }, (_, i) => ({ id: `nb-el-${i}`, kind: 'elevator' as const, communityId: 'cm-bench' })))
    await upsertRule(db, { id: 'entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { id: 'entrapment', name: '电梯困人', severity: 'critical' } })
    const crew = await insertUser(db, { name: 'bench-crew', role: 'crew', companyId: 'co-bench' })
    await insertContact(db, { userId: crew, kind: 'phone', address: '13800000000', locale: 'zh-CN', position: 0 })
    await upsertRota(db, { id: 'bench-crew', companyId: 'co-bench', role: 'crew', name: 'crew', timezone: 'Asia/Shanghai', startsOn: '2020-01-06', handoverTime: '09:00', members: [crew], createdBy: 'bench' })

    // The sink: records when each alert's page arrives.
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
    const key = randomBytes(32)
    await createChannel(db, key, {
      companyId: null,
      kind: 'sms_http',
      name: 'sink',
      settings: { url: `http://127.0.0.1:${port}/sms`, body: '{"to":"{{phone}}","text":"{{text}}","alert":"{{alert}}"}' },
      createdBy: 'bench',
    })
    const alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger)
    const notifications = new Notifications(db, alerts, key, { ...DEFAULT_NOTIFY_DISPATCH, companyPerMinute: 0, linkBaseUrl: 'https://hb.example', linkTtlMs: 86_400_000 }, silentLogger)
    await notifications.start()
    cleanup.add('notifications', () => notifications.stop())

    const raisedAt = new Map<string, number>()
    let next = 0
    const start = performance.now()
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        for (let i = next++; i < o.alerts; i = next++) {
          const t = performance.now()
          const { alert } = await alerts.report({ ruleId: 'entrapment', deviceId: `nb-el-${i}`, condition: 'active' }, 'bench')
          if (alert) raisedAt.set(String(alert.id), t)
        }
      }),
    )
    const raisedS = (performance.now() - start) / 1000
    while (arrived.size < raisedAt.size) await new Promise((r) => setTimeout(r, 20))
    const elapsedS = (Math.max(...arrived.values()) - start) / 1000
    const latency = new LatencyHistogram()
    for (const [id, t] of raisedAt) latency.record((arrived.get(id) ?? t) - t)
    const report = {
      engine: database.engine,
      alerts: raisedAt.size,
      concurrency: o.concurrency,
      /** Raises are the producers' side (about 15 statements each, the page included): pages cannot outrun them. */
      raisedPerSecond: Math.round(raisedAt.size / raisedS),
      pagesPerSecond: Math.round(arrived.size / elapsedS),
      raisedToDeliveredMs: { p50: Math.round(latency.quantile(0.5)), p99: Math.round(latency.quantile(0.99)), max: Math.round(latency.maxMs) },
    }
    const text =
      `notify: ${report.alerts} alerts, ${o.concurrency} producers, ${report.engine}\n` +
      `  alerts raised        ${report.raisedPerSecond}/s\n` +
      `  pages delivered      ${report.pagesPerSecond}/s\n` +
      `  raised → delivered   p50 ${report.raisedToDeliveredMs.p50} ms, p99 ${report.raisedToDeliveredMs.p99} ms, max ${report.raisedToDeliveredMs.max} ms`
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
