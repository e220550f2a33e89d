// The CSV exports on PostgreSQL: alerts.csv parses back (csv-parse) to the alerts the JSON list
// gives for the same filters, a crew member's file holds their company's alerts only, zh-CN gives
// Chinese headers, titles and reasons, formulas are neutralised, the file starts with the BOM,
// times carry the office's offset, a file past the cap is refused with its code, a long export
// pages through the repository without losing or repeating a row; audit.csv likewise.
import { parse } from 'csv-parse/sync'
import { SEVERITY_LABELS, STATE_LABELS, type AlertState, type Severity } from '../../shared/domain.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { provisionCommunity, provisionDevices } from '../../core/provision.ts'
import type { ReasonDetail } from '../../core/reason-detail.ts'
import { insertAlert } from '../../core/repos/alerts.ts'
import { insertAudit, type AuditEntry } from '../../core/repos/audit.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { renderReason } from '../../shared/reason-text.ts'
import { apiFor, apiOnPostgres } from '../helpers/api.ts'
import { hasPostgres } from '../helpers/services.ts'
import { COMMUNITY } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

/** Most rows one export holds in these tests: the whole district (6 alerts) is one too many. */
const CAP = 5
const TILT: ReasonDetail = { key: 'threshold.raise', metric: 'cover_tilt_deg', observed: 36, op: '>', limit: 30, forMs: 60_000 }
const RAISED = new Date('2026-10-03T06:05:09Z')

type Row = Record<string, string>
const rowsOf = (body: string): Row[] => parse<Row>(body, { columns: true, bom: true })

describe.skipIf(!pgUp)('CSV exports', () => {
  let api: Awaited<ReturnType<typeof apiOnPostgres>>
  let app: App
  const headers = {} as Record<'admin' | 'crew' | 'resident' | 'service', Record<string, string>>
  const ids: Record<string, number> = {}

  beforeAll(async () => {
    api = await apiOnPostgres({ exportMaxRows: CAP })
    app = api.app
    const db = api.db
    const bindings = { admin: {}, crew: { companyId: 'co-test' }, resident: { communityId: COMMUNITY }, service: {} }
    for (const role of ['admin', 'crew', 'resident', 'service'] as const) {
      const id = await insertUser(db, { name: `${role}-export`, role, ...bindings[role] })
      headers[role] = { authorization: `Bearer ${(await issueToken(db, id)).token}` }
    }
    // Another company whose names a spreadsheet could misread: a formula, Chinese, a comma and quotes.
    await provisionCommunity(db, { id: 'co-b', name: '=HYPERLINK("http://evil.example")' }, { id: 'cm-b', name: '北苑, "东区"' })
    await provisionDevices(db, [{ id: 'mh-b', kind: 'manhole', communityId: 'cm-b', name: '北门井盖' }])
    const report = async (key: string, body: Record<string, unknown>) => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/alerts', headers: headers.admin, payload: { condition: 'active', source: 'node-red', severity: 'major', title: 'Flow alert', ...body } })
      expect(res.statusCode, res.body).toBe(200)
      ids[key] = res.json<{ alert: { id: number } }>().alert.id
    }
    await report('tilt', { ruleId: 'manhole-cover-displaced', deviceId: 'mh-1', severity: 'critical', at: RAISED.toISOString(), reason: 'cover_tilt_deg 36 > 30 for 1m', reasonDetail: TILT })
    await report('flow', { ruleId: 'flow-pump', deviceId: 'mh-2', title: '=1+1 pump check', reason: 'pump stopped' })
    await report('lift', { ruleId: 'flow-lift', deviceId: 'el-1', severity: 'minor', title: 'Lift door' })
    await report('other', { ruleId: 'manhole-cover-displaced', deviceId: 'mh-b', reasonDetail: TILT })
    await report('other2', { ruleId: 'flow-b', deviceId: 'mh-b', title: 'B flow' })
    await report('none', { ruleId: 'flow-nowhere', deviceId: null, communityId: COMMUNITY, title: 'No device' })
    for (const [id, action] of [
      [ids.tilt, 'ack'],
      [ids.flow, 'resolve'],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/${action}`, headers: headers.admin, payload: {} })
      expect(res.statusCode, res.body).toBe(200)
    }
  })

  afterAll(async () => api.close())

  const csv = (url: string, who: keyof typeof headers = 'admin') => app.inject({ url, headers: headers[who] })

  it('gives, as a spreadsheet, the alerts the JSON list gives for the same filters, starting with the BOM', async () => {
    const filters = 'company=co-test&state=open,acknowledged,resolved&severity=critical,major'
    const res = await csv(`/api/v1/alerts.csv?${filters}`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="alerts-start-\d{4}-\d{2}-\d{2}\.csv"$/)
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]))
    expect(res.body.split('\r\n')[0]).toBe(
      '\uFEFFID,Raised at,Severity,Alert,Company,Community,Device ID,Device,State,Acknowledged at,Acknowledged by,Resolved at,Resolved by,Minutes to acknowledge,Minutes to resolve,Reason',
    )
    const list = (await app.inject({ url: `/api/v1/alerts?${filters}`, headers: headers.admin })).json<{ items: { id: number; state: AlertState; severity: Severity; title: string }[] }>().items
    const rows = rowsOf(res.body)
    expect(list.length).toBe(3)
    expect(rows.map((r) => Number(r.ID))).toEqual(list.map((a) => a.id))
    expect(rows.map((r) => [r.State, r.Severity, r.Company, r.Community])).toEqual(list.map((a) => [STATE_LABELS[a.state].en, SEVERITY_LABELS[a.severity].en, 'Test Property Co.', 'Test Community']))

    const tilt = rows.find((r) => Number(r.ID) === ids.tilt)
    expect(tilt).toMatchObject({ Alert: 'Manhole cover displaced', 'Device ID': 'mh-1', State: 'Acknowledged', Reason: 'cover_tilt_deg 36 > 30 for 1m', 'Resolved at': '', 'Minutes to resolve': '' })
    // The office's wall clock (NOTIFY_TIMEZONE, Asia/Shanghai) with its offset: the same instant.
    expect(tilt?.['Raised at']).toBe('2026-10-03T14:05:09+08:00')
    expect(Date.parse(tilt?.['Acknowledged at'] ?? '')).toBeGreaterThan(RAISED.getTime())
    expect(Number(tilt?.['Minutes to acknowledge'])).toBeGreaterThan(0)
    expect(tilt?.['Acknowledged by']).toMatch(/^admin-export/)
    const flow = rows.find((r) => Number(r.ID) === ids.flow)
    // A title a spreadsheet would run as a formula stays text.
    expect(flow).toMatchObject({ Alert: "'=1+1 pump check", State: 'Resolved', Reason: 'pump stopped' })
    expect(flow?.['Resolved by']).toMatch(/^admin-export/)
  })

  it("gives a crew member their company's alerts only, and refuses residents and services", async () => {
    const own = rowsOf((await csv('/api/v1/alerts.csv', 'crew')).body)
    expect(own.map((r) => Number(r.ID)).sort()).toEqual([ids.tilt, ids.flow, ids.lift, ids.none].sort())
    expect(new Set(own.map((r) => r.Company))).toEqual(new Set(['Test Property Co.']))
    const other = await csv('/api/v1/alerts.csv?company=co-b', 'crew')
    expect(other.statusCode).toBe(200)
    expect(rowsOf(other.body)).toEqual([])
    // The header row alone: an empty file, not an error that tells the other company exists.
    expect(other.body.split('\r\n')).toHaveLength(2)
    for (const who of ['resident', 'service'] as const) {
      const res = await csv('/api/v1/alerts.csv?company=co-test', who)
      expect(res.statusCode).toBe(403)
      expect(res.json<{ code: string }>().code).toBe('forbidden')
    }
  })

  it('writes headers, titles and reasons in Chinese for lang=zh-CN, and neutralises formulas in names', async () => {
    const res = await csv('/api/v1/alerts.csv?company=co-b&lang=zh-CN')
    expect(res.statusCode, res.body).toBe(200)
    const rows = rowsOf(res.body)
    expect(Object.keys(rows[0] ?? {})).toEqual(['编号', '发生时间', '级别', '告警', '物业公司', '小区', '设备编号', '设备名称', '状态', '确认时间', '确认人', '解决时间', '解决人', '确认用时（分钟）', '解决用时（分钟）', '原因'])
    const tilt = rows.find((r) => Number(r['编号']) === ids.other)
    expect(tilt).toMatchObject({
      // As the console shows them, not as codes.
      级别: '重要',
      告警: '井盖移位',
      原因: renderReason(TILT, 'zh-CN'),
      物业公司: `'=HYPERLINK("http://evil.example")`,
      小区: '北苑, "东区"',
      设备名称: '北门井盖',
    })
    expect(tilt?.['原因']).toContain('井盖倾角')
    // A title of no default rule keeps its stored text; the reason-less alert has an empty cell.
    expect(rows.find((r) => Number(r['编号']) === ids.other2)).toMatchObject({ 告警: 'B flow', 原因: '' })
  })

  it('refuses an export past the cap with its code, telling to narrow the date range', async () => {
    const res = await csv('/api/v1/alerts.csv')
    expect(res.statusCode).toBe(422)
    const body = res.json<{ code: string; message: string }>()
    expect(body.code).toBe('export_too_large')
    expect(body.message).toContain('date range')
    expect(body.message).toContain(String(CAP))
    // Narrowed to fit, the same export goes out.
    expect((await csv(`/api/v1/alerts.csv?to=${encodeURIComponent(new Date().toISOString())}&state=open`)).statusCode).toBe(200)
  })

  it('pages through a long export without losing or repeating an alert', async () => {
    const big = await apiFor(api.db, { timescale: undefined }, { exportMaxRows: 3000 })
    const base = { deviceId: null, communityId: 'cm-b', companyId: 'co-b', source: 'node-red', severity: 'warning', reason: null, autoResolve: false, silenced: false, flapping: false, value: null, predictedAt: null, rearmMs: 0, reraiseOf: null } as const
    const made = await api.db.transaction(async (tx) => {
      const out: number[] = []
      for (let i = 0; i < 2_345; i++) {
        const at = new Date(Date.UTC(2025, 0, 1) + i * 60_000)
        out.push((await insertAlert(tx, { ...base, ruleId: `bulk-${i}`, title: `Bulk ${i}`, raisedAt: at, notifiedAt: at, ackDeadline: at, resolveDeadline: at })).id)
      }
      return out
    })
    const res = await big.app.inject({ url: '/api/v1/alerts.csv?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', headers: { authorization: `Bearer ${big.token}` } })
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200)
    expect(rowsOf(res.body).map((r) => Number(r.ID))).toEqual(made.sort((x, y) => y - x))
    await big.app.close()
  })

  it('exports the audit log with the same filters and roles, in either language, within the same cap', async () => {
    const entry = (i: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
      actorId: 'u-1', actorName: '王工', actorRole: 'operator', companyId: 'co-test', action: 'rules.update', method: 'PUT', route: '/api/v1/rules/:id',
      target: { id: `rule-${i}` }, query: null, body: { note: '@SUM(A1)' }, status: 200, requestId: `req-${i}`, ip: '10.0.0.7', at: new Date(Date.UTC(2026, 9, 1 + i)), ...over,
    })
    for (let i = 0; i < 4; i++) await insertAudit(api.db, entry(i))
    for (const i of [8, 9]) await insertAudit(api.db, entry(i, { action: 'silences.create', companyId: 'co-b' }))
    const filters = 'action=rules.update&company=co-test'
    const res = await csv(`/api/v1/audit.csv?${filters}`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.body.startsWith('\uFEFFID,At,User ID,User,Role,Company,Action,')).toBe(true)
    const list = (await app.inject({ url: `/api/v1/audit?${filters}`, headers: headers.admin })).json<{ items: { id: number; target: Record<string, string> }[] }>().items
    const rows = rowsOf(res.body)
    expect(list).toHaveLength(4)
    expect(rows.map((r) => Number(r.ID))).toEqual(list.map((e) => e.id))
    expect(rows.map((r) => JSON.parse(r.Target ?? '') as unknown)).toEqual(list.map((e) => e.target))
    expect(rows[0]).toMatchObject({ At: '2026-10-04T08:00:00+08:00', User: '王工', 'Body (secrets redacted)': '{"note":"@SUM(A1)"}' })

    const zh = rowsOf((await csv(`/api/v1/audit.csv?${filters}&lang=zh-CN`)).body)
    expect(zh[0]).toMatchObject({ 操作人: '王工', 角色: '值班员', 操作: 'rules.update', 结果状态码: '200' })
    expect((await csv('/api/v1/audit.csv', 'crew')).statusCode).toBe(403)
    const all = await csv('/api/v1/audit.csv')
    expect(all.statusCode).toBe(422)
    expect(all.json<{ code: string }>().code).toBe('export_too_large')
  })
})
