// The operator's live alert board: counts, filters, the list (a table on a desk, cards on a
// phone), bulk acknowledge of the rows shown or of all matching (components/BulkByFilter.tsx), a cue for each new critical alert, the detail of the opened one, and
// the export of the filtered alerts as CSV (components/ExportCsv.tsx).
import { Component } from 'preact'
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { Sev, State } from '../components/Badges.tsx'
import { BoardShortcuts } from '../components/BoardShortcuts.tsx'
import { BulkByFilter } from '../components/BulkByFilter.tsx'
import { Deadline, dueOf } from '../components/Deadline.tsx'
import { ExportCsv } from '../components/ExportCsv.tsx'
import { Filters, matches, NO_FILTER, toQuery, type Filter } from '../components/Filters.tsx'
import { entryAlerts, foldGroups, GroupRows } from '../components/GroupRows.tsx'
import { alertTitle, dateTime, lang, localName, num, t, type Lang } from '../i18n/index.ts'
import { alerts, bulkAck, newCritical } from '../lib/alerts.ts'
import { beep } from '../lib/cue.ts'
import { communityName, companyName, placeOf, registry, type Registry } from '../lib/registry.ts'
import { api } from '../lib/api.ts'
import { go } from '../lib/router.ts'
import { me } from '../lib/session.ts'
import { useStore } from '../lib/store.ts'
import { SEVERITIES, STATES, type Alert } from '../lib/types.ts'
import { AlertDetail } from './AlertDetail.tsx'

/**
 * Rows drawn at first, and added per "show more": the most urgent lead the list and the filters
 * narrow it. The table's layout cost grows with its rows and is paid on every live event (a row
 * enters at its place); 100 rows kept it within the board's budget (README, console budgets).
 */
const PAGE_ROWS = 100
const SEV_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]))

function Counts({ map }: { map: ReadonlyMap<number, Alert> }) {
  // One pass over the alerts (thousands: well under a millisecond), no list built.
  const n = new Map<string, number>()
  for (const a of map.values()) {
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

interface RowProps {
  a: Alert
  checked: boolean
  onCheck: (id: number, on: boolean) => void
  /** Not read: a change of language or of the registry's names must redraw the row. */
  lang: Lang
  reg: Registry
  /** A member's row under its open group (components/GroupRows.tsx). */
  member?: boolean
}

/**
 * One alert. A live event changes one alert of thousands: the row redraws only when its alert (a
 * new object on every change), its check box, the language or the names changed, so Preact diffs
 * one row, not all of them. The countdown redraws itself on the shared clock.
 */
class Row extends Component<RowProps> {
  shouldComponentUpdate(next: RowProps): boolean {
    const p = this.props
    return next.a !== p.a || next.checked !== p.checked || next.lang !== p.lang || next.reg !== p.reg || next.onCheck !== p.onCheck
  }

  render({ a, checked, onCheck, member }: RowProps) {
    return (
      <tr class={`alert-row ${a.state}${member ? ' member' : ''}`} data-id={a.id} onClick={() => go('alert', a.id)}>
        <td class="check" onClick={(e) => e.stopPropagation()}>
          <input type="checkbox" aria-label={alertTitle(a)} checked={checked} disabled={a.state !== 'open'} onChange={(e) => onCheck(a.id, e.currentTarget.checked)} />
        </td>
        <td class="sev" data-label={t('col.severity')}>
          <Sev s={a.severity} />
        </td>
        <td class="title" data-label={t('col.title')}>
          <a href={`#/alert/${a.id}`}>{alertTitle(a)}</a>
        </td>
        <td data-label={t('col.where')}>
          {communityName(a.communityId)}
          {a.deviceId && <span class="muted"> · {placeOf(null, a.deviceId)}</span>}
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
}

/** Sort keys per alert version: an alert object never changes (a change is a new object), so its keys hold. */
const SORT_KEYS = new WeakMap<Alert, { sev: number; due: number }>()

function sortKeys(a: Alert): { sev: number; due: number } {
  let k = SORT_KEYS.get(a)
  if (k === undefined) SORT_KEYS.set(a, (k = { sev: SEV_RANK[a.severity] ?? 0, due: dueOf(a)?.at ?? Infinity }))
  return k
}

/** Most severe first, then the nearest deadline, then the newest. */
function byUrgency(x: Alert, y: Alert): number {
  const kx = sortKeys(x)
  const ky = sortKeys(y)
  return kx.sev - ky.sev || kx.due - ky.due || y.id - x.id
}

/** The list shown and what it was made from. */
interface Shown {
  map: ReadonlyMap<number, Alert>
  filter: Filter
  lang: Lang
  reg: Registry
  list: Alert[]
}

/** Beyond this many changed alerts at once (a reload, a bulk acknowledge) sorting afresh is as quick. */
const INCREMENTAL_MAX = 64

/**
 * The filtered list in urgency order. A live event changes one alert of thousands: rather than
 * filter and sort them all again, the changed alerts leave the previous list and re-enter at their
 * place by binary search. A new filter, language (text search) or registry (kind filter), a
 * removal or many changes at once rebuild it.
 */
function shownList(prev: Shown | undefined, next: Omit<Shown, 'list'>): Alert[] {
  const rebuild = () => [...next.map.values()].filter((a) => matches(next.filter, a)).sort(byUrgency)
  if (prev === undefined || prev.filter !== next.filter || prev.lang !== next.lang || prev.reg !== next.reg) return rebuild()
  const changed: Alert[] = []
  const replaced = new Set<number>()
  for (const [id, a] of next.map) {
    const old = prev.map.get(id)
    if (old === a) continue
    if (old !== undefined) replaced.add(id)
    changed.push(a)
    if (changed.length > INCREMENTAL_MAX) return rebuild()
  }
  // The store only adds and replaces; anything else (sign-out) starts over.
  if (next.map.size !== prev.map.size + changed.length - replaced.size) return rebuild()
  const list = replaced.size === 0 ? [...prev.list] : prev.list.filter((a) => !replaced.has(a.id))
  for (const a of changed) {
    if (!matches(next.filter, a)) continue
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (byUrgency(list[mid] as Alert, a) <= 0) lo = mid + 1
      else hi = mid
    }
    list.splice(lo, 0, a)
  }
  return list
}

/** Re-read every minute: a rota's hand-over or a new contact point changes it without an event. */
const COVERAGE_EVERY_MS = 60_000

interface Coverage {
  uncovered: number
  companies: { companyId: string; companyName: string; uncovered: boolean }[]
}

/**
 * The companies whose crew or manager rota reaches nobody now (API: GET /api/v1/rotas/coverage):
 * their pages go to the office's duty officer, who should know before the first one arrives.
 */
function CoverageNotice() {
  const [coverage, setCoverage] = useState<Coverage | null>(null)
  useEffect(() => {
    let live = true
    const read = () => void api<Coverage>('/api/v1/rotas/coverage').then((c) => live && setCoverage(c), () => undefined)
    read()
    const timer = setInterval(read, COVERAGE_EVERY_MS)
    return () => {
      live = false
      clearInterval(timer)
    }
  }, [])
  useStore(lang)
  if (!coverage || coverage.uncovered === 0) return null
  const names = coverage.companies.filter((c) => c.uncovered).map((c) => localName(c.companyName))
  return (
    <p class="notice" role="status" id="coverage">
      {t('board.uncovered', { names: names.slice(0, 3).join(t('list.sep')) + (names.length > 3 ? '…' : '') })}
    </p>
  )
}

export function Board({ openId }: { openId?: number | undefined }) {
  const map = useStore(alerts)
  const user = useStore(me)
  // A street officer reads their street's board; the API refuses them every change and export.
  const readOnly = user?.role === 'street_officer'
  const critical = useStore(newCritical)
  const [filter, setFilter] = useState<Filter>(NO_FILTER)
  const [checked, setChecked] = useState<Set<number>>(new Set())
  const [rows, setRows] = useState(PAGE_ROWS)
  const refilter = useCallback((f: Filter) => {
    setFilter(f)
    setRows(PAGE_ROWS)
  }, [])
  useEffect(() => {
    if (critical) beep()
  }, [critical])
  const l = useStore(lang)
  const reg = useStore(registry)
  const last = useRef<Shown | undefined>(undefined)
  const shown = useMemo(() => {
    const next = { map, filter, lang: l, reg }
    const list = shownList(last.current, next)
    last.current = { ...next, list }
    return list
  }, [map, filter, l, reg])
  const selected = shown.filter((a) => checked.has(a.id) && a.state === 'open').map((a) => a.id)
  // A group of alerts is one entry (one row, opened to its members); "show more" counts entries.
  const entries = useMemo(() => foldGroups(shown), [shown])
  const drawnEntries = entries.slice(0, rows)
  const drawn = entryAlerts(drawnEntries)
  const drawnOpen = drawn.filter((a) => a.state === 'open')
  const [acked, setAcked] = useState<number | null>(null)
  // Stable, so that a check box changes its own row only.
  const check = useCallback((id: number, on: boolean) => {
    setChecked((prev) => {
      const next = new Set(prev)
      if (on) next.add(id)
      else next.delete(id)
      return next
    })
  }, [])
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
      {user?.role !== 'crew' && !readOnly && <CoverageNotice />}
      <Counts map={map} />
      <Filters value={filter} onChange={refilter} />
      {!readOnly && (
        <ExportCsv
          id="export-alerts"
          fallbackName="alerts.csv"
          path={(q) => `/api/v1/alerts.csv?${toQuery(filter, q).toString()}`}
          note={filter.text ? t('export.noText') : undefined}
        />
      )}
      <div class="bulk">
        {!readOnly && (
          <>
            <label>
              <input
                type="checkbox"
                id="select-shown"
                checked={drawnOpen.length > 0 && drawnOpen.every((a) => checked.has(a.id))}
                onChange={(e) => setChecked(e.currentTarget.checked ? new Set(drawnOpen.map((a) => a.id)) : new Set())}
              />{' '}
              {t('board.selectAll')}
            </label>
            <button
              type="button"
              id="bulk-ack"
              disabled={selected.length === 0}
              onClick={() =>
                void bulkAck(selected).then((n) => {
                  setChecked(new Set())
                  setAcked(n)
                })
              }
            >
              {t('board.bulkAck', { n: selected.length })}
            </button>
            <BulkByFilter filter={filter} canResolve={user?.role === 'admin' || user?.role === 'operator'} />
          </>
        )}
        <span class="muted">{t('board.count', { n: shown.length })}</span>
        {acked !== null && (
          <span class="muted" role="status" id="bulk-ack-outcome">
            {t('bulk.doneAck', { n: num(acked, 0) })}
          </span>
        )}
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
            {drawnEntries.map((e) =>
              'a' in e ? (
                <Row key={e.a.id} a={e.a} checked={checked.has(e.a.id)} onCheck={check} lang={l} reg={reg} />
              ) : (
                <GroupRows
                  key={`g${e.groupId}`}
                  groupId={e.groupId}
                  members={e.members}
                  isChecked={(id) => checked.has(id)}
                  onCheck={check}
                  row={(a) => <Row key={a.id} a={a} checked={checked.has(a.id)} onCheck={check} lang={l} reg={reg} member />}
                />
              ),
            )}
          </tbody>
        </table>
      )}
      {entries.length > rows && (
        <button type="button" id="more" class="ghost" onClick={() => setRows(rows + PAGE_ROWS)}>
          {t('board.more', { n: Math.min(PAGE_ROWS, entries.length - rows) })}
        </button>
      )}
      {openId !== undefined && <AlertDetail id={openId} onClose={() => go('board')} />}
      <BoardShortcuts />
    </section>
  )
}
