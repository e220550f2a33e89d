// Audit log (admin/operator): who changed what through the API, newest first — a rule's threshold,
// a maintenance window, a user disabled, a device secret rotated, a community handed to another
// company — and attempts refused with 403. Each row opens to what was sent, secrets already
// replaced by "[redacted]" on the server (api/audit/redact.ts). The action reads as a label in the
// reader's language, or as its stable name when the console has none (an API newer than the
// console). Filters by person, action and target id; pages of 100 load on demand, as dead letters do.
// The filtered log exports as CSV (components/ExportCsv.tsx), a month at a time if need be.
import { useEffect, useState } from 'preact/hooks'
import { AUDIT_ACTIONS } from '../../../shared/audit-actions.ts'
import { dateTime, lang, localName, t, tMaybe } from '../i18n/index.ts'
import { usePages } from '../lib/pages.ts'
import { ExportCsv } from '../components/ExportCsv.tsx'
import { ChoiceFilter, TextFilter } from '../components/Filters.tsx'
import { ErrorLine } from '../components/Form.tsx'
import { PageEnd } from '../components/PageEnd.tsx'
import type { AuditEntry } from '../lib/types.ts'

const PAGE = 100
const MAX_ROWS = 2000
const ACTIONS = [...new Set(Object.values(AUDIT_ACTIONS))]

const actionLabel = (action: string): string => tMaybe(`audit.action.${action}`) ?? action

/**
 * The path parameters and created id, each under a label in the reader's language: a user, device,
 * company or community by its name (the id beside it), anything else by its id ("规则 rule-7").
 */
function Target({ target, names = {} }: { target: Record<string, string>; names?: Record<string, string> | undefined }) {
  const parts = Object.entries(target)
  if (parts.length === 0) return <span class="muted">{t('form.none')}</span>
  return (
    <>
      {parts.map(([k, v]) => {
        const name = Object.hasOwn(names, v) ? names[v] : undefined
        return (
          <div key={k}>
            <span class="muted small">{tMaybe(`audit.key.${k}`) ?? k}{lang.get() === 'zh-CN' ? '：' : ': '}</span>
            {name === undefined ? <code>{v}</code> : <>{localName(name)} <code class="muted small">{v}</code></>}
          </div>
        )
      })}
    </>
  )
}

/** What was sent (redacted), the query, and where it came from; opened on demand. */
function Details({ e }: { e: AuditEntry }) {
  const sent = e.body === null ? t('audit.noBody') : JSON.stringify(e.body, null, 2)
  return (
    <details class="payload">
      <summary>{t('audit.show')}</summary>
      {e.query !== null && (
        <>
          <div class="muted small">{t('audit.query')}</div>
          <code class="payload">{JSON.stringify(e.query)}</code>
        </>
      )}
      <div class="muted small">{t('audit.body')}</div>
      <code class="payload">{sent}</code>
      <div class="muted small">{t('audit.origin', { ip: e.ip ?? '—', request: e.requestId })}</div>
    </details>
  )
}

export function Audit() {
  const [filter, setFilter] = useState({ actor: '', action: '', target: '' })
  /** The filters as the API takes them, added to `q`: the list and its CSV export share them. */
  const filtered = (q: URLSearchParams) => {
    if (filter.actor.trim()) q.set('actor', filter.actor.trim())
    if (filter.action) q.set('action', filter.action)
    if (filter.target.trim()) q.set('target', filter.target.trim())
    return q
  }
  const query = (after: number | null) => {
    const q = filtered(new URLSearchParams({ limit: String(PAGE) }))
    if (after !== null) q.set('cursor', String(after))
    return `/api/v1/audit?${q.toString()}`
  }
  const pages = usePages<AuditEntry>(query, MAX_ROWS)
  const { items, error, load } = pages
  // The text filters apply on Enter or the button, not on every key.
  useEffect(() => void load(false), [filter.action])
  return (
    <section class="audit">
      <h1>{t('audit.title')}</h1>
      <p class="muted">{t('audit.about')}</p>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault()
          void load(false)
        }}
      >
        <ChoiceFilter id="audit-action" label={t('audit.action')} value={filter.action} options={ACTIONS.map((a) => [a, actionLabel(a)] as const)} onPick={(action) => setFilter({ ...filter, action })} />
        <TextFilter id="audit-actor" label={t('audit.who')} hint={t('audit.whoHint')} value={filter.actor} onText={(actor) => setFilter({ ...filter, actor })} />
        <TextFilter id="audit-target" label={t('audit.target')} hint={t('audit.targetHint')} value={filter.target} onText={(target) => setFilter({ ...filter, target })} />
        <button type="submit">{t('dead.apply')}</button>
      </form>
      <ExportCsv id="export-audit" fallbackName="audit.csv" path={(q) => `/api/v1/audit.csv?${filtered(q).toString()}`} />
      <ErrorLine text={error} />
      <table class="alerts" id="audit-log">
        <thead>
          <tr>
            <th>{t('audit.time')}</th>
            <th>{t('audit.who')}</th>
            <th>{t('audit.action')}</th>
            <th>{t('audit.target')}</th>
            <th>{t('audit.details')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id} data-audit={e.id} data-action={e.action}>
              <td data-label={t('audit.time')}>{dateTime(e.at)}</td>
              <td data-label={t('audit.who')}>
                <b>{e.actorName}</b>
                <div class="muted small">{t(`role.${e.actorRole}`)}</div>
              </td>
              <td data-label={t('audit.action')}>
                <span class="audit-action">{actionLabel(e.action)}</span>
                {e.status === 403 && <span class="badge refused">{t('audit.refused')}</span>}
                <div class="muted small">
                  <code>{e.action}</code>
                </div>
              </td>
              <td data-label={t('audit.target')}>
                <Target target={e.target} names={e.names} />
              </td>
              <td data-label={t('audit.details')} class="payload-cell">
                <Details e={e} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <PageEnd pages={pages} id="audit-more" empty={t('audit.none')} />
    </section>
  )
}
