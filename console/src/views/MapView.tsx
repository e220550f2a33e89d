// The district map: communities at their registered coordinates and their devices at their own
// (registered or imported from CSV), or on a ring around their community when they have none,
// each coloured by its worst unresolved alert (the board's colours), offline devices grey and dashed.
// Zoomed out, each community is one marker with the count of its devices near it and its worst
// colour (a device far from its community stays apart); zooming in or clicking it shows them. A
// district's devices cluster by community, so no clustering library is needed. The view fits
// everything once, and again only when what is placed changes, so a live colour change never moves
// the map under the user. The base layer is the server's (MAP_TILE_URL; docs/map.md); without one
// the map is a plain background and works offline.
import L from 'leaflet'
import 'leaflet/dist/leaflet.css'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { MapLegend } from '../components/MapLegend.tsx'
import { localName, t } from '../i18n/index.ts'
import { look, markerClass, useBaseLayer, useMapData, type MapCommunity, type MapDevice, type Worst } from '../lib/map-data.ts'
import { go, href } from '../lib/router.ts'
import { SEVERITIES } from '../lib/types.ts'

/** Devices without coordinates of their own are drawn on a ring this far around their community. */
const RING_M = 60
const M_PER_DEG_LAT = 111_320
/** Below this zoom a community is one marker (about 600 m across the screen's width at 15). */
const CLUSTER_BELOW = 15
/** Zoomed out, the devices this close to their community on screen (pixels) are counted in its marker. */
const CLUSTER_PX = 48
/** The most a first fit zooms in (one community fills the screen, not one doorway). */
const FIT_MAX_ZOOM = 17

export { markerClass }

type Placed = { d: MapDevice; at: [number, number] }
interface Group {
  c: MapCommunity
  at: [number, number] | null
  devices: Placed[]
  worst: Worst
}

const worse = (a: Worst, b: Worst): Worst => (a === null ? b : b === null ? a : SEVERITIES.indexOf(b.severity) < SEVERITIES.indexOf(a.severity) ? b : a)

/** Where each community and its devices stand (a device without coordinates on a ring around it). */
function groups(communities: MapCommunity[], devices: MapDevice[]): Group[] {
  return communities.map((c) => {
    const own = devices.filter((d) => d.communityId === c.id)
    const located = own.filter((d) => d.lat !== null && d.lon !== null).map((d) => ({ d, at: [d.lat ?? 0, d.lon ?? 0] as [number, number] }))
    const mean = (i: 0 | 1) => located.reduce((s, p) => s + p.at[i], 0) / located.length
    const at: [number, number] | null = c.lat !== null && c.lon !== null ? [c.lat, c.lon] : located.length > 0 ? [mean(0), mean(1)] : null
    const ringed = own.filter((d) => d.lat === null || d.lon === null)
    const ring = at
      ? ringed.map((d, i) => {
          const angle = (2 * Math.PI * i) / ringed.length
          return { d, at: [at[0] + (RING_M * Math.sin(angle)) / M_PER_DEG_LAT, at[1] + (RING_M * Math.cos(angle)) / (M_PER_DEG_LAT * Math.cos((at[0] * Math.PI) / 180))] as [number, number] }
        })
      : []
    return { c, at, devices: [...located, ...ring], worst: own.reduce((w, d) => worse(w, d.worst), c.worst) }
  })
}

function popup(c: MapCommunity, n: number): HTMLElement {
  const box = document.createElement('div')
  box.textContent = `${localName(c.name)} · ${t('map.devices', { n })} `
  const a = document.createElement('a')
  a.href = href('map', c.id)
  a.textContent = t('plan.open')
  box.append(a)
  return box
}

/** `compact`: the map alone with its legend (the overview and the wall screen), without the list of site plans. */
export function MapView({ compact = false }: { compact?: boolean }) {
  const box = useRef<HTMLDivElement>(null)
  const map = useRef<L.Map | null>(null)
  const layer = useRef<L.LayerGroup | null>(null)
  const fitted = useRef('')
  const [zoom, setZoom] = useState(0)
  const { data } = useMapData()
  const base = useBaseLayer()
  const all = useMemo(() => groups(data?.communities ?? [], data?.devices ?? []), [data])
  const unplaced = all.filter((g) => g.at === null).map((g) => g.c)

  useEffect(() => {
    if (!box.current) return
    const m = L.map(box.current, { attributionControl: false, preferCanvas: false }).setView([31.11, 121.38], 12)
    map.current = m
    layer.current = L.layerGroup().addTo(m)
    m.on('zoomend', () => setZoom(m.getZoom()))
    return () => m.remove()
  }, [])

  useEffect(() => {
    const m = map.current
    if (!m || !base?.url) return
    const opts = { maxZoom: base.maxZoom, ...(base.subdomains.length > 0 ? { subdomains: base.subdomains } : {}) }
    const tiles = [L.tileLayer(base.url, { ...opts, ...(base.attribution ? { attribution: base.attribution } : {}) })]
    if (base.labelUrl) tiles.push(L.tileLayer(base.labelUrl, opts))
    for (const tl of tiles) tl.addTo(m)
    m.setMaxZoom(base.maxZoom)
    const credit = base.attribution ? L.control.attribution({ prefix: false }).addTo(m) : undefined
    return () => {
      for (const tl of tiles) tl.remove()
      credit?.remove()
    }
  }, [base])

  // Fit once, and again only when the set of things placed changes (not when a colour does).
  useEffect(() => {
    const m = map.current
    const points = all.flatMap((g) => [...(g.at ? [g.at] : []), ...g.devices.map((p) => p.at)])
    const key = all.map((g) => `${g.c.id}@${g.at?.join(',') ?? ''}:${g.devices.map((p) => `${p.d.id}@${p.at.join(',')}`).join(';')}`).join('|')
    if (!m || points.length === 0 || key === fitted.current) return
    fitted.current = key
    // Without animation: a map removed mid-zoom (the user moved on) throws Leaflet's
    // "reading '_leaflet_pos'" from the transition's end (Leaflet/Leaflet issue 9575).
    m.fitBounds(L.latLngBounds(points).pad(0.3), { maxZoom: FIT_MAX_ZOOM, animate: false })
    setZoom(m.getZoom())
  }, [all])

  useEffect(() => {
    const group = layer.current
    const m = map.current
    if (!group || !m) return
    group.clearLayers()
    const clustered = m.getZoom() < CLUSTER_BELOW
    const drawDevice = ({ d, at }: Placed) => {
      const offline = d.connectivity === 'offline'
      const dl = look(d.worst, offline)
      const alertId = d.worst?.alertId
      L.circleMarker(at, { radius: 7, color: '#fff', weight: 2, fillColor: dl.colour, fillOpacity: 1, dashArray: offline ? '3 3' : '', className: `marker device m-${markerClass(d.id)}${dl.cls}` })
        .bindTooltip(`${d.name == null ? d.id : localName(d.name)} · ${t(`kind.${d.kind}`)}${offline ? ` · ${t('map.offline')}` : ''}`)
        .on('click', () => (alertId !== undefined ? go('alert', alertId) : go('device', d.id)))
        .addTo(group)
    }
    for (const g of all) {
      if (!g.at) continue
      const { colour, cls } = look(g.worst)
      if (clustered) {
        // One marker per community for the devices drawn near it (a device registered far away, a
        // pump house across the road, stays where it is): their count, in their worst colour.
        const centre = m.latLngToLayerPoint(g.at)
        const near = g.devices.filter((p) => m.latLngToLayerPoint(p.at).distanceTo(centre) < CLUSTER_PX)
        const apart = g.devices.filter((p) => !near.includes(p))
        apart.forEach(drawDevice)
        // Its colour: its near devices' worst, and the community's own unless that is an apart device's.
        const own = apart.some((p) => p.d.worst !== null && p.d.worst.alertId === g.c.worst?.alertId) ? null : g.c.worst
        const cl = look(near.reduce((w, p) => worse(w, p.d.worst), own))
        const icon = L.divIcon({ className: `marker cluster community m-${markerClass(g.c.id)}${cl.cls}`, html: `<span style="background:${cl.colour}">${near.length}</span>`, iconSize: [34, 34] })
        L.marker(g.at, { icon, keyboard: true, title: `${localName(g.c.name)} · ${t('map.devices', { n: near.length })}`, alt: localName(g.c.name) })
          .bindTooltip(localName(g.c.name), { permanent: true, direction: 'top', offset: [0, -16] })
          .on('click', () => {
            // Opened onto its devices: zoomed in until they stand apart.
            const points = [g.at as [number, number], ...near.map((p) => p.at)]
            m.fitBounds(L.latLngBounds(points).pad(0.3), { maxZoom: FIT_MAX_ZOOM, animate: false })
            if (m.getZoom() < CLUSTER_BELOW) m.setZoom(CLUSTER_BELOW, { animate: false })
          })
          .addTo(group)
        continue
      }
      g.devices.forEach(drawDevice)
      L.circleMarker(g.at, { radius: 14, color: '#fff', weight: 3, fillColor: colour, fillOpacity: 0.9, className: `marker community m-${markerClass(g.c.id)}${cls}` })
        .bindTooltip(localName(g.c.name), { permanent: true, direction: 'top', offset: [0, -14] })
        .bindPopup(popup(g.c, g.devices.length))
        .addTo(group)
    }
  }, [all, zoom])

  return (
    <section class="map-view">
      <MapLegend />
      <div ref={box} id="map" class="map" role="region" aria-label={t('map.title')} />
      {!compact && unplaced.length > 0 && <p class="muted">{t('map.noCoords', { names: unplaced.map((c) => localName(c.name)).join(', ') })}</p>}
      {!compact && all.length > 0 && (
        <nav class="plans" aria-label={t('plan.list')}>
          <span>{t('plan.list')}:</span>
          {all.map((g) => (
            <a key={g.c.id} href={href('map', g.c.id)} data-community={g.c.id}>
              {localName(g.c.name)}
              {g.c.plan ? '' : ` (${t('plan.none')})`}
            </a>
          ))}
        </nav>
      )}
    </section>
  )
}
