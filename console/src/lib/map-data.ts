// What the district map and the site plans draw: one read of GET /api/v1/map, read again shortly
// after the live stream changes an alert (the alerts store), so marker colours follow the board
// without a reload; and the base layer the server is configured with (GET /api/v1/map/base-layer).
import { useEffect, useRef, useState } from 'preact/hooks'
import { alerts } from './alerts.ts'
import { api } from './api.ts'
import { useStore } from './store.ts'
import type { Kind, Severity } from './types.ts'
import { SEV_COLOUR } from './worst.ts'

/** Wait this long after a live change before reading the map again (a burst of events is one read). */
const REREAD_MS = 400

export type Worst = { severity: Severity; alertId: number; unresolved: number } | null
export interface Plan {
  width: number
  height: number
  etag: string
  url: string
}
export interface MapCommunity {
  id: string
  name: string
  lat: number | null
  lon: number | null
  worst: Worst
  plan: Plan | null
}
export interface MapDevice {
  id: string
  kind: Kind
  name: string | null
  communityId: string
  lat: number | null
  lon: number | null
  planX: number | null
  planY: number | null
  connectivity: 'online' | 'offline' | 'unknown'
  worst: Worst
}
export interface MapData {
  communities: MapCommunity[]
  devices: MapDevice[]
}
export interface BaseLayer {
  url: string | null
  labelUrl: string | null
  attribution: string | null
  maxZoom: number
  subdomains: string[]
}

/** A CSS class from an id (marker classes the tests and the legend address). */
export const markerClass = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, '_')

/** A marker's colour and classes: its worst unresolved alert, grey when the device is offline. */
export function look(worst: Worst, offline = false): { colour: string; cls: string } {
  const sev = worst?.severity
  return { colour: offline ? SEV_COLOUR.offline : SEV_COLOUR[sev ?? 'ok'], cls: `${sev ? ` sev-${sev}` : ' sev-none'}${offline ? ' offline' : ''}` }
}

/** The map's data, read again after each burst of live alert changes; `reload` reads it at once. */
export function useMapData(): { data: MapData | null; reload: () => void } {
  const list = useStore(alerts)
  const [data, setData] = useState<MapData | null>(null)
  const [tick, setTick] = useState(0)
  const loaded = useRef(false)
  const now = useRef(false)
  useEffect(() => {
    const delay = loaded.current && !now.current ? REREAD_MS : 0
    now.current = false
    const timer = setTimeout(
      () =>
        void api<MapData>('/api/v1/map').then((d) => {
          loaded.current = true
          setData(d)
        }, () => undefined),
      delay,
    )
    return () => clearTimeout(timer)
  }, [list, tick])
  const reload = () => {
    now.current = true
    setTick((n) => n + 1)
  }
  return { data, reload }
}

let baseLayer: Promise<BaseLayer> | undefined

/** The configured base layer, read once per page. */
export function useBaseLayer(): BaseLayer | null {
  const [layer, setLayer] = useState<BaseLayer | null>(null)
  useEffect(() => {
    baseLayer ??= api<BaseLayer>('/api/v1/map/base-layer').catch(() => ({ url: null, labelUrl: null, attribution: null, maxZoom: 18, subdomains: [] }))
    void baseLayer.then(setLayer)
  }, [])
  return layer
}
