// The district map: communities at their registered coordinates and their devices at their own
// (registered or imported from CSV), or on a ring around their community when they have none,
// each coloured by its worst unresolved alert, offline devices grey and dashed. Vector drawing
// only, so it works with no network; a base tile URL is an optional, remembered setting.
// One read (GET /api/v1/map, scoped by role) draws it; it is read again shortly after the live
// stream changes an alert, so the colours follow the board without a reload.
import L from 'leaflet'
import 'leaflet/dist/leaflet.css'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { t } from '../i18n/index.ts'
import { alerts } from '../lib/alerts.ts'
import { api } from '../lib/api.ts'
import { go } from '../lib/router.ts'
import { useStore } from '../lib/store.ts'
import type { Kind, Severity } from '../lib/types.ts'
import { SEV_COLOUR } from '../lib/worst.ts'

const TILES_KEY = 'hb-tiles'
/** Devices without coordinates of their own are drawn on a ring this far around their community. */
const RING_M = 60
const M_PER_DEG_LAT = 111_320
/** Wait this long after a live change before reading the map again (a burst of events is one read). */
const REREAD_MS = 400

type Worst = { severity: Severity; alertId: number; unresolved: number } | null
interface MapData {
  communities: { id: string; name: string; lat: number | null; lon: number | null; worst: Worst }[]
  devices: { id: string; kind: Kind; name: string | null; communityId: string; lat: number | null; lon: number | null; connectivity: 'online' | 'offline' | 'unknown'; worst: Worst }[]
}

export const markerClass = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, '_')

export function MapView() {
  const box = useRef<HTMLDivElement>(null)
  const map = useRef<L.Map | null>(null)
  const layer = useRef<L.LayerGroup | null>(null)
  const [tiles, setTiles] = useState(localStorage.getItem(TILES_KEY) ?? '')
  const list = useStore(alerts)
  const [data, setData] = useState<MapData | null>(null)
  const loaded = useRef(false)
  useEffect(() => {
    const timer = setTimeout(
      () =>
        void api<MapData>('/api/v1/map').then((d) => {
          loaded.current = true
          setData(d)
        }, () => undefined),
      loaded.current ? REREAD_MS : 0,
    )
    return () => clearTimeout(timer)
  }, [list])
  const placed = useMemo(() => (data?.communities ?? []).filter((c) => c.lat !== null && c.lon !== null), [data])
  const unplaced = (data?.communities ?? []).filter((c) => c.lat === null || c.lon === null)

  useEffect(() => {
    if (!box.current) return
    map.current = L.map(box.current, { attributionControl: false, preferCanvas: false }).setView([31.11, 121.38], 12)
    layer.current = L.layerGroup().addTo(map.current)
    return () => map.current?.remove()
  }, [])

  useEffect(() => {
    const m = map.current
    if (!m || !tiles) return
    const tileLayer = L.tileLayer(tiles, { maxZoom: 19 }).addTo(m)
    return () => tileLayer.remove()
  }, [tiles])

  useEffect(() => {
    const group = layer.current
    const m = map.current
    if (!group || !m) return
    group.clearLayers()
    const bounds: L.LatLngExpression[] = []
    const drawDevice = (d: MapData['devices'][number], pos: [number, number]) => {
      const offline = d.connectivity === 'offline'
      const sev = d.worst?.severity
      const colour = offline ? SEV_COLOUR.offline : SEV_COLOUR[sev ?? 'ok']
      const alertId = d.worst?.alertId
      L.circleMarker(pos, { radius: 7, color: '#fff', weight: 2, fillColor: colour, fillOpacity: 1, dashArray: offline ? '3 3' : '', className: `marker device m-${markerClass(d.id)}${sev ? ` sev-${sev}` : ''}${offline ? ' offline' : ''}` })
        .bindTooltip(`${d.name ?? d.id} · ${t(`kind.${d.kind}`)}${offline ? ` · ${t('map.offline')}` : ''}`)
        .on('click', () => (alertId !== undefined ? go('alert', alertId) : go('device', d.id)))
        .addTo(group)
    }
    // Devices with coordinates of their own stand there, whether or not their community is placed.
    for (const d of data?.devices ?? []) {
      if (d.lat === null || d.lon === null) continue
      bounds.push([d.lat, d.lon])
      drawDevice(d, [d.lat, d.lon])
    }
    for (const c of placed) {
      const at: [number, number] = [c.lat ?? 0, c.lon ?? 0]
      bounds.push(at)
      const devices = (data?.devices ?? []).filter((d) => d.communityId === c.id)
      const ringed = devices.filter((d) => d.lat === null || d.lon === null)
      ringed.forEach((d, i) => {
        const angle = (2 * Math.PI * i) / ringed.length
        drawDevice(d, [at[0] + (RING_M * Math.sin(angle)) / M_PER_DEG_LAT, at[1] + (RING_M * Math.cos(angle)) / (M_PER_DEG_LAT * Math.cos((at[0] * Math.PI) / 180))])
      })
      const sev = c.worst?.severity
      L.circleMarker(at, { radius: 14, color: '#fff', weight: 3, fillColor: SEV_COLOUR[sev ?? 'ok'], fillOpacity: 0.9, className: `marker community m-${markerClass(c.id)}${sev ? ` sev-${sev}` : ''}` })
        .bindTooltip(c.name, { permanent: true, direction: 'top', offset: [0, -14] })
        .bindPopup(`${c.name} · ${t('map.devices', { n: devices.length })}`)
        .addTo(group)
    }
    // Without animation: a map removed mid-zoom (the user moved on) throws Leaflet's
    // "reading '_leaflet_pos'" from the transition's end (Leaflet/Leaflet issue 9575).
    if (bounds.length > 0) m.fitBounds(L.latLngBounds(bounds).pad(0.3), { maxZoom: 17, animate: false })
  }, [data, placed])

  return (
    <section class="map-view">
      <div class="legend" aria-label={t('map.legend')}>
        <span>{t('map.legend')}:</span>
        {(['critical', 'major', 'minor', 'warning'] as const).map((s) => (
          <span key={s}>
            <i style={{ background: SEV_COLOUR[s] }} /> {t(`severity.${s}`)}
          </span>
        ))}
        <span>
          <i style={{ background: SEV_COLOUR.ok }} /> {t('map.ok')}
        </span>
        <span>
          <i style={{ background: SEV_COLOUR.offline }} /> {t('map.offline')}
        </span>
      </div>
      <div ref={box} id="map" class="map" role="region" aria-label={t('map.title')} />
      {unplaced.length > 0 && <p class="muted">{t('map.noCoords', { names: unplaced.map((c) => c.name).join(', ') })}</p>}
      <details class="tiles">
        <summary>{t('map.tiles')}</summary>
        <input
          type="url"
          aria-label={t('map.tiles')}
          placeholder={t('map.tilesHint')}
          value={tiles}
          onChange={(e) => {
            const v = e.currentTarget.value.trim()
            localStorage.setItem(TILES_KEY, v)
            setTiles(v)
          }}
        />
      </details>
    </section>
  )
}
