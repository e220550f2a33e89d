// A community's own map (#/map/<community>): its site plan, drawn at the image's natural pixel size
// in Leaflet's flat CRS (L.CRS.Simple), with its devices where the office placed them, coloured by
// their worst unresolved alert and following the live stream like the district map. The office
// (admin, operator) uploads or replaces the plan and places devices by dragging them — from the
// list beside the plan onto it, or a marker to a new spot — or, on a touch screen, by choosing one
// in the list and tapping the plan. Positions are fractions of the image (0..1 from the top left),
// so a replaced plan of another resolution keeps them. Others see the plan read-only.
import L from 'leaflet'
import 'leaflet/dist/leaflet.css'
import { useEffect, useRef, useState } from 'preact/hooks'
import { MapLegend } from '../components/MapLegend.tsx'
import { t } from '../i18n/index.ts'
import { ApiError } from '../lib/api.ts'
import { look, markerClass, useMapData, type MapDevice, type Plan } from '../lib/map-data.ts'
import { named } from '../lib/registry.ts'
import { go, href } from '../lib/router.ts'
import { me } from '../lib/session.ts'
import { deletePlan, placeDevice, planObjectUrl, uploadPlan } from '../lib/site-plans.ts'
import { useStore } from '../lib/store.ts'

const OFFICE = new Set(['admin', 'operator'])
const clamp = (v: number) => Math.min(1, Math.max(0, v))
/** Marker size in pixels; Leaflet anchors a divIcon at its centre. */
const DOT = 22

/** The plan's coordinates: y up from the bottom edge, x from the left, one unit per image pixel. */
const toLatLng = (p: Plan, x: number, y: number) => L.latLng(p.height * (1 - y), p.width * x)
const toFraction = (p: Plan, at: L.LatLng) => ({ x: clamp(at.lng / p.width), y: clamp(1 - at.lat / p.height) })

const ERRORS: Record<string, 'plan.tooLarge' | 'plan.badType' | 'plan.unreadable'> = {
  site_plan_too_large: 'plan.tooLarge',
  unsupported_site_plan_type: 'plan.badType',
  site_plan_unreadable: 'plan.unreadable',
}

export function SitePlan({ communityId }: { communityId: string }) {
  const user = useStore(me)
  const office = OFFICE.has(user?.role ?? '')
  const { data, reload } = useMapData()
  const community = data?.communities.find((c) => c.id === communityId)
  const plan = community?.plan ?? null
  const devices = (data?.devices ?? []).filter((d) => d.communityId === communityId)
  const placed = plan ? devices.filter((d) => d.planX !== null && d.planY !== null) : []
  const unplaced = devices.filter((d) => !placed.includes(d))
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const [placing, setPlacing] = useState<string | null>(null)
  const [image, setImage] = useState<string | null>(null)
  const box = useRef<HTMLDivElement>(null)
  const map = useRef<L.Map | null>(null)
  const layer = useRef<L.LayerGroup | null>(null)
  const dragging = useRef(false)
  const placingRef = useRef(placing)
  placingRef.current = placing

  const fail = (err: unknown) => setError(err instanceof ApiError ? (ERRORS[err.code] ? t(ERRORS[err.code] ?? 'plan.badType') : err.message) : String(err))
  const place = (deviceId: string, at: { x: number; y: number } | null) => {
    setPlacing(null)
    void placeDevice(deviceId, at).then(reload, fail)
  }

  // The image, fetched with the credential, again whenever its ETag changes.
  useEffect(() => {
    if (!plan) return
    const abort = new AbortController()
    let url: string | undefined
    planObjectUrl(plan.url, abort.signal).then((u) => setImage((url = u)), (err: unknown) => !abort.signal.aborted && fail(err))
    return () => {
      abort.abort()
      setImage(null)
      if (url) URL.revokeObjectURL(url)
    }
  }, [plan?.etag])

  // The plan itself: a flat map the size of the image, fitted to the screen at first.
  useEffect(() => {
    if (!plan || !image || !box.current) return
    const bounds = L.latLngBounds([0, 0], [plan.height, plan.width])
    const m = L.map(box.current, { crs: L.CRS.Simple, minZoom: -6, maxZoom: 4, zoomSnap: 0, attributionControl: false, maxBounds: bounds.pad(0.25) })
    L.imageOverlay(image, bounds, { className: 'plan-image', alt: t('plan.title', { name: community?.name ?? communityId }) }).addTo(m)
    m.fitBounds(bounds, { animate: false })
    m.setMinZoom(m.getZoom() - 1)
    layer.current = L.layerGroup().addTo(m)
    map.current = m
    m.on('click', (e: L.LeafletMouseEvent) => {
      if (placingRef.current) place(placingRef.current, toFraction(plan, e.latlng))
    })
    return () => {
      map.current = null
      m.remove()
    }
  }, [image, plan?.width, plan?.height])

  // The markers, redrawn when the data changes (not under a drag in progress).
  useEffect(() => {
    const group = layer.current
    if (!plan || !group || dragging.current) return
    group.clearLayers()
    for (const d of placed) {
      const offline = d.connectivity === 'offline'
      const { colour, cls } = look(d.worst, offline)
      const icon = L.divIcon({ className: `marker plan-device m-${markerClass(d.id)}${cls}`, html: `<span style="background:${colour}"></span>`, iconSize: [DOT, DOT] })
      const marker = L.marker(toLatLng(plan, d.planX ?? 0, d.planY ?? 0), { icon, draggable: office, keyboard: true, title: `${named(d)} · ${t(`kind.${d.kind}`)}`, alt: named(d) })
      marker.bindPopup(() => popup(d, office, () => place(d.id, null)))
      marker.on('dragstart', () => (dragging.current = true))
      marker.on('dragend', () => {
        dragging.current = false
        place(d.id, toFraction(plan, marker.getLatLng()))
      })
      marker.addTo(group)
    }
  }, [data, image, office])

  const upload = async (file: File) => {
    setError('')
    setBusy(true)
    try {
      await uploadPlan(communityId, file)
      reload()
    } catch (err) {
      fail(err)
    } finally {
      setBusy(false)
    }
  }

  if (data && !community) return <p class="empty">{t('plan.unknown')} <a href={href('map')}>{t('plan.back')}</a></p>
  return (
    <section class="site-plan">
      <div class="plan-head">
        <a href={href('map')} class="back">
          ← {t('plan.back')}
        </a>
        <h1>{t('plan.title', { name: community?.name ?? communityId })}</h1>
        {office && (
          <div class="plan-actions">
            <label class="button">
              {plan ? t('plan.replace') : t('plan.upload')}
              <input
                id="plan-file"
                type="file"
                accept="image/png,image/jpeg,image/webp"
                disabled={busy}
                onChange={(e) => {
                  const file = e.currentTarget.files?.[0]
                  e.currentTarget.value = ''
                  if (file) void upload(file)
                }}
              />
            </label>
            {plan && (
              <button type="button" class="ghost" id="plan-delete" onClick={() => confirm(t('plan.deleteConfirm')) && void deletePlan(communityId).then(reload, fail)}>
                {t('plan.delete')}
              </button>
            )}
          </div>
        )}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <MapLegend />
      {!plan && data && <p class="empty">{office ? t('plan.noneOffice') : t('plan.noneRead')}</p>}
      <div class="plan-layout">
        {plan && (
          <div
            ref={box}
            id="plan"
            class={placing ? 'map plan placing' : 'map plan'}
            // As high as the plan is for the screen's width (a phone wastes no height), within the screen.
            style={{ aspectRatio: `${plan.width} / ${plan.height}` }}
            role="region"
            aria-label={t('plan.title', { name: community?.name ?? communityId })}
            onDragOver={(e) => office && e.preventDefault()}
            onDrop={(e) => {
              const id = e.dataTransfer?.getData('text/plain')
              if (!office || !id || !map.current) return
              e.preventDefault()
              place(id, toFraction(plan, map.current.mouseEventToLatLng(e)))
            }}
          />
        )}
        {plan && (
          <aside class="unplaced" aria-labelledby="unplaced-title">
            <h2 id="unplaced-title">{t('plan.unplaced', { n: unplaced.length })}</h2>
            {unplaced.length > 0 && office && <p class="muted">{placing ? t('plan.tapHint') : t('plan.dragHint')}</p>}
            <ul id="unplaced">
              {unplaced.map((d) => {
                const { colour } = look(d.worst, d.connectivity === 'offline')
                return (
                  <li key={d.id} data-device={d.id} draggable={office} onDragStart={(e) => e.dataTransfer?.setData('text/plain', d.id)}>
                    <i class="dot" style={{ background: colour }} />
                    <span class="name">{named(d)}</span>
                    <span class="muted"> · {t(`kind.${d.kind}`)}</span>
                    {office && (
                      <button type="button" class="ghost" aria-pressed={placing === d.id} onClick={() => setPlacing(placing === d.id ? null : d.id)}>
                        {t('plan.place')}
                      </button>
                    )}
                  </li>
                )
              })}
            </ul>
          </aside>
        )}
      </div>
    </section>
  )
}

/** A marker's popup: the device (or its worst alert), and for the office taking it off the plan. */
function popup(d: MapDevice, office: boolean, unplace: () => void): HTMLElement {
  const box = document.createElement('div')
  const a = document.createElement('a')
  a.href = d.worst ? href('alert', d.worst.alertId) : href('device', d.id)
  a.textContent = `${named(d)}${d.worst ? ` · ${t(`severity.${d.worst.severity}`)}` : ''}`
  a.addEventListener('click', (e) => {
    e.preventDefault()
    if (d.worst) go('alert', d.worst.alertId)
    else go('device', d.id)
  })
  box.append(a)
  if (office) {
    const b = document.createElement('button')
    b.type = 'button'
    b.className = 'ghost unplace'
    b.textContent = t('plan.unplace')
    b.addEventListener('click', unplace)
    box.append(document.createElement('br'), b)
  }
  return box
}
