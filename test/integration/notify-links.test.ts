// The acknowledge link of an SMS as a browser uses it (issue 18, items 3 and 4): the page's form
// post acknowledges as the person paged, the page speaks their language and names the place, the
// device and the deadline, a link used after the alert was resolved says so plainly, and a link of
// a disabled or moved user stops working at once. The real API, dispatcher and PostgreSQL.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { buildApp, type App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics } from '../../core/metrics.ts'
import { provisionDevices } from '../../core/provision.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { notifyContext } from '../../notify/notifications.ts'
import { ALLOW_GATEWAY } from '../helpers/egress.ts'
import { startPaging, type Paging } from '../helpers/paging.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'

const pg = await hasPostgres()
const T0 = Date.UTC(2026, 2, 4, 2, 0)
const PHONE = '13812345678'
const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }
const FORM = { ...BROWSER, 'content-type': 'application/x-www-form-urlencoded' }
const now = T0
let db: Db
let drop: () => Promise<void>
let app: App
let alerts: AlertService
let paging: Paging
let sent = 0
let admin: { authorization: string }
let crewId: string

/** Raises an entrapment on `device` and returns the link of the SMS it pages. */
async function paged(device: string): Promise<{ id: number; link: string }> {
  const { alert } = await alerts.report({ ruleId: 'entrapment', deviceId: device, condition: 'active' }, 'rules-engine')
  if (!alert) throw new Error('no alert')
  return { id: alert.id, link: await paging.linkTo(PHONE, sent++) }
}
const history = async (id: number) =>
  (await app.inject({ url: `/api/v1/alerts/${id}`, headers: admin })).json<{ state: string; acknowledgedBy: string | null; history: { type: string; actor: string }[] }>()

describe.skipIf(!pg)('the acknowledge link in a browser', () => {
  beforeAll(async () => {
    const t = await createTestDatabase()
    drop = t.drop
    db = await openDb({ url: t.url })
    const features = await migrate(db, { log: silentLogger })
    for (const co of ['a', 'b']) {
      await createCompany(db, { id: `co-${co}`, name: `Company ${co}`, contact: null })
      await createCommunity(db, `cm-${co}`, { name: co === 'a' ? '梅陇一村' : 'Other', district: null, street: null, address: null, lat: null, lon: null })
      await assignCommunity(db, `cm-${co}`, `co-${co}`, 'fixture', null)
    }
    await provisionDevices(db, ['el-1', 'el-2', 'el-3', 'el-4', 'el-5', 'el-6'].map((id) => ({ id, kind: 'elevator' as const, communityId: 'cm-a', name: `3号楼电梯 ${id}` })))
    await upsertRule(db, { id: 'entrapment', type: 'threshold', severity: 'critical', enabled: true, definition: { id: 'entrapment', name: 'Entrapment', severity: 'critical' } })
    const clock = () => new Date(now)
    alerts = new AlertService(db, DEFAULT_DEADLINES, silentLogger, clock)
    const notify = notifyContext(alerts, randomBytes(32), { linkBaseUrl: 'https://hb.example', linkTtlMs: 86_400_000, timezone: 'Asia/Shanghai' }, clock)
    app = await buildApp({ db, features, metrics: createMetrics({ defaults: false }), alerts, notify }, silentLogger, { egress: ALLOW_GATEWAY })
    await app.ready()
    admin = { authorization: `Bearer ${(await issueToken(db, await insertUser(db, { name: 'office', role: 'admin' }))).token}` }
    crewId = await insertUser(db, { name: 'zhang-wei', role: 'crew', companyId: 'co-a' })
    paging = await startPaging(db, app, alerts, admin, { companyId: 'co-a', member: crewId, phone: PHONE, linkBaseUrl: 'https://hb.example' }, clock)
  })

  afterAll(async () => {
    await paging.stop()
    await app.close()
    await db.close()
    await drop()
  })

  it("the page's form post acknowledges as the person paged, then shows it (post/redirect/get)", async () => {
    const { id, link } = await paged('el-1')
    const open = await app.inject({ url: link, headers: { ...BROWSER, 'accept-language': 'zh-CN,zh;q=0.9' } })
    expect(open.statusCode).toBe(200)
    expect(open.body).toContain('<form method="post">')
    const post = await app.inject({ method: 'POST', url: link, headers: FORM, payload: '' })
    expect(post.statusCode).toBe(303)
    expect(post.headers.location).toBe(link)
    const after = await app.inject({ url: link, headers: { ...BROWSER, 'accept-language': 'zh-CN' } })
    expect(after.body).toContain('你已于')
    expect(after.body).not.toContain('<form')
    const seen = await history(id)
    expect(seen).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'zhang-wei' })
    expect(seen.history.map((e) => [e.type, e.actor])).toContainEqual(['acknowledged', 'zhang-wei'])
    // A second press (a reload of the form) changes nothing and says so.
    const again = await app.inject({ method: 'POST', url: link, headers: FORM, payload: 'x=1' })
    expect(again.statusCode).toBe(200)
    expect(again.body).toContain('你已于')
  })

  it("speaks the browser's language, else the message's, and names the place, the device and the deadline", async () => {
    const { link } = await paged('el-2')
    const zh = (await app.inject({ url: link, headers: { ...BROWSER, 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' } })).body
    expect(zh).toContain('<html lang="zh-CN">')
    expect(zh).toContain('梅陇一村')
    expect(zh).toContain('3号楼电梯 el-2 (el-2)')
    // Raised at 10:00 Shanghai time; a critical alert is to be acknowledged within 5 minutes.
    expect(zh).toMatch(/确认期限.*10:05.*还剩 5 分钟/s)
    expect(zh).toContain('确认接单')
    const en = (await app.inject({ url: link, headers: { ...BROWSER, 'accept-language': 'en-GB,en;q=0.9' } })).body
    expect(en).toContain('<html lang="en">')
    expect(en).toMatch(/Acknowledge by.*10:05.*5 min left/s)
    expect(en).toContain('>Acknowledge</button>')
    // No Accept-Language: the message's language (the recipient's, zh-CN by default).
    expect((await app.inject({ url: link, headers: BROWSER })).body).toContain('<html lang="zh-CN">')
  })

  it('a link used after the alert was resolved says so plainly, in a page', async () => {
    const { id, link } = await paged('el-3')
    await alerts.act(id, 'resolve', 'li-crew', 'door reset')
    const open = await app.inject({ url: link, headers: { ...BROWSER, 'accept-language': 'en' } })
    expect(open.statusCode).toBe(200)
    expect(open.body).toMatch(/This alert was resolved at .* by li-crew; nothing to do\./)
    expect(open.body).not.toContain('<form')
    const post = await app.inject({ method: 'POST', url: link, headers: { ...FORM, 'accept-language': 'zh-CN' } })
    expect(post.statusCode).toBe(409)
    expect(post.headers['content-type']).toMatch(/^text\/html/)
    expect(post.body).toMatch(/此告警已于 .* 解决（li-crew），无需处理。/)
    // A client that is not a browser gets the coded error.
    expect((await app.inject({ method: 'POST', url: link })).json()).toMatchObject({ code: 'invalid_transition' })
  })

  it('a link of a user moved to another company stops working at once', async () => {
    const { id, link } = await paged('el-4')
    // No route moves a user between companies yet; an admin does it in the database.
    await db.query(`UPDATE users SET company_id = 'co-b' WHERE id = $1`, [crewId])
    try {
      const open = await app.inject({ url: link, headers: { ...BROWSER, 'accept-language': 'en' } })
      expect(open.statusCode).toBe(403)
      expect(open.body).toContain('This link no longer works')
      expect((await app.inject({ method: 'POST', url: link })).json()).toMatchObject({ code: 'link_revoked' })
      expect((await history(id)).state).toBe('open')
    } finally {
      await db.query(`UPDATE users SET company_id = 'co-a' WHERE id = $1`, [crewId])
    }
  })

  it("a disabled user's outstanding link is refused with a readable page, and acknowledges nothing", async () => {
    const { id, link } = await paged('el-5')
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/users/${crewId}`, headers: admin, payload: { disabled: true } })).statusCode).toBe(200)
    const post = await app.inject({ method: 'POST', url: link, headers: { ...FORM, 'accept-language': 'zh-CN' } })
    expect(post.statusCode).toBe(403)
    expect(post.headers['content-type']).toMatch(/^text\/html/)
    expect(post.body).toContain('此链接已失效')
    // A phone's in-app browser that accepts anything gets the page too.
    expect((await app.inject({ url: link, headers: { accept: '*/*' } })).headers['content-type']).toMatch(/^text\/html/)
    expect((await app.inject({ method: 'POST', url: link })).json()).toMatchObject({ code: 'link_revoked' })
    expect(await history(id)).toMatchObject({ state: 'open', acknowledgedBy: null })
    // Enabled again, the link works again: it was never spent.
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/users/${crewId}`, headers: admin, payload: { disabled: false } })).statusCode).toBe(200)
    expect((await app.inject({ method: 'POST', url: link })).statusCode).toBe(200)
    expect(await history(id)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'zhang-wei' })
  })
})
