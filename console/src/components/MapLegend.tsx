// The colours of the map's markers, shared by the district map and the site plans: the worst
// unresolved alert in the board's severity colours, no alert, offline.
import { t } from '../i18n/index.ts'
import { SEV_COLOUR } from '../lib/worst.ts'

export function MapLegend() {
  return (
    <div class="legend" role="group" aria-label={t('map.legend')}>
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
  )
}
