// The board's filters. "Unresolved" is the default state filter: the board is a to-do list.
import { t } from '../i18n/index.ts'
import { choices, registry } from '../lib/registry.ts'
import { useStore } from '../lib/store.ts'
import { KINDS, SEVERITIES, STATES, type Alert } from '../lib/types.ts'
import { alertReason, alertTitle } from '../i18n/index.ts'
import { communityName, deviceName } from '../lib/registry.ts'
import { Choice } from './Form.tsx'

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

/** A filter of a list screen: one of `options` (`[value, text]`), or all of them (""). */
export function ChoiceFilter({ id, label, value, options, onPick }: { id: string; label: string; value: string; options: readonly (readonly [string, string])[]; onPick: (v: string) => void }) {
  return (
    <label>
      <span>{label}</span>
      <Choice a={{ id }} value={value} onPick={onPick} empty={t('filter.all')} options={options} />
    </label>
  )
}

/** A free-text filter of a list screen, taking the rest of the row. */
export function TextFilter({ id, label, value, hint, onText }: { id: string; label: string; value: string; hint?: string; onText: (v: string) => void }) {
  return (
    <label class="grow">
      <span>{label}</span>
      <input id={id} type="search" value={value} placeholder={hint} onInput={(e) => onText(e.currentTarget.value)} />
    </label>
  )
}

interface Props {
  value: Filter
  onChange: (f: Filter) => void
}

export function Filters({ value, onChange }: Props) {
  const reg = useStore(registry)
  const set = (k: keyof Filter) => (v: string) => onChange({ ...value, [k]: v })
  const select = (k: keyof Filter, label: string, options: [string, string][]) => <ChoiceFilter id={`filter-${k}`} label={label} value={value[k]} options={options} onPick={set(k)} />
  return (
    <div class="filters">
      {select('severity', t('filter.severity'), SEVERITIES.map((s) => [s, t(`severity.${s}`)]))}
      {select('state', t('filter.state'), [['unresolved', t('filter.unresolved')], ...STATES.map((s): [string, string] => [s, t(`state.${s}`)])])}
      {reg.companies.size > 1 && select('company', t('filter.company'), choices(reg.companies))}
      {select('community', t('filter.community'), choices(reg.communities))}
      {select('kind', t('filter.kind'), KINDS.map((k) => [k, t(`kind.${k}`)]))}
      <TextFilter id="filter-text" label={t('filter.text')} hint={t('filter.textHint')} value={value.text} onText={set('text')} />
    </div>
  )
}
