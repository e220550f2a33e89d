// The demo's first start shows a site plan (issue 20, the map): Xinzhuang Garden gets a plan drawn
// from the same layout as the positions, every one of its devices placed on it, elevators and tanks
// with their building — and a plan the office uploaded itself is never replaced.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDb } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { DEMO_PLAN_COMMUNITY, demoPlanImage } from '../../core/demo-plan.ts'
import { sniffImage, imageSize } from '../../core/images.ts'
import { silentLogger } from '../../core/log.ts'
import { demoLayout, ensureDemo, provisionCommunity, provisionDevices } from '../../core/provision.ts'
import { getCommunity, getCompany } from '../../core/repos/registry.ts'
import { getDevice } from '../../core/repos/devices.ts'
import { deviceConnectivity } from '../../core/repos/map.ts'
import { getSitePlan, listSitePlans, putSitePlan } from '../../core/repos/site-plans.ts'

describe('the demo community site plan', () => {
  it('is drawn, stored and has every device of the community placed inside it', { timeout: 120_000 }, async () => {
    const db = await openDb({})
    await migrate(db, { log: silentLogger })
    await ensureDemo(db, await mkdtemp(path.join(tmpdir(), 'hb-demo-')), silentLogger)
    const plan = await getSitePlan(db, DEMO_PLAN_COMMUNITY)
    if (!plan) throw new Error('no site plan for the demo community')
    const bytes = Buffer.from(plan.bytes)
    expect(sniffImage(bytes)).toBe('image/png')
    expect(imageSize('image/png', bytes)).toEqual({ width: plan.width, height: plan.height })
    const mine = demoLayout().devices.filter((d) => d.communityId === DEMO_PLAN_COMMUNITY).map((d) => d.id)
    const placed = (await deviceConnectivity(db, { limit: 1000 })).filter((d) => mine.includes(d.id))
    expect(placed).toHaveLength(mine.length)
    for (const d of placed) {
      expect(d.planX, d.id).toBeGreaterThan(0)
      expect(d.planX, d.id).toBeLessThan(1)
      expect(d.planY, d.id).toBeGreaterThan(0)
      expect(d.planY, d.id).toBeLessThan(1)
    }
    // No two devices on the same spot.
    expect(new Set(placed.map((d) => `${d.planX},${d.planY}`)).size).toBe(placed.length)
    expect(await getDevice(db, 'el-xinzhuang-007')).toMatchObject({ building: '7', unit: '1' })
    await db.close()
  })

  it("leaves an office's own plan alone when the demo is provisioned again", { timeout: 120_000 }, async () => {
    const db = await openDb({})
    await migrate(db, { log: silentLogger })
    const dir = await mkdtemp(path.join(tmpdir(), 'hb-demo-'))
    await ensureDemo(db, dir, silentLogger)
    const own = demoPlanImage()
    await putSitePlan(db, { communityId: DEMO_PLAN_COMMUNITY, contentType: 'image/png', width: own.width, height: own.height, sha256: 'office', bytes: own.bytes, uploadedBy: 'office', uploadedAt: new Date() })
    // A new data directory against the same database provisions the demo again.
    await ensureDemo(db, await mkdtemp(path.join(tmpdir(), 'hb-demo-')), silentLogger)
    expect((await listSitePlans(db, [DEMO_PLAN_COMMUNITY]))[0]).toMatchObject({ uploadedBy: 'office' })
    await db.close()
  })

  it('gives a demo provisioned with English names its Chinese ones, leaving a name the office changed (issue 21)', { timeout: 120_000 }, async () => {
    const db = await openDb({})
    await migrate(db, { log: silentLogger })
    await provisionCommunity(db, { id: 'co-jinxiu', name: 'Jinxiu Property Management Co.' }, { id: 'cm-gumei', name: 'Gumei No. 3 Village', district: 'Minhang', street: 'Gumei Road', address: '215 Gumei Road' })
    await provisionDevices(db, [
      { id: 'mh-gumei-001', kind: 'manhole', communityId: 'cm-gumei', name: 'Manhole cover 1' },
      { id: 'el-gumei-002', kind: 'elevator', communityId: 'cm-gumei', name: '东门客梯' },
    ])
    await ensureDemo(db, await mkdtemp(path.join(tmpdir(), 'hb-demo-')), silentLogger)
    expect(await getCompany(db, 'co-jinxiu')).toMatchObject({ name: '锦绣物业管理有限公司' })
    expect(await getCommunity(db, 'cm-gumei')).toMatchObject({ name: '古美三村', district: '闵行区', street: '古美路', address: '古美路215号' })
    expect(await getDevice(db, 'mh-gumei-001')).toMatchObject({ name: '1号井盖' })
    expect(await getDevice(db, 'el-gumei-002')).toMatchObject({ name: '东门客梯' })
    await db.close()
  })
})
