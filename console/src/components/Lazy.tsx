// Views loaded on first use, so the operator's first screen does not download the map and chart
// libraries (Leaflet, uPlot) it does not show.
import type { ComponentType } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { t } from '../i18n/index.ts'

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | undefined
  return function Lazy(props: P) {
    const [C, setC] = useState<ComponentType<P> | undefined>(() => loaded)
    useEffect(() => {
      if (!C) void load().then((c) => setC(() => (loaded = c)))
    }, [C])
    return C ? <C {...props} /> : <p>{t('common.loading')}</p>
  }
}
