// The wall screen (大屏) of the office's control room: laid out for 1920×1080 with a dark palette of
// its own (wall.css, scoped to .wall), nothing to scroll: the clock, the key figures in big
// numbers, the district map, the companies' standing and a ticker of the newest unresolved alerts,
// all following the live stream (lib/overview.ts, the alerts store). Reached from the overview.
import { useEffect, useState } from 'preact/hooks'
import { MapView } from './MapView.tsx'
import { Kpis, newest, Standing, Ticker } from '../components/OverviewParts.tsx'
import { fullDate, t, timeSeconds } from '../i18n/index.ts'
import { alerts } from '../lib/alerts.ts'
import { connected } from '../lib/live.ts'
import { useOverview } from '../lib/overview.ts'
import { href } from '../lib/router.ts'
import { useStore } from '../lib/store.ts'
import './wall.css'

/** Ticker lines: as many as fit beside the map at 1080 px. */
const TICKER_LINES = 8

function Clock() {
  const [at, setAt] = useState(Date.now())
  useEffect(() => {
    const timer = setInterval(() => setAt(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [])
  return (
    <div class="clock" id="clock" role="timer" aria-live="off">
      <time class="time" dateTime={new Date(at).toISOString()}>
        {timeSeconds(at)}
      </time>
      <span class="date">{fullDate(at)}</span>
    </div>
  )
}

export function Wall() {
  const { data, failed } = useOverview()
  const list = useStore(alerts)
  const live = useStore(connected)
  useEffect(() => {
    // The page behind stays still: the wall owns the screen.
    document.documentElement.classList.add('wall-on')
    return () => document.documentElement.classList.remove('wall-on')
  }, [])
  return (
    <main class="wall" id="wall">
      <header class="wall-head">
        <h1>{t('wall.title')}</h1>
        <span class={live ? 'wall-live on' : 'wall-live'}>{live ? t('live.on') : t('live.off')}</span>
        <a class="wall-back" href={href('overview')}>
          {t('wall.back')}
        </a>
        <Clock />
      </header>
      {failed && <p class="wall-error">{t('overview.failed')}</p>}
      {data === null ? <p>{t('common.loading')}</p> : <Kpis o={data} />}
      <div class="wall-main">
        <div class="wall-map">
          <MapView compact />
        </div>
        <div class="wall-side">
          {data && <Standing o={data} />}
          <Ticker items={newest(list.values(), TICKER_LINES)} />
        </div>
      </div>
    </main>
  )
}
