// Provisioning: companies, communities and devices with fresh secrets, the demo community of the
// all-in-one mode, and the first admin token. Secrets are returned once and stored only hashed.
import { createStreet, getStreet } from './repos/streets.ts'
import { chmod, readFile, writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { DeviceKind } from './contract.ts'
import type { Db } from './db/client.ts'
import type { Logger } from './log.ts'
import { DEMO_PLAN_COMMUNITY, demoPlanImage, demoPlanPositions } from './demo-plan.ts'
import { DEMO_DEVICE_NAME, DEMO_NAMES, nameIn } from '../shared/demo-names.ts'
import { devicesAmong, getDevice, insertDevice, updateDevice } from './repos/devices.ts'
import { listSitePlans, putSitePlan, setPlanPosition } from './repos/site-plans.ts'
import { assignCommunity, createCommunity, createCompany, getCommunity, getCompany, updateCommunity, updateCompany } from './repos/registry.ts'
import { findUserByName, insertUser, issueToken, passwordHashOf, resolveToken } from './repos/tokens.ts'
import { resetPassword } from './passwords.ts'
import { newSecrets } from './secrets.ts'

export interface DeviceCredential {
  id: string
  kind: DeviceKind
  secret: string
  gatewayId: string | null
  communityId: string
}

export interface DeviceSpec {
  id: string
  kind: DeviceKind
  communityId: string
  gatewayId?: string | null
  name?: string
  expectedIntervalS?: number
  /** OneNET / CTWing pushes may name it by its id (DeviceRecord.platformIdFallback): the simulated platforms do. */
  platformIdFallback?: boolean
  /** Where it is (楼号, 单元): set when the device is created, as the CSV import's columns. */
  building?: string
  unit?: string
}

/**
 * Creates devices (gateways before their children) or, for ids that exist, gives them a new
 * secret. Returns every device's secret in clear, the only time it is seen.
 */
export async function provisionDevices(db: Db, specs: readonly DeviceSpec[]): Promise<DeviceCredential[]> {
  const ordered = [...specs].sort((a, b) => Number(b.kind === 'gateway') - Number(a.kind === 'gateway'))
  const issued = await newSecrets(ordered.length)
  await db.transaction(async (tx) => {
    for (const [i, d] of ordered.entries()) {
      const secretHash = issued[i]?.secretHash ?? ''
      // An existing device gets a new secret; updateDevice announces it, so caches of the old one
      // (intake/device-login/verified-secrets.ts) and live sessions go.
      if (!(await updateDevice(tx, d.id, { secretHash, platformIdFallback: d.platformIdFallback }))) {
        await insertDevice(tx, {
          id: d.id,
          kind: d.kind,
          name: d.name ?? null,
          communityId: d.communityId,
          gatewayId: d.gatewayId ?? null,
          secretHash,
          expectedIntervalS: d.expectedIntervalS ?? 60,
          platformIdFallback: d.platformIdFallback ?? false,
          building: d.building ?? null,
          unit: d.unit ?? null,
        })
      }
    }
  })
  return ordered.map((d, i) => ({
    id: d.id,
    kind: d.kind,
    secret: issued[i]?.secret ?? '',
    gatewayId: d.gatewayId ?? null,
    communityId: d.communityId,
  }))
}

/**
 * Lets OneNET / CTWing pushes name these devices by their ids (DeviceRecord.platformIdFallback):
 * for the simulated platforms of the demo, the simulator and the benchmark, which send no IMEI.
 */
export async function allowPlatformIdPushes(db: Db, ids: readonly string[]): Promise<void> {
  await db.transaction(async (tx) => {
    for (const id of ids) await updateDevice(tx, id, { platformIdFallback: true })
  })
}

export interface CommunitySpec {
  id: string
  name: string
  district?: string | null
  street?: string | null
  /** The street (街道/镇) it belongs to, created if missing. */
  streetOf?: { id: string; name: string; district?: string | null } | undefined
  address?: string | null
  lat?: number | null
  lon?: number | null
}

/**
 * Creates the company and the community looked after by it, each only if missing, through the
 * registry (so the community's assignment history starts with this company).
 */
export async function provisionCommunity(db: Db, company: { id: string; name: string }, community: CommunitySpec): Promise<void> {
  await db.transaction(async (tx) => {
    if (!(await getCompany(tx, company.id))) await createCompany(tx, { id: company.id, name: company.name, contact: null })
    if (await getCommunity(tx, community.id)) return
    const st = community.streetOf
    if (st && !(await getStreet(tx, st.id))) await createStreet(tx, { id: st.id, name: st.name, district: st.district ?? null })
    await createCommunity(tx, community.id, {
      name: community.name,
      district: community.district ?? null,
      street: community.street ?? null,
      streetId: st?.id ?? null,
      address: community.address ?? null,
      lat: community.lat ?? null,
      lon: community.lon ?? null,
    })
    await assignCommunity(tx, community.id, company.id, 'provisioning', null)
  })
}

/** Writes a file only its owner can read (credentials, tokens). */
export async function writePrivateFile(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, content, { mode: 0o600 })
  await chmod(file, 0o600)
}

export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * The admin user and a token for it. The token is written to `$DATA_DIR/admin-token` (mode 0600)
 * when that file is missing; `created` tells the caller to print it, once.
 */
export async function ensureAdminToken(db: Db, dataDir: string): Promise<{ token: string; created: boolean; file: string }> {
  const file = path.join(dataDir, 'admin-token')
  const existing = (await readIfExists(file))?.trim()
  // A token of another database (the embedded one started anew) is replaced, and shown again.
  if (existing && (await resolveToken(db, existing))) return { token: existing, created: false, file }
  const userId = (await findUserByName(db, 'admin'))?.id ?? (await insertUser(db, { name: 'admin', role: 'admin' }))
  const { token } = await issueToken(db, userId, { label: 'created at first start' })
  await writePrivateFile(file, `${token}\n`)
  return { token, created: true, file }
}

/**
 * A one-time password for the `admin` user when it has none (the first start): shown once in the
 * start banner, to be changed at the first sign-in to the console; undefined afterwards.
 */
export async function ensureAdminPassword(db: Db): Promise<string | undefined> {
  const admin = await findUserByName(db, 'admin')
  if (!admin || (await passwordHashOf(db, admin.id)) !== null) return undefined
  return (await resetPassword(db, admin.id)).password
}

/**
 * The all-in-one rules engine's service token, kept in `$DATA_DIR/rules-token` (mode 0600) so a
 * restart reuses it instead of piling up tokens.
 */
export async function ensureServiceToken(db: Db, dataDir: string, name: string): Promise<string> {
  const file = path.join(dataDir, `${name}-token`)
  const existing = (await readIfExists(file))?.trim()
  if (existing && (await resolveToken(db, existing))) return existing
  const userId = (await findUserByName(db, name))?.id ?? (await insertUser(db, { name, role: 'service' }))
  const { token } = await issueToken(db, userId, { label: 'all-in-one rules engine' })
  await writePrivateFile(file, `${token}\n`)
  return token
}

/**
 * The demo district: two property companies, two communities in two streets, a few dozen devices
 * of each kind, named as a Shanghai office names them (shared/demo-names.ts gives the English
 * console English).
 */
export function demoLayout(): { companies: { id: string; name: string }[]; communities: (CommunitySpec & { companyId: string })[]; devices: DeviceSpec[] } {
  const N = DEMO_NAMES
  const companies = [
    { id: 'co-jinxiu', name: N.jinxiu[0] },
    { id: 'co-hongqiao', name: N.hongqiao[0] },
  ]
  const communities = [
    { id: 'cm-gumei', name: N.gumei[0], district: N.minhang[0], street: N.gumeiRoad[0], address: N.gumeiAddress[0], lat: 31.152, lon: 121.404, companyId: 'co-jinxiu', streetOf: { id: 'st-gumei', name: N.gumeiSubdistrict[0], district: N.minhang[0] } },
    { id: 'cm-xinzhuang', name: N.xinzhuang[0], district: N.minhang[0], street: N.xinzhuangTown[0], address: N.xinzhuangAddress[0], lat: 31.113, lon: 121.385, companyId: 'co-hongqiao', streetOf: { id: 'st-xinzhuang', name: N.xinzhuangTown[0], district: N.minhang[0] } },
  ]
  const devices: DeviceSpec[] = []
  const pad = (n: number) => String(n).padStart(3, '0')
  const name = DEMO_DEVICE_NAME
  for (const c of communities) {
    const tag = c.id.slice(3)
    const gateway = `gw-${tag}-01`
    devices.push({ id: gateway, kind: 'gateway', communityId: c.id, name: name.gateway(c.name), expectedIntervalS: 30 })
    for (let i = 1; i <= 15; i++) {
      // Two thirds of the manholes report through the gateway, as battery sensors on LoRa do.
      devices.push({ id: `mh-${tag}-${pad(i)}`, kind: 'manhole', communityId: c.id, gatewayId: i <= 10 ? gateway : null, name: name.manhole(i), expectedIntervalS: 30 })
    }
    // One tank on the roof and one elevator in each of the twelve buildings (core/demo-plan.ts).
    const place = (i: number) => ({ building: String(i), unit: '1' })
    for (let i = 1; i <= 12; i++) devices.push({ id: `ft-${tag}-${pad(i)}`, kind: 'fire_tank', communityId: c.id, name: name.fire_tank(i), expectedIntervalS: 30, ...place(i) })
    for (let i = 1; i <= 12; i++) devices.push({ id: `el-${tag}-${pad(i)}`, kind: 'elevator', communityId: c.id, name: name.elevator(i), expectedIntervalS: 30, ...place(i) })
  }
  return { companies, communities, devices }
}

/**
 * A demo provisioned before its names were Chinese (issue 21) gets them: each name, street and
 * address still as the demo wrote it in English; one the office changed stays theirs.
 */
async function renameEnglishDemo(db: Db): Promise<void> {
  const { companies, communities, devices } = demoLayout()
  const was = (stored: string | null | undefined, now: string | null | undefined) => now != null && stored === nameIn('en', now) && stored !== now
  await db.transaction(async (tx) => {
    for (const c of companies) if (was((await getCompany(tx, c.id))?.name, c.name)) await updateCompany(tx, c.id, { name: c.name })
    for (const c of communities) {
      const row = await getCommunity(tx, c.id)
      const fields = (['name', 'district', 'street', 'address'] as const).filter((k) => was(row?.[k], c[k]))
      if (fields.length > 0) await updateCommunity(tx, c.id, Object.fromEntries(fields.map((k) => [k, c[k]])))
    }
    for (const d of devices) if (was((await getDevice(tx, d.id))?.name, d.name)) await updateDevice(tx, d.id, { name: d.name })
  })
}

/** The demo community's site plan with its devices placed on it, unless it has a plan already (an office's own). */
async function ensureDemoPlan(db: Db): Promise<void> {
  if ((await listSitePlans(db, [DEMO_PLAN_COMMUNITY])).length > 0) return
  const { bytes, width, height, sha256 } = demoPlanImage()
  await db.transaction(async (tx) => {
    await putSitePlan(tx, { communityId: DEMO_PLAN_COMMUNITY, contentType: 'image/png', width, height, sha256, bytes, uploadedBy: 'demo', uploadedAt: new Date() })
    for (const [id, at] of demoPlanPositions(DEMO_PLAN_COMMUNITY.slice(3))) await setPlanPosition(tx, id, at)
  })
}

/**
 * Provisions the demo on first start and makes sure its credentials file exists. When the
 * database already has the demo but the file is gone (a new DATA_DIR against the same server),
 * the demo devices get new secrets, since the old ones cannot be recovered from their hashes.
 */
export async function ensureDemo(db: Db, dataDir: string, log: Logger): Promise<{ file: string; credentials: DeviceCredential[] }> {
  const file = path.join(dataDir, 'demo-devices.json')
  const existing = await readIfExists(file)
  if (existing) {
    const credentials = JSON.parse(existing) as DeviceCredential[]
    const ids = credentials.map((c) => c.id)
    if ((await devicesAmong(db, ids)).length === ids.length) {
      await renameEnglishDemo(db)
      return { file, credentials }
    }
  }
  const layout = demoLayout()
  for (const c of layout.communities) {
    const company = layout.companies.find((co) => co.id === c.companyId)
    if (company) await provisionCommunity(db, company, c)
  }
  const credentials = await provisionDevices(db, layout.devices)
  await renameEnglishDemo(db)
  await ensureDemoPlan(db)
  await writePrivateFile(file, `${JSON.stringify(credentials, null, 2)}\n`)
  log.info({ devices: credentials.length, file }, 'provisioned the demo community')
  return { file, credentials }
}
