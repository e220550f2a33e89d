// The ranking drill-down's 12345 hotline section: a company's cases of the last 30 days and their
// figures (GET /api/v1/hotline/companies/:id/cases). Shown beside the score; part of it when the weights version in force weighs it
// (docs/operators.md "Hotline cases" has the formula).
import { useEffect, useState } from 'preact/hooks'
import { dateTime, duration, num, t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'
import { me } from '../lib/session.ts'
import { useStore } from '../lib/store.ts'
import { HotlineImport } from './HotlineImport.tsx'

/** Cases listed; the total says how many more there are. */
const SHOWN = 20

interface Cases {
  total: number
  figures: {
    cases: number
    perCommunity: number | null
    onTimeShare: number | null
    due: number
    deadlineS: number
    satisfaction: { mean: number | null; raters: number }
  }
  items: { caseNo: string; communityName: string; receivedAt: string; category: string | null; summary: string | null; handledAt: string | null; satisfaction: number | null }[]
}

export function HotlineCases({ companyId }: { companyId: string }) {
  const [d, setD] = useState<Cases | null>(null)
  const [loads, setLoads] = useState(0)
  const user = useStore(me)
  useEffect(() => void api<Cases>(`/api/v1/hotline/companies/${encodeURIComponent(companyId)}/cases?limit=${SHOWN}`).then(setD), [companyId, loads])
  if (!d) return <p>{t('common.loading')}</p>
  // Importing is the office's (the API refuses crews).
  const office = user?.role === 'admin' || user?.role === 'operator'
  const f = d.figures
  const none = t('common.none')
  return (
    <section class="hotline" id="hotline" aria-labelledby="hotline-title">
      <h3 id="hotline-title">{t('hotline.title')}</h3>
      <dl class="facts">
        <dt>{t('hotline.cases')}</dt>
        <dd id="hotline-cases">{f.cases}</dd>
        <dt>{t('hotline.perCommunity')}</dt>
        <dd>{f.perCommunity === null ? none : num(f.perCommunity, 1)}</dd>
        <dt>{t('hotline.onTime', { deadline: duration(f.deadlineS * 1000) })}</dt>
        <dd>{f.onTimeShare === null ? none : t('hotline.share', { pct: num(f.onTimeShare * 100, 0), n: f.due })}</dd>
        <dt>{t('hotline.satisfaction')}</dt>
        <dd>{f.satisfaction.mean === null ? none : t('hotline.rating', { mean: num(f.satisfaction.mean, 1), n: f.satisfaction.raters })}</dd>
      </dl>
      <p class="muted small">{t('hotline.notScored')}</p>
      {office && <HotlineImport onImported={() => setLoads((n) => n + 1)} />}
      {d.items.length === 0 ? (
        <p class="empty">{t('hotline.empty')}</p>
      ) : (
        <table class="alerts">
          <thead>
            <tr>
              <th>{t('hotline.caseNo')}</th>
              <th>{t('filter.community')}</th>
              <th>{t('hotline.received')}</th>
              <th>{t('hotline.category')}</th>
              <th>{t('hotline.handled')}</th>
              <th>{t('hotline.rated')}</th>
            </tr>
          </thead>
          <tbody>
            {d.items.map((c) => (
              <tr key={c.caseNo}>
                <td data-label={t('hotline.caseNo')}>{c.caseNo}</td>
                <td data-label={t('filter.community')}>{c.communityName}</td>
                <td data-label={t('hotline.received')}>{dateTime(c.receivedAt)}</td>
                <td data-label={t('hotline.category')} title={c.summary ?? undefined}>
                  {c.category ?? none}
                </td>
                <td data-label={t('hotline.handled')}>{c.handledAt === null ? t('hotline.open') : dateTime(c.handledAt)}</td>
                <td data-label={t('hotline.rated')}>{c.satisfaction ?? none}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {d.total > d.items.length && <p class="muted small">{t('hotline.more', { shown: d.items.length, n: d.total })}</p>}
    </section>
  )
}
