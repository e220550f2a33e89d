// Site plans of communities and devices placed on them: the image is judged by its bytes and its
// size read from its header, refusals answer with a code, the image comes back with an ETag that
// a browser revalidates, positions are fractions (0..1) that survive a plan of another resolution,
// and only the office changes any of it. Also the map's base layer, as the settings give it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { assignCommunity, createCommunity, createCompany } from '../../core/repos/registry.ts'
import { type Role } from '../../shared/domain.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { apiFor } from '../helpers/api.ts'
import { tinyPng } from '../helpers/images.ts'

const MAX_BYTES = 64 * 1024
let db: Db
let app: App
const who = {} as Record<'admin' | 'operator' | 'crewA' | 'residentA', Record<string, string>>

async function user(name: string, role: Role, extra: { companyId?: string; communityId?: string } = {}): Promise<Record<string, string>> {
  const id = await insertUser(db, { name, role, ...extra })
  return { authorization: `Bearer ${(await issueToken(db, id)).token}` }
}

const putPlan = (community: string, body: Buffer, headers: Record<string, string>, type = 'application/octet-stream') =>
  app.inject({ method: 'PUT', url: `/api/v1/communities/${community}/site-plan`, headers: { ...headers, 'content-type': type }, payload: body })
const place = (device: string, body: unknown, headers = who.operator) => app.inject({ method: 'PUT', url: `/api/v1/devices/${device}/plan-position`, headers, payload: body as object })
const mapOf = async () => app.inject({ method: 'GET', url: '/api/v1/map', headers: who.admin }).then((r) => r.json<{ communities: { id: string; plan: { width: number; height: number; etag: string } | null }[]; devices: { id: string; planX: number | null; planY: number | null }[] }>())
const deviceOn = async (id: string) => (await mapOf()).devices.find((d) => d.id === id)

/** A JPEG's first segments: SOI, an APP0 to skip, then SOF0 with its height and width (ITU T.81 §B.2.2). */
function jpegHeader(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0])
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.from([0xff, 0xd9])])
}

/** A WebP with a VP8X chunk: the canvas size minus one, 24 bits little-endian (RFC 9649 §2.7). */
function webpHeader(width: number, height: number): Buffer {
  const vp8x = Buffer.alloc(18)
  vp8x.write('VP8X', 0, 'latin1')
  vp8x.writeUInt32LE(10, 4)
  vp8x.writeUIntLE(width - 1, 12, 3)
  vp8x.writeUIntLE(height - 1, 15, 3)
  const head = Buffer.alloc(12)
  head.write('RIFF', 0, 'latin1')
  head.writeUInt32LE(4 + vp8x.length, 4)
  head.write('WEBP', 8, 'latin1')
  return Buffer.concat([head, vp8x])
}

/** A PNG whose header claims `size`×`size` pixels (only the IHDR is rewritten). */
function pngClaiming(size: number): Buffer {
  const png = Buffer.from(tinyPng())
  png.writeUInt32BE(size, 16)
  png.writeUInt32BE(size, 20)
  return png
}

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  for (const side of ['a', 'b']) {
    await createCompany(db, { id: `co-${side}`, name: `Company ${side}`, contact: null })
    await createCommunity(db, `cm-${side}`, { name: `Community ${side}`, district: null, street: null, address: null, lat: null, lon: null })
    await assignCommunity(db, `cm-${side}`, `co-${side}`, 'fixture', null)
  }
  await provisionDevices(db, [
    { id: 'el-a', kind: 'elevator', communityId: 'cm-a' },
    { id: 'mh-a', kind: 'manhole', communityId: 'cm-a' },
    { id: 'el-b', kind: 'elevator', communityId: 'cm-b' },
  ])
  const api = await apiFor(db, features, {
    map: { sitePlanMaxBytes: MAX_BYTES, tileUrl: 'https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY', tileAttribution: '天地图', tileSubdomains: ['0', '1'], tileMaxZoom: 18 },
  })
  app = api.app
  who.admin = { authorization: `Bearer ${api.token}` }
  who.operator = await user('op', 'operator')
  who.crewA = await user('crew-a', 'crew', { companyId: 'co-a' })
  who.residentA = await user('resident-a', 'resident', { communityId: 'cm-a' })
})

afterAll(async () => {
  await app.close()
  await db.close()
})

describe('site plans', () => {
  it('stores a plan judged by its bytes, with its pixel size, and serves it with an ETag the browser revalidates', async () => {
    const png = tinyPng(40)
    // The header says octet-stream: the bytes decide.
    const res = await putPlan('cm-a', png, who.operator)
    expect(res.statusCode).toBe(200)
    const plan = res.json<{ contentType: string; width: number; height: number; size: number; etag: string; url: string }>()
    expect(plan).toMatchObject({ contentType: 'image/png', width: 40, height: 40, size: png.length, url: '/api/v1/communities/cm-a/site-plan' })
    const img = await app.inject({ method: 'GET', url: plan.url, headers: who.crewA })
    expect(img.statusCode).toBe(200)
    expect(img.headers['content-type']).toBe('image/png')
    expect(img.headers.etag).toBe(plan.etag)
    expect(img.headers['cache-control']).toBe('private, no-cache')
    expect(img.rawPayload.equals(png)).toBe(true)
    const again = await app.inject({ method: 'GET', url: plan.url, headers: { ...who.crewA, 'if-none-match': plan.etag } })
    expect(again.statusCode).toBe(304)
    expect(again.rawPayload.length).toBe(0)
    expect((await mapOf()).communities.find((c) => c.id === 'cm-a')?.plan).toMatchObject({ width: 40, height: 40, etag: plan.etag })
    // Audited as what it is, without the bytes.
    const [row] = await db.query<{ action: string; body: unknown }>("SELECT action, body FROM audit_log WHERE action = 'site_plans.set' ORDER BY id DESC LIMIT 1")
    expect(row).toEqual({ action: 'site_plans.set', body: { contentType: 'application/octet-stream', bytes: png.length } })
  })

  it('reads the size of a JPEG and a WebP from their headers', async () => {
    const jpeg = await putPlan('cm-b', jpegHeader(500, 300), who.admin, 'image/jpeg')
    expect(jpeg.json()).toMatchObject({ contentType: 'image/jpeg', width: 500, height: 300 })
    const webp = await putPlan('cm-b', webpHeader(1200, 800), who.admin, 'image/webp')
    expect(webp.json()).toMatchObject({ contentType: 'image/webp', width: 1200, height: 800 })
  })

  it('refuses what is not a plan, each with its code', async () => {
    const text = await putPlan('cm-a', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), who.operator, 'image/png')
    expect([text.statusCode, text.json<{ code: string }>().code]).toEqual([415, 'unsupported_site_plan_type'])
    const big = await putPlan('cm-a', Buffer.concat([tinyPng(), Buffer.alloc(MAX_BYTES)]), who.operator)
    expect([big.statusCode, big.json<{ code: string }>().code]).toEqual([413, 'site_plan_too_large'])
    expect(big.json<{ message: string }>().message).toContain('SITE_PLAN_MAX_BYTES')
    const huge = await putPlan('cm-a', pngClaiming(20_000), who.operator)
    expect([huge.statusCode, huge.json<{ code: string }>().code]).toEqual([422, 'site_plan_unreadable'])
    const empty = await putPlan('cm-a', Buffer.alloc(0), who.operator)
    expect([empty.statusCode, empty.json<{ code: string }>().code]).toEqual([400, 'validation_failed'])
    const missing = await putPlan('cm-nowhere', tinyPng(), who.operator)
    expect(missing.statusCode).toBe(404)
    // The plan that was there is still the one served.
    expect((await mapOf()).communities.find((c) => c.id === 'cm-a')?.plan).toMatchObject({ width: 40 })
  })

  it('places devices at fractions of the plan, refuses positions outside 0..1, and keeps them through a new plan', async () => {
    const ok = await place('el-a', { x: 0.25, y: 0.75 })
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toEqual({ deviceId: 'el-a', x: 0.25, y: 0.75 })
    expect(await deviceOn('el-a')).toMatchObject({ planX: 0.25, planY: 0.75 })
    for (const [body, field] of [
      [{ x: 1.5, y: 0.5 }, 'x'],
      [{ x: 0.5, y: -0.1 }, 'y'],
      [{ x: 0.5 }, 'y'],
      [{ x: '0.5', y: 0.5 }, 'x'],
    ] as const) {
      const res = await place('el-a', body)
      expect([res.statusCode, res.json<{ code: string }>().code], JSON.stringify(body)).toEqual([400, 'validation_failed'])
      expect(res.json<{ message: string }>().message).toContain(field)
    }
    expect(await deviceOn('el-a')).toMatchObject({ planX: 0.25, planY: 0.75 })
    // A plan of another resolution: the device stands at the same fraction of it.
    expect((await putPlan('cm-a', tinyPng(100), who.operator)).statusCode).toBe(200)
    expect(await deviceOn('el-a')).toMatchObject({ planX: 0.25, planY: 0.75 })
    expect((await mapOf()).communities.find((c) => c.id === 'cm-a')?.plan).toMatchObject({ width: 100, height: 100 })
    // Taken off, it is listed beside the plan again.
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/devices/el-a/plan-position', headers: who.operator })).statusCode).toBe(204)
    expect(await deviceOn('el-a')).toMatchObject({ planX: null, planY: null })
  })

  it('refuses to place a device of a community without a plan; deleting a plan keeps the positions for the next', async () => {
    expect((await place('mh-a', { x: 0, y: 1 })).statusCode).toBe(200)
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/communities/cm-a/site-plan', headers: who.operator })).statusCode).toBe(204)
    expect((await app.inject({ method: 'GET', url: '/api/v1/communities/cm-a/site-plan', headers: who.operator })).statusCode).toBe(404)
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/communities/cm-a/site-plan', headers: who.operator })).statusCode).toBe(404)
    expect((await mapOf()).communities.find((c) => c.id === 'cm-a')?.plan).toBeNull()
    const refused = await place('el-a', { x: 0.5, y: 0.5 })
    expect([refused.statusCode, refused.json<{ code: string }>().code]).toEqual([409, 'no_site_plan'])
    expect(await deviceOn('mh-a')).toMatchObject({ planX: 0, planY: 1 })
  })

  it('lets only the office change plans and positions; a crew member sees their company\'s plans, a resident none', async () => {
    await putPlan('cm-a', tinyPng(16), who.admin)
    expect((await putPlan('cm-a', tinyPng(), who.crewA)).statusCode).toBe(403)
    expect((await place('el-a', { x: 0.5, y: 0.5 }, who.crewA)).statusCode).toBe(403)
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/communities/cm-a/site-plan', headers: who.crewA })).statusCode).toBe(403)
    expect((await app.inject({ method: 'GET', url: '/api/v1/communities/cm-a/site-plan', headers: who.crewA })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/api/v1/communities/cm-b/site-plan', headers: who.crewA })).statusCode).toBe(404)
    expect((await app.inject({ method: 'GET', url: '/api/v1/communities/cm-a/site-plan', headers: who.residentA })).statusCode).toBe(403)
    const [refusal] = await db.query<{ status: number }>("SELECT status FROM audit_log WHERE action = 'devices.place' AND actor_role = 'crew'")
    expect(refusal?.status).toBe(403)
  })

  it('gives the console the base layer the settings name', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/map/base-layer', headers: who.crewA })
    expect(res.json()).toEqual({
      url: expect.stringContaining('tianditu.gov.cn/vec_w') as string,
      labelUrl: null,
      attribution: '天地图',
      maxZoom: 18,
      subdomains: ['0', '1'],
    })
    // The console may load the tiles: the Content-Security-Policy names each tile host, no other.
    const csp = res.headers['content-security-policy']
    expect(csp).toMatch(/img-src 'self' data: blob: https:\/\/t0\.tianditu\.gov\.cn https:\/\/t1\.tianditu\.gov\.cn;/)
  })
})
