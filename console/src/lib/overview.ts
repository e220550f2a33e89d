// The overview's figures (GET /api/v1/overview), read again shortly after each burst of live alert
// changes (the alerts store the stream keeps) and every half minute (devices going silent and
// deadlines passing change the figures without an alert event), so the overview and the wall screen
// stay current without a reload.
import { useEffect, useRef, useState } from 'preact/hooks'
import type { z } from 'zod'
import type { overviewSchema } from '../../../api/overview/schema.ts'
import { alerts } from './alerts.ts'
import { api } from './api.ts'
import { useStore } from './store.ts'

export type Overview = z.input<typeof overviewSchema>

/** A burst of live events is one read. */
const REREAD_MS = 400
const REFRESH_MS = 30_000

export function useOverview(): { data: Overview | null; failed: boolean } {
  const list = useStore(alerts)
  const [data, setData] = useState<Overview | null>(null)
  const [failed, setFailed] = useState(false)
  const [tick, setTick] = useState(0)
  const loaded = useRef(false)
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), REFRESH_MS)
    return () => clearInterval(timer)
  }, [])
  useEffect(() => {
    let live = true
    const timer = setTimeout(
      () =>
        // "Today" is the server's: the district's day (midnight in Shanghai), whatever the browser's zone.
        void api<Overview>('/api/v1/overview').then(
          (d) => {
            loaded.current = true
            if (!live) return
            setData(d)
            setFailed(false)
          },
          () => live && setFailed(true),
        ),
      loaded.current ? REREAD_MS : 0,
    )
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [list, tick])
  return { data, failed }
}
