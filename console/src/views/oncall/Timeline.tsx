// Who is on call when over the next days: a bar cut into shifts (a swap or cover marked), the days
// under it, and the same shifts as a list a phone reads (and a screen reader).
import { useEffect, useState } from 'preact/hooks'
import { dateTime, monthDay, t } from '../../i18n/index.ts'
import { api } from '../../lib/api.ts'
import { messageOf } from '../../lib/forms.ts'
import type { Shift } from './owner.ts'

const DAYS = 7

/** The local midnights within [from, to): where each day's tick goes. */
function midnights(from: number, to: number): number[] {
  const d = new Date(from)
  d.setHours(24, 0, 0, 0)
  const out: number[] = []
  // setDate, not adding 24 h: a day across a DST change is 23 or 25 hours long.
  for (; d.getTime() < to && out.length < 40; d.setDate(d.getDate() + 1)) out.push(d.getTime())
  return out
}

export function Timeline({ rotaId, members, version }: { rotaId: string; members: readonly string[]; version: number }) {
  const [data, setData] = useState<{ from: string; to: string; shifts: Shift[] } | null>(null)
  const [error, setError] = useState('')
  useEffect(() => {
    void api<{ from: string; to: string; shifts: Shift[] }>(`/api/v1/rotas/${encodeURIComponent(rotaId)}/schedule?days=${DAYS}`).then(setData, (err: unknown) => setError(messageOf(err)))
  }, [rotaId, version])
  if (error) return <p class="error">{error}</p>
  if (!data) return <p class="muted">{t('common.loading')}</p>
  const start = Date.parse(data.from)
  const span = Date.parse(data.to) - start
  const pct = (ms: number) => `${((ms / span) * 100).toFixed(3)}%`
  const name = (s: Shift) => s.userName ?? s.userId
  return (
    <div class="timeline" data-timeline={rotaId}>
      <div class="timeline-bar" aria-hidden="true">
        {data.shifts.map((s) => (
          <div
            key={s.from}
            class={`shift m${Math.max(0, members.indexOf(s.userId)) % 4}${s.override ? ' override' : ''}`}
            style={{ left: pct(Date.parse(s.from) - start), width: pct(Date.parse(s.to) - Date.parse(s.from)) }}
            title={`${name(s)} · ${dateTime(s.from)} – ${dateTime(s.to)}`}
          >
            {name(s)}
          </div>
        ))}
      </div>
      <div class="timeline-days" aria-hidden="true">
        {midnights(start, start + span).map((m) => (
          <span key={m} style={{ left: pct(m - start) }}>
            {monthDay(m)}
          </span>
        ))}
      </div>
      {data.shifts.length === 0 ? (
        <p class="empty">{t('rota.nobodyOnCall')}</p>
      ) : (
        <ol class="shifts" aria-label={t('rota.timeline')}>
          {data.shifts.map((s) => (
            <li key={s.from} data-shift={name(s)}>
              <strong>{name(s)}</strong> {dateTime(s.from)} – {dateTime(s.to)}
              {s.override && <span class="badge"> {t('rota.overridden')}</span>}
            </li>
          ))}
        </ol>
      )}
    </div>
  )
}
