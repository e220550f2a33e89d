// Photos of an alert: a crew member's on resolve, a resident's on their hazard report. Limits
// answer with a code and say what to change; the image comes back as it went in, to those who
// may see the alert (and of a resident's report, only to that resident among residents).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import type { AlertService } from '../../alerts/service.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { type Role } from '../../shared/domain.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { apiFor } from '../helpers/api.ts'
import { tinyPng } from '../helpers/images.ts'

const MAX_BYTES = 4096
let db: Db
let app: App
let alerts: AlertService
const who = {} as Record<'admin' | 'crewA' | 'crewB' | 'residentA' | 'neighbourA', Record<string, string>>

async function user(name: string, role: Role, extra: { companyId?: string; communityId?: string }): Promise<Record<string, string>> {
  const id = await insertUser(db, { name, role, ...extra })
  return { authorization: `Bearer ${(await issueToken(db, id)).token}` }
}

async function fresh(): Promise<number> {
  const { alert } = await alerts.report({ ruleId: `r-${Math.random().toString(36).slice(2)}`, deviceId: 'el-a', condition: 'active', source: 'operator', severity: 'major', title: 'Stuck lift' }, 'test')
  if (!alert) throw new Error('no alert')
  return alert.id
}

const upload = (id: number, body: Buffer, headers: Record<string, string>, type = 'image/png') =>
  app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/photos`, headers: { ...headers, 'content-type': type }, payload: body })

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  for (const side of ['a', 'b']) {
    await createCompany(db, { id: `co-${side}`, name: `Company ${side}`, contact: null })
    await createCommunity(db, `cm-${side}`, { name: `Community ${side}`, district: null, street: null, address: null, lat: null, lon: null })
    await assignCommunity(db, `cm-${side}`, `co-${side}`, 'fixture', null)
  }
  await provisionDevices(db, [{ id: 'el-a', kind: 'elevator', communityId: 'cm-a' }])
  const api = await apiFor(db, features, { photos: { maxBytes: MAX_BYTES, perAlert: 2 } })
  app = api.app
  alerts = api.alerts
  who.admin = { authorization: `Bearer ${api.token}` }
  who.crewA = await user('crew-a', 'crew', { companyId: 'co-a' })
  who.crewB = await user('crew-b', 'crew', { companyId: 'co-b' })
  who.residentA = await user('resident-a', 'resident', { communityId: 'cm-a' })
  who.neighbourA = await user('neighbour-a', 'resident', { communityId: 'cm-a' })
})

afterAll(async () => {
  await app.close()
  await db.close()
})

describe('photos', () => {
  it('stores a crew photo, serves it back with its type and shows it in the history', async () => {
    const id = await fresh()
    const png = tinyPng(16)
    const res = await upload(id, png, who.crewA)
    expect(res.statusCode).toBe(201)
    const photo = res.json<{ id: number; contentType: string; size: number; uploadedBy: string; url: string }>()
    expect(photo).toMatchObject({ contentType: 'image/png', size: png.length, uploadedBy: 'crew-a', url: `/api/v1/alerts/${id}/photos/${photo.id}` })
    const got = await app.inject({ url: photo.url, headers: who.admin })
    expect(got.statusCode).toBe(200)
    expect(got.headers['content-type']).toBe('image/png')
    // Issue 18: never rendered in place by a browser that navigates to it.
    expect(got.headers['content-disposition']).toBe(`attachment; filename="alert-${id}-photo-${photo.id}.png"`)
    expect(got.headers['x-content-type-options']).toBe('nosniff')
    expect(got.rawPayload.equals(png)).toBe(true)
    const resolved = await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/resolve`, headers: who.crewA, payload: { note: 'replaced the door sensor' } })
    expect(resolved.statusCode).toBe(200)
    const history = (await app.inject({ url: `/api/v1/alerts/${id}`, headers: who.admin })).json<{ history: { type: string; actor: string; data: Record<string, unknown> | null; note: string | null }[] }>().history
    expect(history.map((e) => e.type)).toEqual(['raised', 'attachment', 'resolved'])
    expect(history[1]).toMatchObject({ actor: 'crew-a', data: { photoId: photo.id, contentType: 'image/png' } })
    expect((await app.inject({ url: `/api/v1/alerts/${id}/photos`, headers: who.crewA })).json<{ items: { id: number }[] }>().items.map((p) => p.id)).toEqual([photo.id])
  })

  it('refuses a photo over PHOTO_MAX_BYTES with 413 photo_too_large', async () => {
    const big = Buffer.concat([tinyPng(), Buffer.alloc(MAX_BYTES)])
    const res = await upload(await fresh(), big, who.crewA)
    expect(res.statusCode).toBe(413)
    expect(res.json()).toMatchObject({ code: 'photo_too_large' })
    expect(res.json<{ message: string }>().message).toMatch(/at most/)
  })

  it('judges the type by the bytes: a PDF named image/png is 415 unsupported_photo_type', async () => {
    const res = await upload(await fresh(), Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n'), who.crewA)
    expect(res.statusCode).toBe(415)
    expect(res.json()).toMatchObject({ code: 'unsupported_photo_type' })
    const empty = await upload(await fresh(), Buffer.alloc(0), who.crewA)
    expect(empty.statusCode).toBe(400)
    expect(empty.json()).toMatchObject({ code: 'validation_failed' })
  })

  it('takes a WebP and a JPEG by their signatures, and at most PHOTOS_PER_ALERT per alert', async () => {
    const id = await fresh()
    const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.from([26, 0, 0, 0]), Buffer.from('WEBPVP8 '), Buffer.alloc(14)])
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9])
    expect((await upload(id, webp, who.crewA, 'application/octet-stream')).json()).toMatchObject({ contentType: 'image/webp' })
    expect((await upload(id, jpeg, who.crewA, 'image/jpeg')).json()).toMatchObject({ contentType: 'image/jpeg' })
    const third = await upload(id, tinyPng(), who.crewA)
    expect(third.statusCode).toBe(409)
    expect(third.json()).toMatchObject({ code: 'too_many_photos' })
  })

  it("is not found for another company's crew, to upload or to look at", async () => {
    const id = await fresh()
    const res = await upload(id, tinyPng(), who.crewB)
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ code: 'not_found' })
    const photo = (await upload(id, tinyPng(), who.crewA)).json<{ url: string }>()
    expect((await app.inject({ url: photo.url, headers: who.crewB })).statusCode).toBe(404)
    expect((await app.inject({ url: `/api/v1/alerts/${id}/photos`, headers: who.crewB })).statusCode).toBe(404)
  })

  it("lets a resident add a photo to their own hazard report, and keeps it from the neighbours", async () => {
    const report = await app.inject({ method: 'POST', url: '/api/v1/hazards', headers: who.residentA, payload: { title: 'Manhole cover missing', location: 'Building 3, east gate' } })
    expect(report.statusCode).toBe(201)
    const id = report.json<{ id: number }>().id
    const photo = await upload(id, tinyPng(12, [20, 120, 220]), who.residentA)
    expect(photo.statusCode).toBe(201)
    const url = photo.json<{ url: string }>().url
    expect((await app.inject({ url, headers: who.residentA })).statusCode).toBe(200)
    expect((await app.inject({ url, headers: who.admin })).headers['content-type']).toBe('image/png')
    expect((await app.inject({ url, headers: who.neighbourA })).statusCode).toBe(404)
    expect((await upload(id, tinyPng(), who.neighbourA)).statusCode).toBe(404)
    // The reporter sees the attachment in their report's history; the neighbour does not see its photo id.
    const own = (await app.inject({ url: `/api/v1/alerts/${id}`, headers: who.residentA })).json<{ history: { type: string; data: unknown }[] }>()
    expect(own.history.find((e) => e.type === 'attachment')?.data).toMatchObject({ contentType: 'image/png' })
    // A neighbour does not see another resident's report at all, until the office makes it public
    // for the community; then still without its photo.
    expect((await app.inject({ url: `/api/v1/alerts/${id}`, headers: who.neighbourA })).statusCode).toBe(404)
    expect((await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/publish`, headers: who.admin, payload: { public: true } })).statusCode).toBe(200)
    const theirs = (await app.inject({ url: `/api/v1/alerts/${id}`, headers: who.neighbourA })).json<{ history: { type: string; data: unknown }[]; location: string | null }>()
    expect(theirs.history.find((e) => e.type === 'attachment')?.data).toBeNull()
    expect(theirs.location).toBeNull()
    expect((await app.inject({ url, headers: who.neighbourA })).statusCode).toBe(404)
  })
})
