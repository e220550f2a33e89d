// The office's overview (总览): the key figures (open alerts by severity, devices online, today's
// response times), the companies at both ends of the ranking, and the district map — all live
// (lib/overview.ts). The wall screen (大屏, #/wall) shows the same for a control-room display.
import { MapView } from './MapView.tsx'
import { Kpis, Standing } from '../components/OverviewParts.tsx'
import { t, timeSeconds } from '../i18n/index.ts'
import { useOverview } from '../lib/overview.ts'
import { href } from '../lib/router.ts'
import './overview.css'

export function Overview() {
  const { data, failed } = useOverview()
  return (
    <section class="overview">
      <div class="overview-head">
        <h1>{t('overview.title')}</h1>
        {data && (
          <span class="muted small" id="updated">
            {t('overview.updated', { time: timeSeconds(data.asOf) })}
          </span>
        )}
        <a class="button" id="to-wall" href={href('wall')}>
          {t('overview.wall')}
        </a>
      </div>
      {failed && <p class="error">{t('overview.failed')}</p>}
      {data === null ? (
        <p>{t('common.loading')}</p>
      ) : (
        <>
          <Kpis o={data} />
          <div class="overview-body">
            <div class="overview-map">
              <h2>{t('map.title')}</h2>
              <MapView compact />
            </div>
            <Standing o={data} />
          </div>
        </>
      )}
    </section>
  )
}
