// Role isolation over every API route: each role × {own company, other company} gets exactly the
// status it should, and no other company's data appears in anything a crew member, a resident or
// a street officer is shown (the own side's community is in street st-a, the officer's; the other
// side's in st-b). The matrix must name every registered /api route, so a new route cannot skip it.
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { AlertService } from '../../alerts/service.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { insertDeadLetters } from '../../core/repos/dead-letters.ts'
import { insertFeedback } from '../../core/repos/feedback.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { createStreet } from '../../core/repos/streets.ts'
import { insertContact, insertOverride } from '../../core/repos/notify-setup.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { putSitePlan } from '../../core/repos/site-plans.ts'
import { upsertProfile } from '../../core/repos/profiles.ts'
import { type Role } from '../../shared/domain.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { clearTotp } from '../../core/repos/totp.ts'
import { createChannel } from '../../notify/setup.ts'
import { apiFor } from '../helpers/api.ts'
import { tinyPng } from '../helpers/images.ts'
import { LOCAL_TARGETS } from '../helpers/egress.ts'

type Side = 'own' | 'other'
interface Req {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string
  body?: unknown
  /** A body that is not JSON (a CSV file) names its type. */
  contentType?: string
}
interface Row {
  route: string
  /** Builds a fresh request for one side (mutating routes get fresh resources every time). */
  req: (side: Side, role: Role) => Promise<Req> | Req
  /** Expected status per role: [own, other]. */
  expect: Record<Role, [number, number]>
}

const ROLES_UNDER_TEST: Role[] = ['admin', 'operator', 'crew', 'service', 'resident', 'street_officer']
/** Identifiers of company B's things; none may show up in what crew A or resident A is shown. */
const OTHER_MARKERS = ['co-b', 'cm-b', 'el-b', 'gw-b', 'B Property', 'st-b']

// A street officer passes the auth hook only on the few reading routes it allows (api/plugins/auth.ts): 403 everywhere else.
const all = (own: number, other = own): Record<Role, [number, number]> => ({
  admin: [own, other],
  operator: [own, other],
  crew: [own, other],
  service: [own, other],
  resident: [own, other],
  street_officer: [403, 403],
})
const office = (own: number, other = own, rest = 403): Record<Role, [number, number]> => ({
  admin: [own, other],
  operator: [own, other],
  crew: [rest, rest],
  service: [rest, rest],
  resident: [rest, rest],
  street_officer: [403, 403],
})
const adminOnly = (ok: number): Record<Role, [number, number]> => ({ admin: [ok, ok], operator: [403, 403], crew: [403, 403], service: [403, 403], resident: [403, 403], street_officer: [403, 403] })

let db: Db
let app: App
let weightsVersions = 0
let alerts: AlertService
const tokens = {} as Record<Role, string>
const userIds = {} as Record<Role, string>
let seq = 0
const next = (prefix: string) => `${prefix}-${++seq}`

async function freshAlert(side: Side, resolved = false): Promise<number> {
  const device = side === 'own' ? 'el-a' : 'el-b'
  const { alert } = await alerts.report({ ruleId: next('r'), deviceId: device, condition: 'active', source: 'operator', severity: 'minor', title: 'Fixture alert' }, 'fixture')
  if (!alert) throw new Error('no fixture alert')
  if (resolved) await alerts.act(alert.id, 'resolve', 'fixture', undefined)
  return alert.id
}

async function freshPhoto(side: Side): Promise<{ alertId: number; id: number }> {
  return alerts.attachPhoto(await freshAlert(side), 'fixture', { contentType: 'image/png', bytes: tinyPng() }, 10)
}

async function freshDevice(side: Side): Promise<string> {
  const id = next(side === 'own' ? 'dev-a' : 'dev-b')
  await provisionDevices(db, [{ id, kind: 'manhole', communityId: side === 'own' ? 'cm-a' : 'cm-b' }])
  return id
}

const profileBody = (id: string) => ({ id, name: 'Lift DTU', kind: 'elevator', decoder: { fields: [{ metric: 'running', path: 'run' }] } })

/** Gives community `id` a site plan (the upload's own row may have replaced or not yet made one). */
async function withPlan(id: string): Promise<string> {
  await putSitePlan(db, { communityId: id, contentType: 'image/png', width: 8, height: 8, sha256: 'fixture', bytes: tinyPng(), uploadedBy: 'fixture', uploadedAt: new Date() })
  return id
}

const community = (side: Side) => (side === 'own' ? 'cm-a' : 'cm-b')
const company = (side: Side) => (side === 'own' ? 'co-a' : 'co-b')
const device = (side: Side) => (side === 'own' ? 'el-a' : 'el-b')
const street = (side: Side) => (side === 'own' ? 'st-a' : 'st-b')

const MATRIX: Row[] = [
  // Devices
  { route: 'GET /api/v1/devices', req: (s) => ({ method: 'GET', url: `/api/v1/devices?community=${community(s)}` }), expect: { ...all(200), resident: [403, 403], street_officer: [200, 200] } },
  { route: 'GET /api/v1/devices/:id', req: (s) => ({ method: 'GET', url: `/api/v1/devices/${device(s)}` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403], street_officer: [200, 404] } },
  { route: 'GET /api/v1/devices/:id/status', req: (s) => ({ method: 'GET', url: `/api/v1/devices/${device(s)}/status` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403] } },
  // The map: the crew member's shows only their company's (no co-b marker in it)
  { route: 'GET /api/v1/map', req: () => ({ method: 'GET', url: '/api/v1/map' }), expect: { ...office(200), crew: [200, 200] } },
  { route: 'GET /api/v1/devices/:id/latest', req: (s) => ({ method: 'GET', url: `/api/v1/devices/${device(s)}/latest` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403] } },
  { route: 'GET /api/v1/devices/:id/readings', req: (s) => ({ method: 'GET', url: `/api/v1/devices/${device(s)}/readings?metric=speed_mps` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403] } },
  { route: 'POST /api/v1/devices', req: (s) => ({ method: 'POST', url: '/api/v1/devices', body: { id: next('new'), kind: 'elevator', communityId: community(s) } }), expect: office(201) },
  {
    route: 'POST /api/v1/devices/import',
    req: (s) => ({ method: 'POST', url: '/api/v1/devices/import', contentType: 'text/csv', body: `id,kind,community\n${next('imported')},elevator,${community(s)}\n` }),
    expect: office(201),
  },
  { route: 'PATCH /api/v1/devices/:id', req: async (s) => ({ method: 'PATCH', url: `/api/v1/devices/${await freshDevice(s)}`, body: { name: 'renamed' } }), expect: office(200) },
  { route: 'POST /api/v1/devices/:id/secret', req: async (s) => ({ method: 'POST', url: `/api/v1/devices/${await freshDevice(s)}/secret` }), expect: office(200) },
  { route: 'DELETE /api/v1/devices/:id', req: async (s) => ({ method: 'DELETE', url: `/api/v1/devices/${await freshDevice(s)}` }), expect: office(200) },
  // Simulating a fault (admins only): these devices are not the demo's, so even an admin is refused (SIMULATE_FAULTS=demo).
  { route: 'GET /api/v1/devices/:id/simulate-fault', req: (s) => ({ method: 'GET', url: `/api/v1/devices/${device(s)}/simulate-fault` }), expect: adminOnly(200) },
  { route: 'POST /api/v1/devices/:id/simulate-fault', req: (s) => ({ method: 'POST', url: `/api/v1/devices/${device(s)}/simulate-fault`, body: { fault: 'entrapment' } }), expect: adminOnly(403) },
  // Every device's committed readings: the office's admins and machine consumers (Node-RED), not people of a company.
  { route: 'GET /api/v1/feed', req: () => ({ method: 'GET', url: '/api/v1/feed?limit=10' }), expect: { ...adminOnly(200), service: [200, 200] } },
  { route: 'GET /api/v1/dead-letters', req: (s) => ({ method: 'GET', url: `/api/v1/dead-letters?device=${device(s)}` }), expect: office(200) },
  // The audit log names every company's changes: the office's
  { route: 'GET /api/v1/audit', req: (s) => ({ method: 'GET', url: `/api/v1/audit?company=${company(s)}` }), expect: office(200) },
  { route: 'GET /api/v1/audit.csv', req: (s) => ({ method: 'GET', url: `/api/v1/audit.csv?company=${company(s)}` }), expect: office(200) },
  // Alerts
  { route: 'POST /api/v1/alerts', req: (s) => ({ method: 'POST', url: '/api/v1/alerts', body: { ruleId: next('report'), deviceId: device(s), condition: 'active', source: 'node-red', severity: 'minor', title: 'x' } }), expect: { ...office(200), service: [200, 200] } },
  { route: 'GET /api/v1/alerts', req: (s) => ({ method: 'GET', url: s === 'own' ? '/api/v1/alerts' : '/api/v1/alerts?company=co-b' }), expect: { ...all(200), street_officer: [200, 200] } },
  // The spreadsheet of the same list: the office and crews (a crew member's holds their company's alerts only)
  { route: 'GET /api/v1/alerts.csv', req: (s) => ({ method: 'GET', url: s === 'own' ? '/api/v1/alerts.csv' : '/api/v1/alerts.csv?company=co-b' }), expect: { ...office(200), crew: [200, 200] } },
  // A resident sees their own reports and what the office made public (test/integration/residents.test.ts), not this operator's alert.
  { route: 'GET /api/v1/alerts/:id', req: async (s) => ({ method: 'GET', url: `/api/v1/alerts/${await freshAlert(s)}` }), expect: { ...all(200), crew: [200, 404], resident: [404, 404], street_officer: [200, 404] } },
  // Photos: residents only of their own report (these fixtures are nobody's report)
  { route: 'POST /api/v1/alerts/:id/photos', req: async (s) => ({ method: 'POST', url: `/api/v1/alerts/${await freshAlert(s)}/photos`, body: tinyPng() }), expect: { ...office(201), crew: [201, 404], resident: [404, 404] } },
  { route: 'GET /api/v1/alerts/:id/photos', req: async (s) => ({ method: 'GET', url: `/api/v1/alerts/${(await freshPhoto(s)).alertId}/photos` }), expect: { ...office(200), crew: [200, 404], resident: [404, 404] } },
  {
    route: 'GET /api/v1/alerts/:id/photos/:photoId',
    req: async (s) => {
      const p = await freshPhoto(s)
      return { method: 'GET', url: `/api/v1/alerts/${p.alertId}/photos/${p.id}` }
    },
    expect: { ...office(200), crew: [200, 404], resident: [404, 404] },
  },
  ...(['ack', 'en-route', 'arrive', 'start', 'resolve', 'comment'] as const).map(
    (action): Row => ({
      route: `POST /api/v1/alerts/:id/${action}`,
      req: async (s) => ({ method: 'POST', url: `/api/v1/alerts/${await freshAlert(s)}/${action}`, body: { note: 'matrix' } }),
      expect: { ...office(200), crew: [200, 404] },
    }),
  ),
  { route: 'POST /api/v1/alerts/:id/claim', req: async (s) => ({ method: 'POST', url: `/api/v1/alerts/${await freshAlert(s)}/claim`, body: {} }), expect: { ...office(200), crew: [200, 404] } },
  // Assigning is the office's or the company's managers' (a crew member not on its manager rota may only claim).
  { route: 'POST /api/v1/alerts/:id/assign', req: async (s) => ({ method: 'POST', url: `/api/v1/alerts/${await freshAlert(s)}/assign`, body: { to: `member-${s}`, note: 'matrix' } }), expect: { ...office(200), crew: [403, 404] } },
  // Bulk by filter: a crew member's filter is their company's whatever it names (another company's: nothing matches, 200 with 0)
  { route: 'GET /api/v1/alerts/bulk/count', req: (s) => ({ method: 'GET', url: `/api/v1/alerts/bulk/count?action=ack&company=${company(s)}` }), expect: { ...office(200), crew: [200, 200] } },
  {
    route: 'POST /api/v1/alerts/bulk/:action',
    req: async (s) => ({ method: 'POST', url: `/api/v1/alerts/bulk/ack?community=${community(s)}&through=${await freshAlert(s)}`, body: {} }),
    expect: { ...office(200), crew: [200, 200] },
  },
  { route: 'POST /api/v1/alerts/ack', req: async (s) => ({ method: 'POST', url: '/api/v1/alerts/ack', body: { ids: [await freshAlert(s)] } }), expect: { ...office(200), crew: [200, 200] } },
  { route: 'GET /api/v1/alerts/stream', req: () => ({ method: 'GET', url: '/api/v1/alerts/stream' }), expect: { ...all(200), resident: [403, 403], street_officer: [200, 200] } },
  // A resident rates only their own report (issue 18): this alert of their community is not one (test/integration/resident-limits.test.ts rates one).
  { route: 'POST /api/v1/alerts/:id/rating', req: async (s) => ({ method: 'POST', url: `/api/v1/alerts/${await freshAlert(s, true)}/rating`, body: { rating: 4 } }), expect: { ...office(201), resident: [404, 404] } },
  { route: 'POST /api/v1/alerts/:id/publish', req: async (s) => ({ method: 'POST', url: `/api/v1/alerts/${await freshAlert(s)}/publish`, body: { public: true } }), expect: office(200) },
  // Silences and webhooks
  { route: 'POST /api/v1/silences', req: (s) => ({ method: 'POST', url: '/api/v1/silences', body: { communityId: community(s), duration: '1h', reason: 'matrix' } }), expect: office(201) },
  { route: 'GET /api/v1/silences', req: () => ({ method: 'GET', url: '/api/v1/silences' }), expect: office(200) },
  {
    route: 'DELETE /api/v1/silences/:id',
    req: async (s) => {
      const [row] = await db.query<{ id: number }>("INSERT INTO silences (community_id, starts_at, ends_at, reason, created_by) VALUES ($1, now(), now() + INTERVAL '1 hour', 'x', 'x') RETURNING id", [community(s)])
      return { method: 'DELETE', url: `/api/v1/silences/${row?.id ?? 0}` }
    },
    expect: office(200),
  },
  {
    route: 'PATCH /api/v1/silences/:id',
    req: async (s) => {
      const [row] = await db.query<{ id: number }>("INSERT INTO silences (community_id, starts_at, ends_at, reason, created_by) VALUES ($1, now(), now() + INTERVAL '1 hour', 'x', 'x') RETURNING id", [community(s)])
      return { method: 'PATCH', url: `/api/v1/silences/${row?.id ?? 0}`, body: { reason: 'matrix edit' } }
    },
    expect: office(200),
  },
  { route: 'POST /api/v1/webhooks', req: () => ({ method: 'POST', url: '/api/v1/webhooks', body: { url: 'https://hooks.example.com/hook' } }), expect: office(201) },
  { route: 'GET /api/v1/webhooks', req: () => ({ method: 'GET', url: '/api/v1/webhooks' }), expect: office(200) },
  {
    route: 'GET /api/v1/webhooks/:id/deliveries',
    req: async () => {
      const [row] = await db.query<{ id: string }>("INSERT INTO webhooks (id, url, secret, created_by) VALUES (gen_random_uuid()::text, 'http://127.0.0.1:9', 'secretsecretsecret', 'x') RETURNING id")
      return { method: 'GET', url: `/api/v1/webhooks/${row?.id ?? ''}/deliveries` }
    },
    expect: office(200),
  },
  {
    route: 'DELETE /api/v1/webhooks/:id',
    req: async () => {
      const [row] = await db.query<{ id: string }>("INSERT INTO webhooks (id, url, secret, created_by) VALUES (gen_random_uuid()::text, 'http://127.0.0.1:9', 'secretsecretsecret', 'x') RETURNING id")
      return { method: 'DELETE', url: `/api/v1/webhooks/${row?.id ?? ''}` }
    },
    expect: office(204),
  },
  // Rules
  { route: 'GET /api/v1/rules', req: () => ({ method: 'GET', url: '/api/v1/rules' }), expect: { ...all(200), resident: [403, 403] } },
  { route: 'GET /api/v1/rules/:id', req: () => ({ method: 'GET', url: '/api/v1/rules/rule-a' }), expect: { ...all(200), resident: [403, 403] } },
  { route: 'POST /api/v1/rules', req: () => ({ method: 'POST', url: '/api/v1/rules', body: ruleBody(next('rule')) }), expect: office(201) },
  { route: 'PUT /api/v1/rules/:id', req: () => ({ method: 'PUT', url: '/api/v1/rules/rule-a', body: ruleBody('rule-a') }), expect: office(200) },
  {
    route: 'DELETE /api/v1/rules/:id',
    req: async () => {
      const id = next('rule')
      await upsertRule(db, { id, type: 'threshold', severity: 'minor', enabled: true, definition: ruleBody(id) })
      return { method: 'DELETE', url: `/api/v1/rules/${id}` }
    },
    expect: office(204),
  },
  // Device profiles
  { route: 'GET /api/v1/profiles', req: () => ({ method: 'GET', url: '/api/v1/profiles' }), expect: { ...office(200), service: [200, 200] } },
  { route: 'GET /api/v1/profiles/:id', req: () => ({ method: 'GET', url: '/api/v1/profiles/profile-a' }), expect: { ...office(200), service: [200, 200] } },
  { route: 'POST /api/v1/profiles', req: () => ({ method: 'POST', url: '/api/v1/profiles', body: profileBody(next('profile')) }), expect: office(201) },
  { route: 'PUT /api/v1/profiles/:id', req: () => ({ method: 'PUT', url: '/api/v1/profiles/profile-a', body: profileBody('profile-a') }), expect: office(200) },
  { route: 'POST /api/v1/profiles/:id/decode', req: () => ({ method: 'POST', url: '/api/v1/profiles/profile-a/decode', body: { payload: '{"run":1}', encoding: 'json' } }), expect: office(200) },
  { route: 'POST /api/v1/profiles/decode', req: () => ({ method: 'POST', url: '/api/v1/profiles/decode', body: { payload: '{"run":1}', encoding: 'json', definition: profileBody('unsaved') } }), expect: office(200) },
  {
    route: 'DELETE /api/v1/profiles/:id',
    req: async () => {
      const id = next('profile')
      await upsertProfile(db, { id, kind: 'elevator', definition: profileBody(id) })
      return { method: 'DELETE', url: `/api/v1/profiles/${id}` }
    },
    expect: office(204),
  },
  // Registry
  { route: 'GET /api/v1/companies', req: () => ({ method: 'GET', url: '/api/v1/companies' }), expect: { ...office(200), crew: [200, 200], street_officer: [200, 200] } },
  { route: 'GET /api/v1/companies/:id', req: (s) => ({ method: 'GET', url: `/api/v1/companies/${company(s)}` }), expect: { ...office(200), crew: [200, 404], street_officer: [200, 404] } },
  // Streets (街道/镇): the office registers them; a street officer sees their own
  { route: 'GET /api/v1/streets', req: () => ({ method: 'GET', url: '/api/v1/streets' }), expect: { ...office(200), street_officer: [200, 200] } },
  { route: 'GET /api/v1/streets/:id', req: (s) => ({ method: 'GET', url: `/api/v1/streets/${street(s)}` }), expect: { ...office(200), street_officer: [200, 404] } },
  { route: 'POST /api/v1/streets', req: () => ({ method: 'POST', url: '/api/v1/streets', body: { id: next('st'), name: 'New street' } }), expect: office(201) },
  { route: 'PATCH /api/v1/streets/:id', req: (s) => ({ method: 'PATCH', url: `/api/v1/streets/${street(s)}`, body: { district: 'Minhang' } }), expect: office(200) },
  { route: 'POST /api/v1/companies', req: () => ({ method: 'POST', url: '/api/v1/companies', body: { id: next('co'), name: 'New Co.' } }), expect: office(201) },
  { route: 'PATCH /api/v1/companies/:id', req: (s) => ({ method: 'PATCH', url: `/api/v1/companies/${company(s)}`, body: { contact: 'desk' } }), expect: office(200) },
  { route: 'GET /api/v1/communities', req: (s) => ({ method: 'GET', url: `/api/v1/communities?company=${company(s)}` }), expect: { ...office(200), crew: [200, 200], resident: [200, 200], street_officer: [200, 200] } },
  { route: 'GET /api/v1/communities/:id', req: (s) => ({ method: 'GET', url: `/api/v1/communities/${community(s)}` }), expect: { ...office(200), crew: [200, 404], resident: [200, 404], street_officer: [200, 404] } },
  { route: 'POST /api/v1/communities', req: (s) => ({ method: 'POST', url: '/api/v1/communities', body: { id: next('cm'), name: 'New', companyId: company(s) } }), expect: office(201) },
  { route: 'PATCH /api/v1/communities/:id', req: (s) => ({ method: 'PATCH', url: `/api/v1/communities/${community(s)}`, body: { street: 'Lane 5' } }), expect: office(200) },
  {
    route: 'POST /api/v1/communities/:id/assignment',
    req: async (s) => {
      const id = next('cm')
      await createCommunity(db, id, { name: id, district: null, street: null, address: null, lat: null, lon: null })
      await assignCommunity(db, id, company(s), 'fixture', null)
      return { method: 'POST', url: `/api/v1/communities/${id}/assignment`, body: { companyId: s === 'own' ? 'co-b' : 'co-a' } }
    },
    expect: office(200),
  },
  // Site plans: the office changes them, a crew member sees their company's
  { route: 'PUT /api/v1/communities/:id/site-plan', req: (s) => ({ method: 'PUT', url: `/api/v1/communities/${community(s)}/site-plan`, contentType: 'image/png', body: tinyPng() }), expect: office(200) },
  { route: 'GET /api/v1/communities/:id/site-plan', req: async (s) => ({ method: 'GET', url: `/api/v1/communities/${await withPlan(community(s))}/site-plan` }), expect: { ...office(200), crew: [200, 404] } },
  {
    route: 'DELETE /api/v1/communities/:id/site-plan',
    req: async (s) => {
      const id = next('cm')
      await createCommunity(db, id, { name: id, district: null, street: null, address: null, lat: null, lon: null })
      await assignCommunity(db, id, company(s), 'fixture', null)
      return { method: 'DELETE', url: `/api/v1/communities/${await withPlan(id)}/site-plan` }
    },
    expect: office(204),
  },
  { route: 'PUT /api/v1/devices/:id/plan-position', req: async (s) => (await withPlan(community(s)), { method: 'PUT', url: `/api/v1/devices/${device(s)}/plan-position`, body: { x: 0.25, y: 0.75 } }), expect: office(200) },
  { route: 'DELETE /api/v1/devices/:id/plan-position', req: (s) => ({ method: 'DELETE', url: `/api/v1/devices/${device(s)}/plan-position` }), expect: office(204) },
  { route: 'GET /api/v1/map/base-layer', req: () => ({ method: 'GET', url: '/api/v1/map/base-layer' }), expect: { ...office(200), crew: [200, 200] } },
  { route: 'GET /api/v1/communities/:id/assignments', req: (s) => ({ method: 'GET', url: `/api/v1/communities/${community(s)}/assignments` }), expect: { ...office(200), crew: [200, 404] } },
  // Users and tokens
  { route: 'GET /api/v1/me', req: () => ({ method: 'GET', url: '/api/v1/me' }), expect: { ...all(200), street_officer: [200, 200] } },
  { route: 'GET /api/v1/users', req: () => ({ method: 'GET', url: '/api/v1/users' }), expect: adminOnly(200) },
  { route: 'POST /api/v1/users', req: () => ({ method: 'POST', url: '/api/v1/users', body: { name: next('user'), role: 'operator' } }), expect: adminOnly(201) },
  {
    route: 'PATCH /api/v1/users/:id',
    // A fresh user each time: disabling one of the matrix's own users would break the rows after it.
    req: async () => ({ method: 'PATCH', url: `/api/v1/users/${await insertUser(db, { name: next('user'), role: 'operator' })}`, body: { disabled: true } }),
    expect: adminOnly(200),
  },
  // Passwords and sessions (test/integration/sign-in.test.ts signs in for real): anyone may try a
  // sign-in (these users have no password: 401), sign out and change their own password (none
  // set: 403 wrong_password); only an admin hands out one-time passwords.
  { route: 'POST /api/v1/session', req: (_s, role) => ({ method: 'POST', url: '/api/v1/session', body: { name: `${role}-user`, password: 'Not-a-password-1' } }), expect: { ...all(401), street_officer: [401, 401] } },
  { route: 'DELETE /api/v1/session', req: () => ({ method: 'DELETE', url: '/api/v1/session' }), expect: { ...all(204), street_officer: [204, 204] } },
  // Signing in with WeCom or DingTalk (test/integration/wecom-sign-in.test.ts, dingtalk-sign-in.test.ts
  // go the whole way): open to anyone; not configured here, so the sign-in itself is 404
  // sign_in_unavailable for everyone.
  { route: 'GET /api/v1/session/providers', req: () => ({ method: 'GET', url: '/api/v1/session/providers' }), expect: { ...all(200), street_officer: [200, 200] } },
  { route: 'GET /api/v1/session/:provider', req: (_s, role) => ({ method: 'GET', url: `/api/v1/session/${role === 'crew' ? 'dingtalk' : 'wecom'}` }), expect: { ...all(404), street_officer: [404, 404] } },
  {
    route: 'GET /api/v1/session/:provider/callback',
    req: (_s, role) => ({ method: 'GET', url: `/api/v1/session/${role === 'crew' ? 'dingtalk' : 'wecom'}/callback?code=c&state=s` }),
    expect: { ...all(404), street_officer: [404, 404] },
  },
  { route: 'DELETE /api/v1/sessions', req: () => ({ method: 'DELETE', url: '/api/v1/sessions' }), expect: { ...all(204), street_officer: [204, 204] } },
  { route: 'PUT /api/v1/me/password', req: () => ({ method: 'PUT', url: '/api/v1/me/password', body: { current: 'Not-a-password-1', next: 'Another-one-22' } }), expect: all(403) },
  {
    route: 'POST /api/v1/users/:id/password',
    req: async () => ({ method: 'POST', url: `/api/v1/users/${await insertUser(db, { name: next('user'), role: 'operator' })}/password` }),
    expect: adminOnly(200),
  },
  // One-time codes (test/integration/totp.test.ts signs in with them): admins, operators and crew
  // may set them up, residents and services not; the confirmation with no set-up under way is 409;
  // turning them off needs the password (none set: 403); the second sign-in step needs a ticket.
  { route: 'POST /api/v1/me/totp', req: () => ({ method: 'POST', url: '/api/v1/me/totp' }), expect: { ...all(200), service: [403, 403], resident: [403, 403] } },
  {
    route: 'POST /api/v1/me/totp/confirm',
    req: async (_s, role) => {
      await clearTotp(db, userIds[role])
      return { method: 'POST', url: '/api/v1/me/totp/confirm', body: { code: '123456' } }
    },
    expect: { ...all(409), service: [403, 403], resident: [403, 403] },
  },
  { route: 'DELETE /api/v1/me/totp', req: () => ({ method: 'DELETE', url: '/api/v1/me/totp', body: { password: 'Not-a-password-1' } }), expect: all(403) },
  { route: 'POST /api/v1/session/totp', req: () => ({ method: 'POST', url: '/api/v1/session/totp', body: { ticket: 'x'.repeat(43), code: '123456' } }), expect: { ...all(401), street_officer: [401, 401] } },
  { route: 'DELETE /api/v1/users/:id/totp', req: () => ({ method: 'DELETE', url: `/api/v1/users/${userIds.operator}/totp` }), expect: adminOnly(204) },
  { route: 'GET /api/v1/users/:id/tokens', req: () => ({ method: 'GET', url: `/api/v1/users/${userIds.operator}/tokens` }), expect: adminOnly(200) },
  { route: 'POST /api/v1/users/:id/tokens', req: () => ({ method: 'POST', url: `/api/v1/users/${userIds.operator}/tokens`, body: {} }), expect: adminOnly(201) },
  {
    route: 'DELETE /api/v1/tokens/:id',
    // Own: a spare token of the caller; other: a spare token of somebody else.
    req: async (s, role) => {
      const owner = s === 'own' ? userIds[role] : role === 'operator' ? userIds.admin : userIds.operator
      return { method: 'DELETE', url: `/api/v1/tokens/${(await issueToken(db, owner)).id}` }
    },
    expect: { ...all(204, 404), admin: [204, 204] },
  },
  // Residents
  { route: 'POST /api/v1/communities/:id/feedback', req: (s) => ({ method: 'POST', url: `/api/v1/communities/${community(s)}/feedback`, body: { rating: 3 } }), expect: { ...office(201), resident: [201, 404] } },
  { route: 'GET /api/v1/feedback', req: (s) => ({ method: 'GET', url: `/api/v1/feedback?company=${company(s)}` }), expect: { ...office(200), crew: [200, 200] } },
  { route: 'POST /api/v1/hazards', req: (s) => ({ method: 'POST', url: '/api/v1/hazards', body: { communityId: community(s), title: 'Broken railing', location: 'Building 2' } }), expect: { ...office(201), resident: [201, 404] } },
  // Evaluation
  // 12345 hotline cases: the office imports; a crew member reads their own company's
  {
    route: 'POST /api/v1/hotline/cases',
    req: (s) => ({ method: 'POST', url: '/api/v1/hotline/cases', body: { cases: [{ caseNo: next('hl'), receivedAt: '2026-11-03 09:00', community: community(s) }] } }),
    expect: office(200),
  },
  {
    route: 'POST /api/v1/hotline/cases/import',
    req: (s) => ({ method: 'POST', url: '/api/v1/hotline/cases/import', contentType: 'text/csv', body: `case_no,received_at,community\n${next('hl')},2026-11-03 09:00,${community(s)}\n` }),
    expect: office(200),
  },
  { route: 'GET /api/v1/hotline/companies/:id/cases', req: (s) => ({ method: 'GET', url: `/api/v1/hotline/companies/${company(s)}/cases` }), expect: { ...office(200), crew: [200, 404] } },
  // A street officer's ranking is their street's; asking for another street's gives an empty list.
  {
    route: 'GET /api/v1/evaluation/ranking',
    req: (s) => ({ method: 'GET', url: s === 'own' ? '/api/v1/evaluation/ranking' : `/api/v1/evaluation/ranking?streetId=${street(s)}` }),
    expect: { ...office(200), street_officer: [200, 200] },
  },
  { route: 'GET /api/v1/evaluation/history', req: () => ({ method: 'GET', url: '/api/v1/evaluation/history?periods=2' }), expect: office(200) },
  { route: 'GET /api/v1/evaluation/ranking.csv', req: () => ({ method: 'GET', url: '/api/v1/evaluation/ranking.csv' }), expect: office(200) },
  { route: 'GET /api/v1/evaluation/weights', req: () => ({ method: 'GET', url: '/api/v1/evaluation/weights' }), expect: office(200) },
  // Each request adds a version a second later than the last: versions only ever move forward.
  {
    route: 'POST /api/v1/evaluation/weights',
    req: () => ({ method: 'POST', url: '/api/v1/evaluation/weights', body: { effectiveFrom: new Date(Date.UTC(2030, 0, 1) + ++weightsVersions * 1000).toISOString(), weights: { ack: 0.5, resolve: 0.5 }, note: 'roles matrix' } }),
    expect: adminOnly(201),
  },
  { route: 'GET /api/v1/evaluation/companies/:id', req: (s) => ({ method: 'GET', url: `/api/v1/evaluation/companies/${company(s)}` }), expect: { ...office(200), crew: [200, 404] } },
  { route: 'GET /api/v1/overview', req: () => ({ method: 'GET', url: '/api/v1/overview' }), expect: office(200) },
  // Notifications: the crew user is no manager of its company, so it reads its company's setup but changes none of it
  { route: 'POST /api/v1/notify/channels', req: (s) => ({ method: 'POST', url: '/api/v1/notify/channels', body: { companyId: company(s), kind: 'wecom', name: next('bot'), secrets: { key: 'k-1' } } }), expect: { ...office(201), crew: [403, 404] } },
  { route: 'GET /api/v1/notify/channels', req: (s) => ({ method: 'GET', url: `/api/v1/notify/channels?companyId=${company(s)}` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403] } },
  { route: 'PATCH /api/v1/notify/channels/:id', req: async (s) => ({ method: 'PATCH', url: `/api/v1/notify/channels/${await freshChannel(s)}`, body: { enabled: false } }), expect: { ...office(200), crew: [403, 404] } },
  { route: 'PUT /api/v1/notify/channels/:id', req: async (s) => ({ method: 'PUT', url: `/api/v1/notify/channels/${await freshChannel(s)}`, body: { name: next('bot') } }), expect: { ...office(200), crew: [403, 404] } },
  { route: 'POST /api/v1/notify/channels/:id/test', req: async (s) => ({ method: 'POST', url: `/api/v1/notify/channels/${await freshChannel(s, 'sms_http')}/test`, body: {} }), expect: { ...office(400), crew: [403, 404] } },
  { route: 'DELETE /api/v1/notify/channels/:id', req: async (s) => ({ method: 'DELETE', url: `/api/v1/notify/channels/${await freshChannel(s)}` }), expect: { ...office(204), crew: [403, 404] } },
  // Contact points: own, anyone's own; other, a co-b crew member's
  { route: 'GET /api/v1/users/:userId/contact-points', req: (s, role) => ({ method: 'GET', url: `/api/v1/users/${contactOwner(s, role)}/contact-points` }), expect: { ...all(200), crew: [200, 404], service: [200, 403], resident: [200, 403] } },
  {
    route: 'POST /api/v1/users/:userId/contact-points',
    req: (s, role) => ({ method: 'POST', url: `/api/v1/users/${contactOwner(s, role)}/contact-points`, body: { kind: 'email', address: `${next('someone')}@example.com` } }),
    expect: { ...all(201), crew: [201, 404], service: [201, 403], resident: [201, 403] },
  },
  {
    route: 'DELETE /api/v1/users/:userId/contact-points/:id',
    req: async (s, role) => {
      const userId = contactOwner(s, role)
      const c = await insertContact(db, { userId, kind: 'email', address: `${next('gone')}@example.com`, locale: 'en', position: 0 })
      return { method: 'DELETE', url: `/api/v1/users/${userId}/contact-points/${c.id}` }
    },
    expect: { ...all(204), crew: [204, 404], service: [204, 403], resident: [204, 403] },
  },
  { route: 'GET /api/v1/notify/policies', req: () => ({ method: 'GET', url: '/api/v1/notify/policies' }), expect: { ...all(200), resident: [403, 403] } },
  { route: 'PUT /api/v1/notify/policies/:severity', req: () => ({ method: 'PUT', url: '/api/v1/notify/policies/minor', body: { steps: [{ rota: 'crew' }] } }), expect: office(200) },
  { route: 'DELETE /api/v1/notify/policies/:severity', req: () => ({ method: 'DELETE', url: '/api/v1/notify/policies/minor' }), expect: office(204) },
  // The members of an alert's group: whoever sees the alert, but not residents
  { route: 'GET /api/v1/alerts/:id/group', req: async (s) => ({ method: 'GET', url: `/api/v1/alerts/${await freshAlert(s)}/group` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403] } },
  { route: 'GET /api/v1/alerts/:id/deliveries', req: async (s) => ({ method: 'GET', url: `/api/v1/alerts/${await freshAlert(s)}/deliveries` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403] } },
  // Rotas: rota-own is co-a's crew rota, rota-other co-b's
  { route: 'PUT /api/v1/rotas/:id', req: (s) => ({ method: 'PUT', url: `/api/v1/rotas/rota-${s}`, body: rotaBody(s) }), expect: { ...office(200), crew: [403, 404] } },
  { route: 'GET /api/v1/rotas', req: () => ({ method: 'GET', url: '/api/v1/rotas' }), expect: { ...all(200), resident: [403, 403] } },
  { route: 'GET /api/v1/rotas/coverage', req: () => ({ method: 'GET', url: '/api/v1/rotas/coverage' }), expect: { ...all(200), resident: [403, 403] } },
  { route: 'GET /api/v1/rotas/:id/on-call', req: (s) => ({ method: 'GET', url: `/api/v1/rotas/rota-${s}/on-call` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403] } },
  { route: 'GET /api/v1/rotas/people', req: (s) => ({ method: 'GET', url: `/api/v1/rotas/people?companyId=${company(s)}` }), expect: { ...office(200), crew: [403, 404] } },
  { route: 'GET /api/v1/rotas/:id/schedule', req: (s) => ({ method: 'GET', url: `/api/v1/rotas/rota-${s}/schedule` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403] } },
  { route: 'POST /api/v1/rotas/:id/overrides', req: (s) => ({ method: 'POST', url: `/api/v1/rotas/rota-${s}/overrides`, body: overrideBody(s) }), expect: { ...office(201), crew: [403, 404] } },
  { route: 'GET /api/v1/rotas/:id/overrides', req: (s) => ({ method: 'GET', url: `/api/v1/rotas/rota-${s}/overrides` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403] } },
  {
    route: 'DELETE /api/v1/rotas/:id/overrides/:overrideId',
    req: async (s) => {
      const o = await insertOverride(db, { rotaId: `rota-${s}`, userId: members[s], kind: 'cover', startsAt: new Date(), endsAt: new Date(Date.now() + 3_600_000), note: null, createdBy: 'fixture' })
      return { method: 'DELETE', url: `/api/v1/rotas/rota-${s}/overrides/${o.id}` }
    },
    expect: { ...office(204), crew: [403, 404] },
  },
  { route: 'POST /api/v1/rotas/:id/handovers', req: (s) => ({ method: 'POST', url: `/api/v1/rotas/rota-${s}/handovers`, body: { note: 'pump 2 noisy' } }), expect: { ...office(201), crew: [403, 404] } },
  { route: 'GET /api/v1/rotas/:id/handovers', req: (s) => ({ method: 'GET', url: `/api/v1/rotas/rota-${s}/handovers` }), expect: { ...all(200), crew: [200, 404], resident: [403, 403] } },
]

/** A crew member of each company, on its crew rota. */
const members = {} as Record<Side, string>
const contactOwner = (side: Side, role: Role) => (side === 'own' ? userIds[role] : members.other)
const rotaBody = (side: Side) => ({ companyId: company(side), role: 'crew', name: 'Crew', startsOn: '2026-03-02', members: [members[side]] })
const overrideBody = (side: Side) => ({ userId: members[side], kind: 'swap', startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString() })

/** A WeCom bot; or an SMS gateway, whose test message without an address is refused before anything is sent. */
async function freshChannel(side: Side, kind: 'wecom' | 'sms_http' = 'wecom'): Promise<string> {
  const c = kind === 'wecom' ? { kind, settings: {}, secrets: { key: 'k-1' } } : { kind, settings: { url: 'http://127.0.0.1:9/sms' } }
  return (await createChannel(db, randomBytes(32), { companyId: company(side), name: next('bot'), createdBy: 'fixture', ...c }, LOCAL_TARGETS)).id
}

function ruleBody(id: string): Record<string, unknown> {
  return {
    id,
    name: 'Matrix rule',
    description: 'A rule the matrix writes',
    type: 'threshold',
    severity: 'minor',
    scope: { kind: 'elevator' },
    params: { metric: 'speed_mps', op: '>', value: 5, clear: { value: 4 } },
  }
}

const registered: { method: string; url: string }[] = []
let port = 0

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  for (const side of ['own', 'other'] as const) {
    await createCompany(db, { id: company(side), name: side === 'own' ? 'A Property Co.' : 'B Property Co.', contact: null })
    await createStreet(db, { id: street(side), name: side === 'own' ? 'Street A' : 'Street B', district: 'Minhang' })
    await createCommunity(db, community(side), { name: `Community ${side}`, district: 'Minhang', street: null, streetId: street(side), address: null, lat: null, lon: null })
    await assignCommunity(db, community(side), company(side), 'fixture', null)
    await provisionDevices(db, [{ id: device(side), kind: 'elevator', communityId: community(side) }])
    await insertFeedback(db, { communityId: community(side), rating: 4, comment: null, author: 'fixture' })
    await insertDeadLetters(db, [{ receivedAt: new Date(), clientId: null, topic: `hb/v1/devices/${device(side)}/telemetry`, deviceId: device(side), reasonCode: 'malformed_json', reason: 'x', payloadExcerpt: null }])
  }
  await upsertRule(db, { id: 'rule-a', type: 'threshold', severity: 'minor', enabled: true, definition: ruleBody('rule-a') })
  await upsertProfile(db, { id: 'profile-a', kind: 'elevator', definition: profileBody('profile-a') })
  const api = await apiFor(db, features, { onRoute: (r) => registered.push(r) })
  app = api.app
  alerts = api.alerts
  const bindings: Record<Role, { companyId?: string; communityId?: string; streetId?: string }> = {
    admin: {},
    operator: {},
    crew: { companyId: 'co-a' },
    service: {},
    resident: { communityId: 'cm-a' },
    street_officer: { streetId: 'st-a' },
  }
  for (const role of ROLES_UNDER_TEST) {
    userIds[role] = await insertUser(db, { name: `${role}-user`, role, ...bindings[role] })
    tokens[role] = (await issueToken(db, userIds[role])).token
  }
  for (const side of ['own', 'other'] as const) {
    members[side] = await insertUser(db, { name: `member-${side}`, role: 'crew', companyId: company(side) })
    const res = await app.inject({ method: 'PUT', url: `/api/v1/rotas/rota-${side}`, headers: { authorization: `Bearer ${tokens.admin}` }, payload: rotaBody(side) })
    if (res.statusCode !== 200) throw new Error(`rota fixture: ${res.body}`)
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const addr = app.server.address()
  port = typeof addr === 'object' && addr !== null ? addr.port : 0
})

afterAll(async () => {
  await app.close()
  await db.close()
})

/** The stream never ends; its status is read from the response head. */
function streamStatus(token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/alerts/stream', headers: { authorization: `Bearer ${token}` } }, (res) => {
      resolve(res.statusCode ?? 0)
      req.destroy()
    })
    req.on('error', reject)
  })
}

describe('role isolation', () => {
  it('the matrix covers every registered /api route', () => {
    const routes = new Set(registered.filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`))
    const covered = new Set(MATRIX.map((r) => r.route))
    expect([...routes].filter((r) => !covered.has(r)).sort()).toEqual([])
    expect([...covered].filter((r) => !routes.has(r)).sort()).toEqual([])
  })

  for (const row of MATRIX) {
    it(row.route, async () => {
      const seen: string[] = []
      for (const role of ROLES_UNDER_TEST) {
        for (const [i, side] of (['own', 'other'] as const).entries()) {
          const expected = row.expect[role][i]
          if (row.route === 'GET /api/v1/alerts/stream') {
            seen.push(`${role}/${side}: ${await streamStatus(tokens[role])} (want ${expected})`)
            continue
          }
          const r = await row.req(side, role)
          const headers = { authorization: `Bearer ${tokens[role]}`, ...(r.contentType === undefined ? {} : { 'content-type': r.contentType }) }
          const res = await app.inject({ method: r.method, url: r.url, headers, ...(r.body === undefined ? {} : { payload: r.body as object }) })
          seen.push(`${role}/${side}: ${res.statusCode} (want ${expected})`)
          if (res.statusCode >= 400) {
            // Refusals carry a code from the catalogue and a message.
            const body = res.json<{ code?: unknown; message?: unknown }>()
            expect(typeof body.code, `${r.method} ${r.url}`).toBe('string')
            expect(typeof body.message, `${r.method} ${r.url}`).toBe('string')
          }
          if ((role === 'crew' || role === 'resident' || role === 'street_officer') && res.statusCode < 300) {
            for (const marker of OTHER_MARKERS) expect(res.body, `${role} ${r.method} ${r.url} shows ${marker}`).not.toContain(marker)
          }
        }
      }
      expect(seen).toEqual(seen.map((s) => s.replace(/: (\d+) \(want (\d+)\)/, ': $2 (want $2)')))
    })
  }
})
