// The reads the console is built on (issue 8): the map in one request, scoped by role and
// coloured by the worst unresolved alert; a device's online/offline and last seen; the ranking of
// the last periods in one request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { AlertService } from '../../alerts/service.ts'
import type { Db } from '../../core/db/client.ts'
import { openDb } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { insertDevice, setDeviceStatus } from '../../core/repos/devices.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { apiFor } from '../helpers/api.ts'

let db: Db
let app: App
let alerts: AlertService
let admin: Record<string, string>
let crewA: Record<string, string>

interface MapBody {
  communities: { id: string; lat: number | null; worst: { severity: string; alertId: number; unresolved: number } | null }[]
  devices: { id: string; lat: number | null; lon: number | null; connectivity: string; basis: string | null; lastSeenAt: string | null; worst: { severity: string; alertId: number } | null }[]
  truncated: boolean
}

async function raise(deviceId: string, severity: 'critical' | 'major' | 'minor', ruleId = `r-${Math.random().toString(36).slice(2)}`): Promise<number> {
  const { alert } = await alerts.report({ ruleId, deviceId, condition: 'active', source: 'operator', severity, title: `${severity} on ${deviceId}` }, 'test')
  if (!alert) throw new Error('no alert')
  return alert.id
}

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  for (const [co, cm, lat] of [['co-a', 'cm-a', 31.1], ['co-b', 'cm-b', 31.2]] as const) {
    await createCompany(db, { id: co, name: `${co} Property`, contact: null })
    await createCommunity(db, cm, { name: `${cm} Garden`, district: 'Minhang', street: null, address: null, lat, lon: 121.4 })
    await assignCommunity(db, cm, co, 'fixture', null)
  }
  await provisionDevices(db, [
    { id: 'el-a1', kind: 'elevator', communityId: 'cm-a' },
    { id: 'mh-a2', kind: 'manhole', communityId: 'cm-a' },
    { id: 'el-b1', kind: 'elevator', communityId: 'cm-b' },
  ])
  const api = await apiFor(db, features)
  app = api.app
  alerts = api.alerts
  admin = { authorization: `Bearer ${api.token}` }
  const crewId = await insertUser(db, { name: 'crew-a', role: 'crew', companyId: 'co-a' })
  crewA = { authorization: `Bearer ${(await issueToken(db, crewId)).token}` }
})

afterAll(async () => {
  await app.close()
  await db.close()
})

describe('the map', () => {
  it("shows a crew member only their company's communities and devices", async () => {
    await raise('el-b1', 'critical')
    const res = await app.inject({ url: '/api/v1/map', headers: crewA })
    expect(res.statusCode).toBe(200)
    const body = res.json<MapBody>()
    expect(body.communities.map((c) => c.id)).toEqual(['cm-a'])
    expect(body.devices.map((d) => d.id).sort()).toEqual(['el-a1', 'mh-a2'])
    expect(res.body).not.toContain('co-b')
    const office = (await app.inject({ url: '/api/v1/map', headers: admin })).json<MapBody>()
    expect(office.communities.map((c) => c.id).sort()).toEqual(['cm-a', 'cm-b'])
    expect(office.devices.find((d) => d.id === 'el-b1')?.worst?.severity).toBe('critical')
  })

  it('colours a marker by the worst unresolved alert, not a resolved one', async () => {
    const critical = await raise('el-a1', 'critical')
    await alerts.act(critical, 'resolve', 'crew-a', 'fixed')
    await raise('el-a1', 'minor')
    const major = await raise('el-a1', 'major')
    const body = (await app.inject({ url: '/api/v1/map', headers: crewA })).json<MapBody>()
    expect(body.devices.find((d) => d.id === 'el-a1')?.worst).toEqual({ severity: 'major', alertId: major, unresolved: 2 })
    expect(body.devices.find((d) => d.id === 'mh-a2')?.worst).toBeNull()
    expect(body.communities.find((c) => c.id === 'cm-a')?.worst).toMatchObject({ severity: 'major', alertId: major, unresolved: 2 })
    expect(body.truncated).toBe(false)
  })
  it('places a device at its own coordinates when it has them (imported from CSV), else leaves it to its community', async () => {
    await insertDevice(db, { id: 'ft-a3', kind: 'fire_tank', communityId: 'cm-a', secretHash: 'x', latitude: 31.1234, longitude: 121.4321 })
    const body = (await app.inject({ url: '/api/v1/map', headers: crewA })).json<MapBody>()
    expect(body.devices.find((d) => d.id === 'ft-a3')).toMatchObject({ lat: 31.1234, lon: 121.4321 })
    expect(body.devices.find((d) => d.id === 'el-a1')).toMatchObject({ lat: null, lon: null })
  })
})

describe('device status', () => {
  it('is unknown with nothing heard, then judged by the newest reading, then by the status message', async () => {
    const status = async () => (await app.inject({ url: '/api/v1/devices/mh-a2/status', headers: crewA })).json<{ connectivity: string; basis: string | null; lastSeenAt: string | null }>()
    expect(await status()).toMatchObject({ connectivity: 'unknown', basis: null, lastSeenAt: null })
    const heard = new Date(Date.now() - 30_000)
    await db.query('INSERT INTO latest (device_id, metric, ts, value, received_at) VALUES ($1, $2, $3, $4, $3)', ['mh-a2', 'tilt_deg', heard, 1.5])
    expect(await status()).toEqual({ deviceId: 'mh-a2', statusChangedAt: null, connectivity: 'online', basis: 'readings', lastSeenAt: heard.toISOString() })
    await db.query('UPDATE latest SET received_at = $2 WHERE device_id = $1', ['mh-a2', new Date(Date.now() - 86_400_000)])
    expect(await status()).toMatchObject({ connectivity: 'offline', basis: 'readings' })
    await setDeviceStatus(db, { id: 'mh-a2', bucket: 0 }, 'online')
    expect(await status()).toMatchObject({ connectivity: 'online', basis: 'status' })
    // The map says the same.
    const onMap = (await app.inject({ url: '/api/v1/map', headers: crewA })).json<MapBody>().devices.find((d) => d.id === 'mh-a2')
    expect(onMap).toMatchObject({ connectivity: 'online', basis: 'status' })
  })

  it('is online when readings arrive after an offline status (a device posting over HTTP after its MQTT link dropped), offline by its status before', async () => {
    const status = async () => (await app.inject({ url: '/api/v1/devices/el-a1/status', headers: crewA })).json<{ connectivity: string; basis: string | null }>()
    await db.query('INSERT INTO latest (device_id, metric, ts, value, received_at) VALUES ($1, $2, $3, $4, $3)', ['el-a1', 'running', new Date(Date.now() - 60_000), 1])
    await setDeviceStatus(db, { id: 'el-a1', bucket: 0 }, 'offline')
    expect(await status()).toMatchObject({ connectivity: 'offline', basis: 'status' })
    // A reading received after the Last Will: the device is heard, whatever its MQTT session said.
    const heard = new Date(Date.now() + 1000)
    await db.query('UPDATE latest SET received_at = $2, ts = $2 WHERE device_id = $1', ['el-a1', heard])
    expect(await status()).toMatchObject({ connectivity: 'online', basis: 'readings' })
    const onMap = (await app.inject({ url: '/api/v1/map', headers: crewA })).json<MapBody>().devices.find((d) => d.id === 'el-a1')
    expect(onMap).toMatchObject({ connectivity: 'online', basis: 'readings' })
  })

  it("is not found for another company's device", async () => {
    const res = await app.inject({ url: '/api/v1/devices/el-b1/status', headers: crewA })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ code: 'device_not_found' })
  })
})

describe('score history', () => {
  it('answers the last periods in one request, oldest first, each as the ranking scores it', async () => {
    const to = new Date()
    const res = await app.inject({ url: `/api/v1/evaluation/history?periods=3&period=7d&to=${to.toISOString()}`, headers: admin })
    expect(res.statusCode).toBe(200)
    const body = res.json<{ periodMs: number; periods: { from: string; to: string; items: { companyId: string; score: number | null; alerts: number }[] }[] }>()
    expect(body.periodMs).toBe(7 * 86_400_000)
    expect(body.periods.map((p) => p.to)).toEqual([14, 7, 0].map((d) => new Date(to.getTime() - d * 86_400_000).toISOString()))
    const ranking = (await app.inject({ url: `/api/v1/evaluation/ranking?from=${body.periods[2]?.from ?? ''}&to=${to.toISOString()}`, headers: admin })).json<{ items: { companyId: string; score: number | null; alerts: number }[] }>()
    const newest = body.periods[2]?.items ?? []
    for (const r of ranking.items) expect(newest.find((i) => i.companyId === r.companyId)).toMatchObject({ score: r.score, alerts: r.alerts })
    expect(newest.find((i) => i.companyId === 'co-a')?.alerts).toBeGreaterThan(0)
  })

  it('is for the office, and refuses more than 24 periods', async () => {
    expect((await app.inject({ url: '/api/v1/evaluation/history', headers: crewA })).statusCode).toBe(403)
    const res = await app.inject({ url: '/api/v1/evaluation/history?periods=25', headers: admin })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'validation_failed' })
  })
})
