// The audit log on PostgreSQL: each change a person makes through the API leaves one entry with
// its actor, action and target; secrets sent or returned appear nowhere in it; services, alert
// actions and refusals other than 403 leave none; only the office reads it, page by page; a
// failed write leaves the change standing and is counted; old entries are pruned. And every
// mutating /api/v1 route has an action name or a stated exclusion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertHistoryRetention } from '../../alerts/retention.ts'
import { AUDIT_ACTIONS, AUDIT_EXCLUDED, routeKey } from '../../shared/audit-actions.ts'
import type { App } from '../../api/app.ts'
import type { Db } from '../../core/db/client.ts'
import { silentLogger } from '../../core/log.ts'
import { insertAudit, type StoredAuditEntry } from '../../core/repos/audit.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { apiOnPostgres } from '../helpers/api.ts'
import { hasPostgres } from '../helpers/services.ts'
import { COMMUNITY } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

/** An entry as the API sends it. */
type Entry = Omit<StoredAuditEntry, 'at'> & { at: string; names: Record<string, string> }

describe.skipIf(!pgUp)('audit log', () => {
  let api: Awaited<ReturnType<typeof apiOnPostgres>>
  let app: App
  let db: Db
  const registered: { method: string; url: string }[] = []
  const who = {} as Record<'admin' | 'operator' | 'crew' | 'service' | 'resident', { id: string; headers: Record<string, string> }>

  beforeAll(async () => {
    api = await apiOnPostgres({ onRoute: (r) => registered.push(r) })
    app = api.app
    db = api.db
    const bindings = { admin: {}, operator: {}, crew: { companyId: 'co-test' }, service: {}, resident: { communityId: COMMUNITY } }
    for (const role of ['admin', 'operator', 'crew', 'service', 'resident'] as const) {
      const id = await insertUser(db, { name: `${role}-audit`, role, ...bindings[role] })
      who[role] = { id, headers: { authorization: `Bearer ${(await issueToken(db, id)).token}` } }
    }
  })

  afterAll(async () => api.close())

  const send = (role: keyof typeof who, method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object | string, contentType?: string) =>
    app.inject({ method, url, headers: { ...who[role].headers, ...(contentType ? { 'content-type': contentType } : {}) }, ...(payload === undefined ? {} : { payload }) })
  const entries = async (query: string): Promise<Entry[]> => {
    const res = await app.inject({ url: `/api/v1/audit?${query}`, headers: who.admin.headers })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ items: Entry[] }>().items
  }
  const rows = async () => Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log'))[0]?.n)
  /** The whole audit table as text: what a secret must never appear in. */
  const everything = async () => (await db.query<{ t: string }>('SELECT audit_log::text AS t FROM audit_log')).map((r) => r.t).join('\n')
  const ruleBody = (id: string, value: number) => ({
    id,
    name: 'Overspeed',
    description: 'Car faster than the lift is rated for',
    type: 'threshold',
    severity: 'major',
    scope: { kind: 'elevator' },
    params: { metric: 'speed_mps', op: '>', value, clear: { value: value - 1 } },
  })

  it('names every mutating /api/v1 route, or excludes it with a reason', () => {
    const mutating = registered.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && r.url.startsWith('/api/v1/')).map((r) => routeKey(r.method, r.url))
    expect(mutating.length).toBeGreaterThan(40)
    expect(mutating.filter((k) => !Object.hasOwn(AUDIT_ACTIONS, k) && !Object.hasOwn(AUDIT_EXCLUDED, k))).toEqual([])
    expect(mutating.filter((k) => Object.hasOwn(AUDIT_ACTIONS, k) && Object.hasOwn(AUDIT_EXCLUDED, k))).toEqual([])
    // No stale names: each names a route that exists.
    const known = new Set(mutating)
    expect([...Object.keys(AUDIT_ACTIONS), ...Object.keys(AUDIT_EXCLUDED)].filter((k) => !known.has(k))).toEqual([])
    for (const reason of Object.values(AUDIT_EXCLUDED)) expect(reason.length).toBeGreaterThan(10)
  })

  it("records an operator's rule edit with actor, action, target and the new definition", async () => {
    const created = await send('operator', 'POST', '/api/v1/rules', ruleBody('overspeed-audit', 2.5))
    expect(created.statusCode, created.body).toBe(201)
    const res = await send('operator', 'PUT', '/api/v1/rules/overspeed-audit', ruleBody('overspeed-audit', 3.5))
    expect(res.statusCode).toBe(200)
    const [edit, ...more] = await entries('target=overspeed-audit&action=rules.update')
    expect(more).toEqual([])
    expect(edit).toMatchObject({
      actorId: who.operator.id,
      actorName: 'operator-audit',
      actorRole: 'operator',
      action: 'rules.update',
      route: '/api/v1/rules/:id',
      target: { id: 'overspeed-audit' },
      status: 200,
      body: { params: { value: 3.5 } },
    })
    expect(edit?.requestId).toEqual(expect.any(String))
    expect(edit?.ip).toBe('127.0.0.1')
    // The create before it is found by the same target: its id came from the body's answer.
    expect((await entries('target=overspeed-audit')).map((e) => e.action)).toEqual(['rules.update', 'rules.create'])
  })

  it('records a maintenance window, as sent, with the id it was given', async () => {
    const res = await send('operator', 'POST', '/api/v1/silences', { communityId: COMMUNITY, duration: '7d', reason: 'elevator overhaul' })
    expect(res.statusCode).toBe(201)
    const id = String(res.json<{ id: number }>().id)
    expect(await entries(`target=${id}&action=silences.create`)).toEqual([
      expect.objectContaining({ actorName: 'operator-audit', target: { id }, body: { communityId: COMMUNITY, duration: '7d', reason: 'elevator overhaul' }, status: 201 }),
    ])
  })

  it("records an admin disabling a user, found by the user's id or the admin's name", async () => {
    const victim = await insertUser(db, { name: 'desk-9', role: 'operator' })
    expect((await send('admin', 'PATCH', `/api/v1/users/${victim}`, { disabled: true })).statusCode).toBe(200)
    const [entry, ...more] = await entries(`target=${victim}`)
    expect(more).toEqual([])
    // The user named, for people to read (issue 21: ids on the audit screen).
    expect(entry).toMatchObject({ actorId: who.admin.id, actorRole: 'admin', action: 'users.update', target: { id: victim }, names: { [victim]: 'desk-9' }, body: { disabled: true } })
    expect((await entries('actor=admin-audit&action=users.update')).map((e) => e.id)).toContain(entry?.id)
    expect((await entries(`actor=${who.admin.id}&action=users.update`)).map((e) => e.id)).toContain(entry?.id)
  })

  it('records a device secret rotation and a CSV import, and keeps no secret of theirs', async () => {
    const rotated = await send('operator', 'POST', '/api/v1/devices/mh-1/secret')
    expect(rotated.statusCode).toBe(200)
    expect(await entries('target=mh-1&action=devices.rotate_secret')).toEqual([expect.objectContaining({ actorName: 'operator-audit', target: { id: 'mh-1' }, body: null })])

    const csv = 'id,kind,community\nel-imp-1,elevator,cm-test\nel-imp-2,elevator,cm-test\n'
    const imported = await send('operator', 'POST', '/api/v1/devices/import', csv, 'text/csv')
    expect(imported.statusCode).toBe(201)
    expect(await entries('action=devices.import')).toEqual([
      expect.objectContaining({ actorName: 'operator-audit', route: '/api/v1/devices/import', body: { contentType: 'text/csv', bytes: Buffer.byteLength(csv) }, status: 201 }),
    ])
    const table = await everything()
    const secrets = [rotated.json<{ secret: string }>().secret, ...imported.body.trim().split('\n').slice(1).map((line) => line.split(',')[1] ?? '')]
    expect(secrets).toHaveLength(3)
    for (const s of secrets) {
      expect(s.length).toBeGreaterThan(10)
      expect(table).not.toContain(s)
    }
  })

  it('stores bodies with every secret redacted, at any depth and in URLs', async () => {
    const sent = ['whsec-0123456789-abcdef', 'url-password-4711', 'url-token-4712', 'wecom-bot-key-4713', 'nested-token-4714']
    const hook = await send('operator', 'POST', '/api/v1/webhooks', { url: `https://ops:${sent[1]}@hooks.example.com/hook?token=${sent[2]}&tenant=east`, secret: sent[0], severities: ['critical'] })
    expect(hook.statusCode).toBe(201)
    const channel = await send('operator', 'POST', '/api/v1/notify/channels', { companyId: 'co-test', kind: 'wecom', name: 'Duty bot', settings: { msgtype: 'text', extra: { accessToken: sent[4] } }, secrets: { key: sent[3] } })
    expect(channel.statusCode).toBe(201)
    const device = await send('operator', 'POST', '/api/v1/devices', { id: 'el-secret', kind: 'elevator', communityId: COMMUNITY })
    expect(device.statusCode).toBe(201)
    const user = await send('admin', 'POST', '/api/v1/users', { name: 'new-desk', role: 'operator' })
    expect(user.statusCode).toBe(201)
    const token = await send('admin', 'POST', `/api/v1/users/${who.operator.id}/tokens`, { label: 'spare' })
    expect(token.statusCode).toBe(201)
    const returned = [hook.json<{ secret: string }>().secret, device.json<{ secret: string }>().secret, user.json<{ token: { token: string } }>().token.token, token.json<{ token: string }>().token]

    const table = await everything()
    for (const s of [...sent, ...returned]) expect(table).not.toContain(s)
    const [webhook] = await entries('action=webhooks.create')
    expect(webhook?.body).toEqual({
      url: 'https://ops:%5Bredacted%5D@hooks.example.com/hook?token=%5Bredacted%5D&tenant=east',
      secret: '[redacted]',
      severities: ['critical'],
    })
    expect(webhook?.target).toEqual({ id: hook.json<{ webhook: { id: string } }>().webhook.id })
    const [bot] = await entries('action=channels.create')
    expect(bot).toMatchObject({ companyId: 'co-test', body: { name: 'Duty bot', settings: { msgtype: 'text', extra: { accessToken: '[redacted]' } }, secrets: '[redacted]' } })
    expect((await entries('action=devices.create'))[0]?.target).toEqual({ id: 'el-secret' })
    expect((await entries('action=users.create'))[0]?.target).toEqual({ id: user.json<{ user: { id: string } }>().user.id })
  })

  it("leaves no entry for a service's alert report, a crew's acknowledge, a service's own change, nor a 400 or 404", async () => {
    const before = await rows()
    const report = await send('service', 'POST', '/api/v1/alerts', { ruleId: 'audit-probe', deviceId: 'el-1', condition: 'active', source: 'node-red', severity: 'minor', title: 'Probe' })
    expect(report.statusCode).toBe(200)
    const alertId = report.json<{ alert: { id: number } }>().alert.id
    expect((await send('crew', 'POST', `/api/v1/alerts/${alertId}/ack`, { note: 'on it' })).statusCode).toBe(200)
    expect((await send('service', 'POST', `/api/v1/users/${who.service.id}/contact-points`, { kind: 'email', address: 'svc@example.com' })).statusCode).toBe(201)
    expect((await send('operator', 'PUT', '/api/v1/rules/overspeed-audit', { ...ruleBody('overspeed-audit', 3), type: 'nonsense' })).statusCode).toBe(400)
    expect((await send('operator', 'POST', '/api/v1/silences', { duration: '1h', reason: 'no scope' })).statusCode).toBe(400)
    expect((await send('operator', 'DELETE', '/api/v1/rules/no-such-rule')).statusCode).toBe(404)
    expect(await rows()).toBe(before)
  })

  it('records a change refused with 403, with the company of the crew member who tried', async () => {
    const res = await send('crew', 'POST', '/api/v1/silences', { communityId: COMMUNITY, duration: '30d', reason: 'quiet month' })
    expect(res.statusCode).toBe(403)
    expect(await entries('actor=crew-audit')).toEqual([
      expect.objectContaining({ actorRole: 'crew', companyId: 'co-test', action: 'silences.create', status: 403, body: expect.objectContaining({ duration: '30d' }) as unknown }),
    ])
    expect((await entries('company=co-test')).map((e) => e.actorName)).toContain('crew-audit')
  })

  it('is the office’s: crews, residents and services get 403', async () => {
    for (const role of ['crew', 'resident', 'service'] as const) {
      const res = await app.inject({ url: '/api/v1/audit', headers: who[role].headers })
      expect(res.statusCode, role).toBe(403)
      expect(res.json()).toMatchObject({ code: 'forbidden' })
    }
    expect((await app.inject({ url: '/api/v1/audit', headers: who.operator.headers })).statusCode).toBe(200)
  })

  it('pages newest first, each entry once, and filters by time', async () => {
    for (let i = 0; i < 7; i++) expect((await send('operator', 'PATCH', '/api/v1/companies/co-test', { contact: `desk ${i}` })).statusCode).toBe(200)
    const seen: Entry[] = []
    let cursor: number | null = null
    for (let pages = 0; pages < 100; pages++) {
      const res = await app.inject({ url: `/api/v1/audit?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`, headers: who.operator.headers })
      const page: { items: Entry[]; nextCursor: number | null } = res.json()
      seen.push(...page.items)
      cursor = page.nextCursor
      if (cursor === null) break
    }
    const ids = seen.map((e) => e.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.length).toBe(await rows())
    expect(ids).toEqual([...ids].sort((a, b) => b - a))
    const companies = seen.filter((e) => e.action === 'companies.update')
    expect(companies.map((e) => (e.body as { contact: string }).contact)).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => `desk ${i}`))
    // The company in the path is the company the change concerns.
    expect(companies.every((e) => e.companyId === 'co-test')).toBe(true)
    const newest = seen[0]?.at ?? ''
    expect((await entries(`from=${encodeURIComponent(newest)}`)).map((e) => e.id)).toContain(seen[0]?.id)
    expect((await entries(`to=${encodeURIComponent(newest)}`)).map((e) => e.id)).not.toContain(seen[0]?.id)
  })

  it('lets the change stand when the audit write fails, logging and counting it', async () => {
    const failures = async () => (await app.deps.metrics.auditWriteFailures.get()).values[0]?.value ?? 0
    const before = await failures()
    await db.query('ALTER TABLE audit_log RENAME TO audit_log_away')
    try {
      const res = await send('operator', 'PATCH', '/api/v1/companies/co-test', { contact: 'while the log is away' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ contact: 'while the log is away' })
    } finally {
      await db.query('ALTER TABLE audit_log_away RENAME TO audit_log')
    }
    expect(await failures()).toBe(before + 1)
  })

  it('prunes entries older than AUDIT_RETENTION', async () => {
    const old = { actorId: 'u-old', actorName: 'old', actorRole: 'operator' as const, companyId: null, action: 'rules.update', method: 'PUT', route: '/api/v1/rules/:id', target: { id: 'r-old' }, query: null, body: null, status: 200, requestId: 'req-old', ip: null }
    await insertAudit(db, { ...old, at: new Date(Date.now() - 401 * 86_400_000) })
    await insertAudit(db, { ...old, target: { id: 'r-recent' }, at: new Date(Date.now() - 399 * 86_400_000) })
    const retention = new AlertHistoryRetention(db, { alertHistoryMs: 400 * 86_400_000, auditMs: 400 * 86_400_000 }, silentLogger)
    expect(await retention.pruneAudit()).toBe(1)
    expect(await entries('target=r-old')).toEqual([])
    expect(await entries('target=r-recent')).toHaveLength(1)
  })
})
