// What the overview (总览) and the wall screen (大屏) both show: the key figures, the companies at
// both ends of the ranking, and the newest unresolved alerts. Each element carries an id the
// Chromium tests read, and the numbers are text (a screen reader reads them as the eye does).
import { alertTitle, duration, num, t, timeSeconds } from '../i18n/index.ts'
import { unresolved } from '../lib/alerts.ts'
import type { Overview } from '../lib/overview.ts'
import { communityName } from '../lib/registry.ts'
import { href } from '../lib/router.ts'
import { SEVERITIES, type Alert } from '../lib/types.ts'

type Spread = Overview['today']['timeToAcknowledge']

const secs = (v: number | null) => (v === null ? t('common.none') : duration(v * 1000))

function Times({ id, label, s }: { id: string; label: string; s: Spread }) {
  return (
    <div class="kpi" id={id}>
      <h2>{label}</h2>
      <p class="big">{secs(s.medianS)}</p>
      <p class="sub">
        {t('overview.p90')} {secs(s.p90S)}
      </p>
    </div>
  )
}

export function Kpis({ o }: { o: Overview }) {
  return (
    <div class="kpis">
      <div class="kpi open" id="kpi-open">
        <h2>{t('overview.open')}</h2>
        <p class={`big${o.open.critical > 0 ? ' sev-critical' : ''}`} data-value={o.open.total}>
          {o.open.total}
        </p>
        <ul class="sevs" aria-label={t('overview.bySeverity')}>
          {SEVERITIES.map((s) => (
            <li key={s} id={`kpi-${s}`} class={`sev-${s}`} data-value={o.open[s]}>
              <span>{t(`severity.${s}`)}</span> <b>{o.open[s]}</b>
            </li>
          ))}
        </ul>
        <p class="sub">
          {t('overview.unacknowledged', { n: o.open.unacknowledged })} · <span class={o.open.overdue > 0 ? 'sev-critical' : ''}>{t('overview.overdue', { n: o.open.overdue })}</span>
        </p>
      </div>
      <div class="kpi" id="kpi-devices">
        <h2>{t('overview.devices')}</h2>
        <p class="big" data-value={o.devices.online}>
          {o.devices.online}
          <small> / {o.devices.total}</small>
        </p>
        <p class="sub">
          <span class={o.devices.offline > 0 ? 'sev-major' : ''}>{t('overview.offline', { n: o.devices.offline })}</span>
          {o.devices.unknown > 0 && ` · ${t('overview.unknown', { n: o.devices.unknown })}`}
        </p>
      </div>
      <div class="kpi" id="kpi-today">
        <h2>{t('overview.raised')}</h2>
        <p class="big" data-value={o.today.raised}>
          {o.today.raised}
        </p>
        <p class="sub">{t('overview.resolvedToday', { n: o.today.resolved })}</p>
      </div>
      <Times id="kpi-tta" label={t('overview.tta')} s={o.today.timeToAcknowledge} />
      <Times id="kpi-arrive" label={t('overview.arrive')} s={o.today.timeToArrive} />
      <Times id="kpi-ttr" label={t('overview.ttr')} s={o.today.timeToResolve} />
    </div>
  )
}

type Company = Overview['standing']['top'][number]

function CompanyRows({ rows, cls }: { rows: Company[]; cls: string }) {
  return (
    <ol class={`standing-list ${cls}`}>
      {rows.map((r) => (
        <li key={r.companyId} value={r.rank}>
          <span class="rank">{r.rank}.</span>
          <a href={href('ranking', r.companyId)}>{r.name}</a>
          <b>{num(r.score, 1)}</b>
        </li>
      ))}
    </ol>
  )
}

export function Standing({ o }: { o: Overview }) {
  const { top, bottom } = o.standing
  return (
    <section class="standing" id="standing" aria-labelledby="standing-title">
      <h2 id="standing-title">{t('overview.standing')}</h2>
      {top.length === 0 ? (
        <p class="muted">{t('overview.noStanding')}</p>
      ) : (
        <>
          <h3>{t('overview.top')}</h3>
          <CompanyRows rows={top} cls="top-rows" />
          {bottom.length > 0 && (
            <>
              <h3>{t('overview.bottom')}</h3>
              <CompanyRows rows={bottom} cls="bottom-rows" />
            </>
          )}
        </>
      )}
      <a class="more" href={href('ranking')}>
        {t('overview.ranking')}
      </a>
    </section>
  )
}

/** The newest unresolved alerts, newest first, from the live store. */
export function newest(list: Iterable<Alert>, n: number): Alert[] {
  return [...list].filter(unresolved).sort((a, b) => Date.parse(b.raisedAt) - Date.parse(a.raisedAt) || b.id - a.id).slice(0, n)
}

export function Ticker({ items }: { items: Alert[] }) {
  return (
    <section class="ticker" id="ticker" aria-labelledby="ticker-title">
      <h2 id="ticker-title">{t('wall.ticker')}</h2>
      {items.length === 0 ? (
        <p class="muted">{t('wall.noAlerts')}</p>
      ) : (
        <ul aria-live="polite">
          {items.map((a) => (
            <li key={a.id} class={`sev-line sev-${a.severity}`} data-alert={a.id}>
              <span class={`badge sev-${a.severity}`}>{t(`severity.${a.severity}`)}</span>
              <span class="what">{alertTitle(a)}</span>
              <span class="where">{communityName(a.communityId)}</span>
              <time dateTime={a.raisedAt}>{timeSeconds(a.raisedAt)}</time>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
