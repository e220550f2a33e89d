// The operator's live alert board: counts, filters, the list (a table on a desk, cards on a
// phone), bulk acknowledge, a cue for each new critical alert, and the detail of the opened one.
import { useEffect, useMemo, useState } from 'preact/hooks'
import { Sev, State } from '../components/Badges.tsx'
import { Deadline, dueOf } from '../components/Deadline.tsx'
import { Filters, matches, NO_FILTER, type Filter } from '../components/Filters.tsx'
import { alertTitle, dateTime, t } from '../i18n/index.ts'
import { alerts, bulkAck, newCritical } from '../lib/alerts.ts'
import { beep } from '../lib/cue.ts'
import { communityName, companyName, deviceName } from '../lib/registry.ts'
import { go } from '../lib/router.ts'
import { useStore } from '../lib/store.ts'
import { SEVERITIES, STATES, type Alert } from '../lib/types.ts'
import { AlertDetail } from './AlertDetail.tsx'

/** Rows drawn at once; the filters narrow a longer list (the counts cover all of it). */
const MAX_ROWS = 300
const SEV_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]))

function Counts({ list }: { list: Alert[] }) {
  // One pass over the list (it can hold thousands).
  const n = new Map<string, number>()
  for (const a of list) {
    if (a.state === 'resolved') continue
    n.set(a.severity, (n.get(a.severity) ?? 0) + 1)
    n.set(a.state, (n.get(a.state) ?? 0) + 1)
  }
  return (
    <div class="counts" id="counts">
      {SEVERITIES.map((s) => (
        <div key={s} class={`count sev-${s}`} data-severity={s}>
          <b>{n.get(s) ?? 0}</b> {t(`severity.${s}`)}
        </div>
      ))}
      {STATES.filter((s) => s !== 'resolved').map((s) => (
        <div key={s} class="count" data-state={s}>
          <b>{n.get(s) ?? 0}</b> {t(`state.${s}`)}
        </div>
      ))}
    </div>
  )
}

function Row({ a, checked, onCheck }: { a: Alert; checked: boolean; onCheck: (on: boolean) => void }) {
  return (
    <tr class={`alert-row ${a.state}`} data-id={a.id} onClick={() => go('alert', a.id)}>
      <td class="check" onClick={(e) => e.stopPropagation()}>
        <input type="checkbox" aria-label={alertTitle(a)} checked={checked} disabled={a.state !== 'open'} onChange={(e) => onCheck(e.currentTarget.checked)} />
      </td>
      <td class="sev" data-label={t('col.severity')}>
        <Sev s={a.severity} />
      </td>
      <td class="title" data-label={t('col.title')}>
        <a href={`#/alert/${a.id}`}>{alertTitle(a)}</a>
      </td>
      <td data-label={t('col.where')}>
        {communityName(a.communityId)}
        {a.deviceId && <span class="muted"> · {deviceName(a.deviceId)}</span>}
        {a.location && <span class="muted"> · {a.location}</span>}
      </td>
      <td data-label={t('col.company')}>{companyName(a.companyId)}</td>
      <td class="state" data-label={t('col.state')}>
        <State s={a.state} />
      </td>
      <td data-label={t('col.raised')}>{dateTime(a.raisedAt)}</td>
      <td data-label={t('col.deadline')}>
        <Deadline alert={a} />
      </td>
    </tr>
  )
}

export function Board({ openId }: { openId?: number | undefined }) {
  const map = useStore(alerts)
  const critical = useStore(newCritical)
  const [filter, setFilter] = useState<Filter>(NO_FILTER)
  const [checked, setChecked] = useState<Set<number>>(new Set())
  useEffect(() => {
    if (critical) beep()
  }, [critical])
  const all = useMemo(() => [...map.values()], [map])
  const shown = useMemo(
    () =>
      all
        .filter((a) => matches(filter, a))
        // Most severe first, then the nearest deadline; keys computed once per alert, not per comparison.
        .map((a) => ({ a, sev: SEV_RANK[a.severity] ?? 0, due: dueOf(a)?.at ?? Infinity }))
        .sort((x, y) => x.sev - y.sev || x.due - y.due || y.a.id - x.a.id)
        .map((x) => x.a),
    [all, filter],
  )
  const selected = shown.filter((a) => checked.has(a.id) && a.state === 'open').map((a) => a.id)
  const check = (id: number, on: boolean) => {
    const next = new Set(checked)
    if (on) next.add(id)
    else next.delete(id)
    setChecked(next)
  }
  return (
    <section class="board">
      <h1 class="sr-only">{t('board.title')}</h1>
      {critical && critical.state === 'open' && (
        <div class="cue" role="alert" id="cue">
          <a href={`#/alert/${critical.id}`}>{t('board.newCritical', { title: alertTitle(critical) })}</a>
          <button type="button" class="ghost" aria-label={t('alert.close')} onClick={() => newCritical.set(null)}>
            ×
          </button>
        </div>
      )}
      <Counts list={all} />
      <Filters value={filter} onChange={setFilter} />
      <div class="bulk">
        <label>
          <input type="checkbox" onChange={(e) => setChecked(e.currentTarget.checked ? new Set(shown.filter((a) => a.state === 'open').map((a) => a.id)) : new Set())} />{' '}
          {t('board.selectAll')}
        </label>
        <button type="button" id="bulk-ack" disabled={selected.length === 0} onClick={() => void bulkAck(selected.slice(0, 500)).then(() => setChecked(new Set()))}>
          {t('board.bulkAck', { n: selected.length })}
        </button>
        <span class="muted">{t('board.count', { n: shown.length })}</span>
      </div>
      {shown.length === 0 ? (
        <p class="empty">{t('board.empty')}</p>
      ) : (
        <table id="alerts" class="alerts">
          <thead>
            <tr>
              <th>
                <span class="sr-only">{t('board.selectAll')}</span>
              </th>
              <th>{t('col.severity')}</th>
              <th>{t('col.title')}</th>
              <th>{t('col.where')}</th>
              <th>{t('col.company')}</th>
              <th>{t('col.state')}</th>
              <th>{t('col.raised')}</th>
              <th>{t('col.deadline')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.slice(0, MAX_ROWS).map((a) => (
              <Row key={a.id} a={a} checked={checked.has(a.id)} onCheck={(on) => check(a.id, on)} />
            ))}
          </tbody>
        </table>
      )}
      {openId !== undefined && <AlertDetail id={openId} onClose={() => go('board')} />}
    </section>
  )
}
