// GET /api/v1/alerts.csv and GET /api/v1/audit.csv: the alert list and the audit log as
// spreadsheets, for the office's monthly report to the district (written by api/csv.ts: UTF-8
// with a byte-order mark, RFC 4180, formulas neutralised).
//
// - The same filters and visibility as the JSON lists: alerts.csv is confined as GET /api/v1/alerts
//   is (access.ts alertListScope: a crew member gets their company's alerts only) and is for the
//   office and the crews (residents and services 403); audit.csv is the office's, as the audit log.
// - Bounded: at most `maxRows` rows (50,000 by default; AppOptions.exportMaxRows). The matches are
//   counted first, no further than the cap; past it the answer is 422 export_too_large and nothing
//   is sent — a file cut short would look complete. Then the rows come in keyset pages of PAGE
//   below the newest id counted (so rows added meanwhile do not stretch the file past the count)
//   and are written as they come: never the whole export in memory.
// - Times: ISO 8601 to the second with the offset of the office's zone (NOTIFY_TIMEZONE, by
//   default Asia/Shanghai: "2026-11-03T14:05:09+08:00") where notifications are configured, as
//   the delivery log shows them; UTC ("…Z") where they are not.
// - lang=en|zh-CN (default en): the header row, the title of a default rule's alert
//   (shared/catalogue-text.ts) and the reason (shared/reason-text.ts, from the alert's reasonDetail;
//   the stored text when it has none), and the severity, state and role as the console shows them
//   (shared/domain.ts labels: 紧急, 已解决, 值班员). Other alerts keep their stored title; an audit
//   action stays its name (`rules.update`).
// - Minutes to acknowledge and to resolve run from the raise (the times in the same row), to one
//   decimal; the ranking's figures run from the notification and leave self-cleared alerts out.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ROLE_LABELS, SEVERITY_LABELS, STATE_LABELS } from '../../shared/domain.ts'
import { AppError } from '../../core/errors.ts'
import { countAlerts, listNamedAlerts, type AlertFilter, type NamedAlert } from '../../core/repos/alerts.ts'
import { countAudit, listAudit, type AuditFilter, type StoredAuditEntry } from '../../core/repos/audit.ts'
import { titleIn } from '../../shared/alert-title.ts'
import { storedReasonIn, TEXT_LANGS, type TextLang } from '../../shared/catalogue-text.ts'
import { reasonIn } from '../../shared/reason-text.ts'
import { alertListScope, requireRole } from '../access.ts'
import { alertFilterQuery } from '../alerts/schemas.ts'
import { auditFilterQuery } from '../audit/schemas.ts'
import { isoTime, sendCsv, type CsvCell } from '../csv.ts'
import { errorBody, errorResponses } from '../schemas.ts'

/** Rows one export holds by default: a month of a district's alerts, with room to spare. */
export const EXPORT_MAX_ROWS = 50_000
/** Rows read from the database at a time. */
const PAGE = 1000

const langParam = z.enum(TEXT_LANGS).default('en').describe('Language of the header row, the titles and the reasons')

/** A column: its header in each language and its cell. */
type Column<R> = [Record<TextLang, string>, (r: R, lang: TextLang) => CsvCell]

const minutes = (from: Date, to: Date | null): number | null => (to === null ? null : Math.round((to.getTime() - from.getTime()) / 6000) / 10)

/** Keyset pages newest first, from just below `newestId`, until a page comes back short. */
async function* pages<R extends { id: number }>(newestId: number, page: (before: number) => Promise<R[]>): AsyncGenerator<R> {
  let before = newestId + 1
  for (;;) {
    const rows = await page(before)
    yield* rows
    const last = rows.at(-1)
    if (rows.length < PAGE || last === undefined) return
    before = last.id
  }
}

function tooLarge(maxRows: number): AppError {
  return new AppError('export_too_large', `More than ${maxRows} rows match; one export holds at most ${maxRows}. Narrow the date range (from, to) or the filters, e.g. one month at a time.`, { maxRows })
}


const exportsPlugin: FastifyPluginAsyncZod = async (app) => {
  const { db, settings } = app.deps
  const { maxRows } = settings.exports
  const timeZone = app.deps.notify?.timezone
  const at = (d: Date | null) => isoTime(d, timeZone)
  const zoneNote = timeZone === undefined ? 'UTC' : `the office's time zone (${timeZone})`
  /** The name of the file: what it holds and the period asked for, as dates of the office's calendar. */
  const fileName = (what: string, q: { from?: Date | undefined; to?: Date | undefined }) => {
    const day = (d: Date) => (at(d) ?? '').slice(0, 10)
    return `${what}-${q.from ? day(q.from) : 'start'}-${day(q.to ?? new Date())}.csv`
  }
  const capNote = `At most ${maxRows} rows: past that, 422 export_too_large and no file (narrow the date range).`

  const alertColumns: Column<NamedAlert>[] = [
    [{ en: 'ID', 'zh-CN': '编号' }, (a) => a.id],
    [{ en: 'Raised at', 'zh-CN': '发生时间' }, (a) => at(a.raisedAt)],
    [{ en: 'Severity', 'zh-CN': '级别' }, (a, lang) => SEVERITY_LABELS[a.severity][lang]],
    [{ en: 'Alert', 'zh-CN': '告警' }, (a, lang) => titleIn(lang, a)],
    [{ en: 'Company', 'zh-CN': '物业公司' }, (a) => a.companyName ?? a.companyId],
    [{ en: 'Community', 'zh-CN': '小区' }, (a) => a.communityName ?? a.communityId],
    [{ en: 'Device ID', 'zh-CN': '设备编号' }, (a) => a.deviceId],
    [{ en: 'Device', 'zh-CN': '设备名称' }, (a) => a.deviceName],
    [{ en: 'State', 'zh-CN': '状态' }, (a, lang) => STATE_LABELS[a.state][lang]],
    [{ en: 'Acknowledged at', 'zh-CN': '确认时间' }, (a) => at(a.acknowledgedAt)],
    [{ en: 'Acknowledged by', 'zh-CN': '确认人' }, (a) => a.acknowledgedBy],
    [{ en: 'Resolved at', 'zh-CN': '解决时间' }, (a) => at(a.resolvedAt)],
    [{ en: 'Resolved by', 'zh-CN': '解决人' }, (a) => a.resolvedBy],
    [{ en: 'Minutes to acknowledge', 'zh-CN': '确认用时（分钟）' }, (a) => minutes(a.raisedAt, a.acknowledgedAt)],
    [{ en: 'Minutes to resolve', 'zh-CN': '解决用时（分钟）' }, (a) => minutes(a.raisedAt, a.resolvedAt)],
    [{ en: 'Reason', 'zh-CN': '原因' }, (a, lang) => reasonIn(lang, a.reasonDetail, storedReasonIn(a.ruleId, a.reason, lang), { timeZone })],
  ]

  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v))
  const auditColumns: Column<StoredAuditEntry>[] = [
    [{ en: 'ID', 'zh-CN': '编号' }, (e) => e.id],
    [{ en: 'At', 'zh-CN': '时间' }, (e) => at(e.at)],
    [{ en: 'User ID', 'zh-CN': '操作人编号' }, (e) => e.actorId],
    [{ en: 'User', 'zh-CN': '操作人' }, (e) => e.actorName],
    [{ en: 'Role', 'zh-CN': '角色' }, (e, lang) => ROLE_LABELS[e.actorRole][lang]],
    [{ en: 'Company', 'zh-CN': '物业公司' }, (e) => e.companyId],
    [{ en: 'Action', 'zh-CN': '操作' }, (e) => e.action],
    [{ en: 'Method', 'zh-CN': '方法' }, (e) => e.method],
    [{ en: 'Route', 'zh-CN': '接口' }, (e) => e.route],
    [{ en: 'Target', 'zh-CN': '对象' }, (e) => json(e.target)],
    [{ en: 'Query', 'zh-CN': '查询参数' }, (e) => json(e.query)],
    [{ en: 'Body (secrets redacted)', 'zh-CN': '请求内容（已隐去密钥）' }, (e) => json(e.body)],
    [{ en: 'Status', 'zh-CN': '结果状态码' }, (e) => e.status],
    [{ en: 'Address', 'zh-CN': '来源地址' }, (e) => e.ip],
    [{ en: 'Request ID', 'zh-CN': '请求编号' }, (e) => e.requestId],
  ]

  async function* rowsOf<R extends { id: number }>(columns: Column<R>[], lang: TextLang, newestId: number, page: (before: number) => Promise<R[]>): AsyncGenerator<CsvCell[]> {
    for await (const r of pages(newestId, page)) yield columns.map(([, cell]) => cell(r, lang))
  }
  const header = <R>(columns: Column<R>[], lang: TextLang) => columns.map(([h]) => h[lang])
  const csvResponses = { 200: z.string().describe('text/csv; charset=utf-8, starting with a byte-order mark'), 422: errorBody, ...errorResponses }

  app.get(
    '/alerts.csv',
    {
      schema: {
        tags: ['alerts'],
        summary: 'The alerts as a spreadsheet (CSV), newest first: the same filters and visibility as GET /api/v1/alerts',
        description:
          'One row per alert: id, raised at, severity, title, company, community, device id and name, state, acknowledged at and by, ' +
          'resolved at and by, minutes to acknowledge and to resolve (from the raise), reason. UTF-8 with a byte-order mark (Excel), ' +
          `RFC 4180, text that would run as a formula prefixed with an apostrophe. Times in ISO 8601 with the offset of ${zoneNote}. ` +
          `For the office and crews (a crew member's file holds their company's alerts only). ${capNote}`,
        querystring: alertFilterQuery.extend({ lang: langParam }),
        response: csvResponses,
      },
    },
    async (req, reply) => {
      const p = requireRole(req, 'admin', 'operator', 'crew')
      const q = req.query
      const scope = alertListScope(p, q)
      const filter: Omit<AlertFilter, 'before' | 'limit'> = {
        states: q.state,
        severities: q.severity,
        kind: q.kind,
        ...(scope ?? {}),
        deviceId: q.device,
        ruleId: q.rule,
        from: q.from,
        to: q.to,
      }
      const { count, newestId } = scope === null ? { count: 0, newestId: null } : await countAlerts(db, filter, maxRows)
      if (count > maxRows) throw tooLarge(maxRows)
      const rows = newestId === null ? [] : rowsOf(alertColumns, q.lang, newestId, (before) => listNamedAlerts(db, { ...filter, before, limit: PAGE }))
      return sendCsv(reply, fileName('alerts', q), header(alertColumns, q.lang), rows)
    },
  )

  app.get(
    '/audit.csv',
    {
      schema: {
        tags: ['audit'],
        summary: 'The audit log as a spreadsheet (CSV), newest first: the same filters as GET /api/v1/audit',
        description:
          'One row per change: id, time, user id and name, role, company, action, method, route, target, query and body (JSON, ' +
          `secrets redacted), status, address, request id. Written as alerts.csv is; times in ${zoneNote}. For the office. ${capNote}`,
        querystring: auditFilterQuery.extend({ lang: langParam }),
        response: csvResponses,
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin', 'operator')
      const q = req.query
      const filter: Omit<AuditFilter, 'before' | 'limit'> = { actor: q.actor, action: q.action, target: q.target, companyId: q.company, from: q.from, to: q.to }
      const { count, newestId } = await countAudit(db, filter, maxRows)
      if (count > maxRows) throw tooLarge(maxRows)
      const rows = newestId === null ? [] : rowsOf(auditColumns, q.lang, newestId, (before) => listAudit(db, { ...filter, before, limit: PAGE }))
      return sendCsv(reply, fileName('audit', q), header(auditColumns, q.lang), rows)
    },
  )
}

export default exportsPlugin
