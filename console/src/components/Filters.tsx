// The board's filters. "Unresolved" is the default state filter: the board is a to-do list.
import { t } from '../i18n/index.ts'
import { registry } from '../lib/registry.ts'
import { useStore } from '../lib/store.ts'
import { KINDS, SEVERITIES, STATES, type Alert } from '../lib/types.ts'
import { alertReason, alertTitle } from '../i18n/index.ts'
import { communityName, deviceName } from '../lib/registry.ts'

export interface Filter {
  severity: string
  state: string
  company: string
  community: string
  kind: string
  text: string
}

export const NO_FILTER: Filter = { severity: '', state: 'unresolved', company: '', community: '', kind: '', text: '' }

export function matches(f: Filter, a: Alert): boolean {
  if (f.severity && a.severity !== f.severity) return false
  if (f.state === 'unresolved' ? a.state === 'resolved' : f.state && a.state !== f.state) return false
  if (f.company && a.companyId !== f.company) return false
  if (f.community && a.communityId !== f.community) return false
  if (f.kind && (a.deviceId === null || registry.get().devices.get(a.deviceId)?.kind !== f.kind)) return false
  if (f.text) {
    const hay = [alertTitle(a), a.title, a.deviceId, deviceName(a.deviceId), communityName(a.communityId), a.location, a.reason, alertReason(a)].join(' ').toLowerCase()
    if (!hay.includes(f.text.toLowerCase())) return false
  }
  return true
}

/** The states "unresolved" stands for. */
const UNRESOLVED = STATES.filter((s) => s !== 'resolved')

/**
 * The filter as the API's alert list takes it (GET /api/v1/alerts, its CSV export), added to `q`.
 * The text search has no API counterpart: it matches the names and texts as shown in the UI language.
 */
export function toQuery(f: Filter, q: URLSearchParams): URLSearchParams {
  if (f.severity) q.set('severity', f.severity)
  if (f.state) q.set('state', f.state === 'unresolved' ? UNRESOLVED.join(',') : f.state)
  if (f.company) q.set('company', f.company)
  if (f.community) q.set('community', f.community)
  if (f.kind) q.set('kind', f.kind)
  return q
}

interface Props {
  value: Filter
  onChange: (f: Filter) => void
}

export function Filters({ value, onChange }: Props) {
  const reg = useStore(registry)
  const set = (k: keyof Filter) => (e: Event) => onChange({ ...value, [k]: (e.currentTarget as HTMLSelectElement | HTMLInputElement).value })
  const select = (k: keyof Filter, label: string, options: [string, string][]) => (
    <label>
      <span>{label}</span>
      <select id={`filter-${k}`} value={value[k]} onChange={set(k)}>
        <option value="">{t('filter.all')}</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  )
  return (
    <div class="filters">
      {select('severity', t('filter.severity'), SEVERITIES.map((s) => [s, t(`severity.${s}`)]))}
      {select('state', t('filter.state'), [['unresolved', t('filter.unresolved')], ...STATES.map((s): [string, string] => [s, t(`state.${s}`)])])}
      {reg.companies.size > 1 && select('company', t('filter.company'), [...reg.companies.values()].map((c) => [c.id, c.name]))}
      {select('community', t('filter.community'), [...reg.communities.values()].map((c) => [c.id, c.name]))}
      {select('kind', t('filter.kind'), KINDS.map((k) => [k, t(`kind.${k}`)]))}
      <label class="grow">
        <span>{t('filter.text')}</span>
        <input id="filter-text" type="search" placeholder={t('filter.textHint')} value={value.text} onInput={set('text')} />
      </label>
    </div>
  )
}
