// The district map in one read: communities at their coordinates and their devices (at their own
// coordinates when they have them), each with its
// worst unresolved alert and each device with its connectivity — what the console's map draws,
// scoped as everything else is (a crew member: their own company's communities and alerts).
// Each community carries its site plan's size and ETag and each device its place on it, so the
// site plan view (docs/map.md) needs no other read; GET /map/base-layer gives the tile settings.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { DEVICE_KINDS } from '../../core/contract.ts'
import { SEVERITIES } from '../../shared/domain.ts'
import { deviceConnectivity, worstUnresolved, type Worst } from '../../core/repos/map.ts'
import { listCommunities } from '../../core/repos/registry.ts'
import { listSitePlans } from '../../core/repos/site-plans.ts'
import { companyScope, requireRole } from '../access.ts'
import { connectivityOf, connectivitySchema, MAP_MAX_DEVICES } from '../devices/connectivity.ts'
import type { MapSettings } from '../plugins/deps.ts'
import { errorResponses } from '../schemas.ts'


const worst = z
  .object({ severity: z.enum(SEVERITIES), alertId: z.number().int().describe('The worst unresolved alert (the newest of that severity)'), unresolved: z.number().int() })
  .nullable()
  .describe('Its worst unresolved alert and how many are unresolved; null when none is')

const mapSchema = z.object({
  communities: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      lat: z.number().nullable(),
      lon: z.number().nullable().describe('null: no coordinates registered; the console lists it under the map'),
      companyId: z.string().nullable(),
      worst,
      plan: z
        .object({ width: z.number().int(), height: z.number().int(), etag: z.string(), url: z.string() })
        .nullable()
        .describe('Its site plan (pixel size, ETag, where the image is); null: none uploaded'),
    }),
  ),
  devices: z.array(
    connectivitySchema.extend({
      id: z.string(),
      kind: z.enum(DEVICE_KINDS),
      name: z.string().nullable(),
      communityId: z.string(),
      lat: z.number().nullable(),
      lon: z.number().nullable().describe('The device\'s own coordinates (registered or imported); null: it is drawn around its community'),
      planX: z.number().nullable().describe('Where it stands on its community\'s site plan: a fraction of the width from the left (0..1); null: not placed'),
      planY: z.number().nullable().describe('A fraction of the height from the top (0..1)'),
      worst,
    }),
  ),
  truncated: z.boolean().describe(`More than ${MAP_MAX_DEVICES} devices: the rest are left out`),
})

/**
 * The origins the base layer's tiles come from, for the Content-Security-Policy's img-src (the
 * console may show images only from origins named there): each of MAP_TILE_URL's and
 * MAP_LABEL_URL's hosts with `{s}` expanded over MAP_TILE_SUBDOMAINS (Leaflet's a, b, c when empty).
 * A template on the console's own host (`/tiles/{z}/{x}/{y}.png`) needs none.
 */
export function tileOrigins(m: Pick<MapSettings, 'tileUrl' | 'labelUrl' | 'tileSubdomains'>): string[] {
  const subdomains = m.tileSubdomains.length > 0 ? m.tileSubdomains : ['a', 'b', 'c']
  const origins = new Set<string>()
  for (const template of [m.tileUrl, m.labelUrl]) {
    if (template === undefined || !/^https?:\/\//.test(template)) continue
    for (const s of template.includes('{s}') ? subdomains : ['']) {
      try {
        origins.add(new URL(template.replaceAll('{s}', s)).origin)
      } catch {
        // Not a URL once {s} is filled in: the setting's check lets only URLs through.
      }
    }
  }
  return [...origins]
}

const worstOf = (rows: Worst[]) => {
  const m = new Map(rows.map((w) => [w.key, { severity: w.severity, alertId: w.alertId, unresolved: w.unresolved }]))
  return (key: string) => m.get(key) ?? null
}

const map: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps

  app.get(
    '',
    {
      schema: {
        tags: ['registry'],
        summary: 'The map: communities with coordinates and devices, each with its worst unresolved alert, devices with online/offline (a crew member: their company\'s)',
        response: { 200: mapSchema, ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew')
      const scope = companyScope(p)
      const [communities, devices, byDevice, byCommunity, plans] = await Promise.all([
        listCommunities(db, { companyId: scope }),
        deviceConnectivity(db, { companyId: scope, limit: MAP_MAX_DEVICES + 1 }),
        worstUnresolved(db, 'device', scope).then(worstOf),
        worstUnresolved(db, 'community', scope).then(worstOf),
        listSitePlans(db).then((rows) => new Map(rows.map((r) => [r.communityId, r]))),
      ])
      const planOf = (id: string) => {
        const r = plans.get(id)
        return r ? { width: r.width, height: r.height, etag: `"${r.sha256}"`, url: `/api/v1/communities/${encodeURIComponent(id)}/site-plan` } : null
      }
      const now = new Date()
      return {
        communities: communities.map((c) => ({ id: c.id, name: c.name, lat: c.lat, lon: c.lon, companyId: c.companyId, worst: byCommunity(c.id), plan: planOf(c.id) })),
        devices: devices.slice(0, MAP_MAX_DEVICES).map((d) => ({ id: d.id, kind: d.kind, name: d.name, communityId: d.communityId, lat: d.latitude, lon: d.longitude, planX: d.planX, planY: d.planY, ...connectivityOf(d, now), worst: byDevice(d.id) })),
        truncated: devices.length > MAP_MAX_DEVICES,
      }
    },
  )

  const { tileUrl, tileAttribution, tileMaxZoom, tileSubdomains, labelUrl } = app.deps.settings.map
  app.get(
    '/base-layer',
    {
      schema: {
        tags: ['registry'],
        summary: "The district map's base layer (MAP_TILE_URL, MAP_TILE_ATTRIBUTION, MAP_TILE_MAX_ZOOM, MAP_TILE_SUBDOMAINS, MAP_LABEL_URL); url null: none, a plain background",
        response: {
          200: z.object({
            url: z.string().nullable().describe('XYZ tile URL template; null: no base layer'),
            labelUrl: z.string().nullable().describe('An annotation layer drawn over it (Tianditu cva_w); null: none'),
            attribution: z.string().nullable(),
            maxZoom: z.number().int(),
            subdomains: z.array(z.string()).describe('What {s} takes; empty: Leaflet\'s a, b, c'),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator', 'crew')
      return { url: tileUrl ?? null, labelUrl: labelUrl ?? null, attribution: tileAttribution ?? null, maxZoom: tileMaxZoom, subdomains: tileSubdomains }
    },
  )
}

export default map
