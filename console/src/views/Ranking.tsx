// The companies ranked for a period (the last 30 days, this month, last month, the last three
// months, or dates of the office's choosing): score, each component, the change against the period
// of the same length before (arrows), the CSV download, and a drill-down per company.
import { useEffect, useMemo, useState } from 'preact/hooks'
import { Sev } from '../components/Badges.tsx'
import { HotlineCases } from '../components/HotlineCases.tsx'
import { ScoreFormula } from '../components/ScoreFormula.tsx'
import { ScoreHistory } from '../components/ScoreHistory.tsx'
import { alertTitle, dateOnly, dateTime, duration, localName, num, t } from '../i18n/index.ts'
import { api, download } from '../lib/api.ts'
import { communityName } from '../lib/registry.ts'
import { href } from '../lib/router.ts'
import { store, useStore } from '../lib/store.ts'
import type { Severity } from '../lib/types.ts'
import { PERIODS, periodQuery, type PeriodChoice } from './ranking-period.ts'

const COMPONENTS = ['ack', 'resolve', 'speed', 'quality', 'satisfaction'] as const

interface Row {
  companyId: string
  name: string
  alerts: number
  timeToArrive: { medianS: number | null; p90S: number | null }
  components: Record<(typeof COMPONENTS)[number], number | null>
  score: number | null
  rank: number | null
  change: { score: number | null; rank: number | null }
}
interface Drill {
  communities: { communityId: string; name: string; alerts: number; resolved: number; ttrMedianS: number | null }[]
  slowest: { id: number; ruleId: string; source: string; title: string; titleDetail: unknown; severity: Severity; raisedAt: string; ttrS: number | null }[]
}

const pct = (v: number | null) => (v === null ? t('common.none') : `${num(v * 100, 0)}%`)
const secs = (v: number | null) => (v === null ? t('common.none') : duration(v * 1000))

function Change({ score, rank }: { score: number | null; rank: number | null }) {
  if (score === null) return <span class="muted">{t('common.none')}</span>
  const dir = score > 0 ? 'up' : score < 0 ? 'down' : 'flat'
  const arrow = dir === 'up' ? '▲' : dir === 'down' ? '▼' : '▬'
  return (
    <span class={`change ${dir}`}>
      {arrow} {num(score, 1)}
      {rank ? ` (${rank > 0 ? '+' : ''}${rank})` : ''}
    </span>
  )
}

function CompanyDrill({ id, query }: { id: string; query: string }) {
  const [d, setD] = useState<Drill | null>(null)
  useEffect(() => void api<Drill>(`/api/v1/evaluation/companies/${encodeURIComponent(id)}${query}`).then(setD), [id, query])
  if (!d) return <p>{t('common.loading')}</p>
  return (
    <div class="drill" id="drill">
      <h3>{t('ranking.communities')}</h3>
      <table class="alerts">
        <tbody>
          {d.communities.map((c) => (
            <tr key={c.communityId}>
              <td data-label={t('filter.community')}>{c.name ? localName(c.name) : communityName(c.communityId)}</td>
              <td data-label={t('ranking.alerts')}>{c.alerts}</td>
              <td data-label={t('ranking.ttr')}>{secs(c.ttrMedianS)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t('ranking.slowest')}</h3>
      <ul class="plain">
        {d.slowest.map((a) => (
          <li key={a.id}>
            <Sev s={a.severity} /> <a href={href('alert', a.id)}>{alertTitle(a)}</a> <span class="muted small">{dateTime(a.raisedAt)} · {a.ttrS === null ? t('common.none') : duration(a.ttrS * 1000)}</span>
          </li>
        ))}
      </ul>
      <HotlineCases companyId={id} />
    </div>
  )
}

/** The period chosen, kept while the user opens companies' drill-downs (each a new route). */
const chosen = store<PeriodChoice>({ kind: 'last30', from: '', to: '' })

function PeriodPicker({ value }: { value: PeriodChoice }) {
  const set = (patch: Partial<PeriodChoice>) => chosen.set({ ...value, ...patch })
  return (
    <div class="period-picker" role="group" aria-label={t('ranking.periodLabel')}>
      <label>
        <span>{t('ranking.periodLabel')}</span>
        <select id="period" value={value.kind} onChange={(e) => set({ kind: e.currentTarget.value as PeriodChoice['kind'] })}>
          {PERIODS.map((k) => (
            <option key={k} value={k}>
              {t(`ranking.${k}`)}
            </option>
          ))}
        </select>
      </label>
      {value.kind === 'custom' && (
        <>
          <label>
            <span>{t('ranking.from')}</span>
            <input type="date" id="period-from" value={value.from} onChange={(e) => set({ from: e.currentTarget.value })} />
          </label>
          <label>
            <span>{t('ranking.to')}</span>
            <input type="date" id="period-to" value={value.to} onChange={(e) => set({ to: e.currentTarget.value })} />
          </label>
        </>
      )}
    </div>
  )
}

export function Ranking({ companyId }: { companyId?: string | undefined }) {
  const [rows, setRows] = useState<Row[] | null>(null)
  const [range, setRange] = useState<{ from: string; to: string } | null>(null)
  const choice = useStore(chosen)
  // One "now" per choice: a new one each render would change the query and read again forever.
  const query = useMemo(() => periodQuery(choice, new Date()), [choice])
  const names = useMemo(() => new Map((rows ?? []).map((r) => [r.companyId, r.name])), [rows])
  useEffect(() => {
    if (query === null) return
    let live = true
    setRows(null)
    void api<{ items: Row[]; from: string; to: string }>(`/api/v1/evaluation/ranking${query}`).then((r) => {
      if (!live) return
      setRows(r.items)
      setRange({ from: r.from, to: r.to })
    })
    return () => {
      live = false
    }
  }, [query])
  return (
    <section class="ranking">
      <h1>{t('ranking.title')}</h1>
      <PeriodPicker value={choice} />
      {query === null && <p class="error">{t('ranking.badRange')}</p>}
      <p class="muted" id="period-range">
        {range ? t('ranking.range', { from: dateOnly(range.from), to: dateOnly(new Date(Date.parse(range.to) - 1)) }) : t('ranking.period')} ·{' '}
        <button type="button" class="link" id="csv" onClick={() => void download(`/api/v1/evaluation/ranking.csv${query ?? ''}`, 'ranking.csv')}>
          {t('ranking.csv')}
        </button>
      </p>
      {range && <ScoreFormula at={range.from} />}
      {rows === null ? (
        <p>{t('common.loading')}</p>
      ) : rows.length === 0 ? (
        <p class="empty">{t('ranking.empty')}</p>
      ) : (
        <table id="ranking" class="alerts">
          <thead>
            <tr>
              <th>{t('ranking.rank')}</th>
              <th>{t('ranking.company')}</th>
              <th>{t('ranking.score')}</th>
              <th>{t('ranking.change')}</th>
              {COMPONENTS.map((c) => (
                <th key={c}>{t(`component.${c}`)}</th>
              ))}
              <th>{t('ranking.alerts')}</th>
              <th title={t('ranking.arriveHint')}>{t('ranking.arrive')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.companyId} class={r.companyId === companyId ? 'selected' : ''}>
                <td data-label={t('ranking.rank')}>{r.rank ?? t('common.none')}</td>
                <td data-label={t('ranking.company')}>
                  <a href={href('ranking', r.companyId)}>{localName(r.name)}</a>
                </td>
                <td data-label={t('ranking.score')}>
                  <b>{r.score === null ? t('common.none') : num(r.score, 1)}</b>
                </td>
                <td data-label={t('ranking.change')}>
                  <Change score={r.change.score} rank={r.change.rank} />
                </td>
                {COMPONENTS.map((c) => (
                  <td key={c} data-label={t(`component.${c}`)}>
                    {pct(r.components[c])}
                  </td>
                ))}
                <td data-label={t('ranking.alerts')}>{r.alerts}</td>
                <td class="arrive" data-label={t('ranking.arrive')} title={t('ranking.arriveHint')}>
                  {secs(r.timeToArrive.medianS)} / {secs(r.timeToArrive.p90S)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rows !== null && rows.length > 0 && <ScoreHistory names={names} />}
      {companyId && (
        <>
          <h2>
            {localName(rows?.find((r) => r.companyId === companyId)?.name ?? companyId)} · {t('ranking.drill')}
          </h2>
          <CompanyDrill id={companyId} query={query ?? ''} />
        </>
      )}
    </section>
  )
}
