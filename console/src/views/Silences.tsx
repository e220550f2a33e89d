// Maintenance windows (admin/operator): alerts raised inside one are recorded but nobody is
// notified. The list shows each window's scope, time and state; a window is created for a device,
// a community, a rule or a combination, ended early, or changed in place (PATCH; alerts follow
// the changed window). An ended window is a record and offers neither.
import { useEffect, useState } from 'preact/hooks'
import { Choice, Confirm, EditButton, ErrorLine, Field, FormPanel, ListTable, NewButton } from '../components/Form.tsx'
import { dateTime, t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'
import { messageOf, opt, setter, useSave } from '../lib/forms.ts'
import { now } from '../lib/clock.ts'
import { choices, communityName, deviceName, registry } from '../lib/registry.ts'
import { useStore } from '../lib/store.ts'
import type { Silence } from '../lib/types.ts'
import { ruleTitle } from './rules-form.ts'

const FIELDS = ['deviceId', 'communityId', 'ruleId', 'startsAt', 'endsAt', 'duration', 'reason'] as const
type Form = Record<(typeof FIELDS)[number], string>

/** `<input type=datetime-local>` speaks local time without a zone. */
const local = (iso: string): string => {
  const d = new Date(iso)
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
}
const iso = (localValue: string): string | undefined => (localValue ? new Date(localValue).toISOString() : undefined)

function SilenceForm({ editing, onDone }: { editing: Silence | null; onDone: () => void }) {
  const reg = useStore(registry)
  const [f, setF] = useState<Form>({
    deviceId: editing?.deviceId ?? '',
    communityId: editing?.communityId ?? '',
    ruleId: editing?.ruleId ?? '',
    startsAt: editing && Date.parse(editing.startsAt) > Date.now() ? local(editing.startsAt) : '',
    endsAt: editing ? local(editing.endsAt) : '',
    duration: editing ? '' : '2h',
    reason: editing?.reason ?? '',
  })
  const save = async () => {
    const scope = (k: 'deviceId' | 'communityId' | 'ruleId') => (f[k] ? { [k]: f[k] } : editing ? { [k]: null } : {})
    const body = {
      ...scope('deviceId'),
      ...scope('communityId'),
      ...scope('ruleId'),
      // Empty: now for a new window, unchanged for an edit.
      ...(iso(f.startsAt) ? { startsAt: iso(f.startsAt) } : {}),
      ...(iso(f.endsAt) ? { endsAt: iso(f.endsAt) } : {}),
      ...(opt(f.duration) ? { duration: opt(f.duration) } : {}),
      reason: f.reason,
    }
    await (editing ? api(`/api/v1/silences/${editing.id}`, { method: 'PATCH', body }) : api('/api/v1/silences', { body }))
  }
  const { problems, busy, submit } = useSave(FIELDS, save, onDone)
  const set = setter(f, setF)
  const select = (k: 'deviceId' | 'communityId' | 'ruleId', label: string, options: [string, string][]) => (
    <Field id={`silence-${k}`} label={label} error={problems.fields[k]}>
      {(a) => <Choice a={a} value={f[k]} onPick={(v) => setF({ ...f, [k]: v })} empty={t('silences.any')} options={options} />}
    </Field>
  )
  return (
    <FormPanel
      title={editing ? t('silences.edit') : t('silences.new')}
      id="silence-form"
      note={editing ? t('silences.editNote') : undefined}
      problems={problems}
      busy={busy}
      submit={editing ? t('form.save') : t('form.create')}
      onSubmit={submit}
      onCancel={onDone}
    >
        {select('communityId', t('filter.community'), choices(reg.communities))}
        {select('deviceId', t('alert.device'), [...reg.devices.values()].filter((d) => !f.communityId || d.communityId === f.communityId).slice(0, 1000).map((d) => [d.id, d.name ?? d.id]))}
        {select('ruleId', t('silences.rule'), [...reg.rules.values()].map((r) => [r.id, ruleTitle(r)]))}
        <Field id="silence-startsAt" label={t('silences.starts')} error={problems.fields.startsAt} hint={editing ? t('silences.startsKeep') : t('silences.startsHint')}>
          {(a) => <input {...a} type="datetime-local" value={f.startsAt} onInput={set('startsAt')} />}
        </Field>
        <Field id="silence-duration" label={t('silences.duration')} error={problems.fields.duration} hint={t('silences.durationHint')}>
          {(a) => <input {...a} value={f.duration} onInput={(e) => setF({ ...f, duration: e.currentTarget.value, endsAt: e.currentTarget.value ? '' : f.endsAt })} />}
        </Field>
        <Field id="silence-endsAt" label={t('silences.ends')} error={problems.fields.endsAt}>
          {(a) => <input {...a} type="datetime-local" value={f.endsAt} onInput={(e) => setF({ ...f, endsAt: e.currentTarget.value, duration: e.currentTarget.value ? '' : f.duration })} />}
        </Field>
        <Field id="silence-reason" label={t('silences.reason')} error={problems.fields.reason}>
          {(a) => <input {...a} required value={f.reason} onInput={set('reason')} />}
        </Field>
    </FormPanel>
  )
}

type Phase = 'active' | 'scheduled' | 'ended'
const phaseOf = (s: Silence, at: number): Phase => (Date.parse(s.endsAt) <= at ? 'ended' : Date.parse(s.startsAt) > at ? 'scheduled' : 'active')

export function Silences() {
  useStore(registry)
  // Re-rendered by the shared clock; read at render so a window that starts now is in force.
  useStore(now)
  const at = Date.now()
  const [list, setList] = useState<Silence[]>([])
  const [editing, setEditing] = useState<Silence | 'new' | null>(null)
  const [error, setError] = useState('')
  const [activeOnly, setActiveOnly] = useState(false)
  const load = () =>
    void api<{ items: Silence[] }>(`/api/v1/silences${activeOnly ? '?active=true' : ''}`).then(
      (r) => setList(r.items),
      (err: unknown) => setError(messageOf(err)),
    )
  useEffect(load, [activeOnly])
  const end = async (s: Silence) => {
    setError('')
    await api(`/api/v1/silences/${s.id}`, { method: 'DELETE' }).then(load, (err: unknown) => setError(messageOf(err)))
  }
  const rules = useStore(registry).rules
  return (
    <section class="silences">
      <h1>{t('silences.title')}</h1>
      <p class="muted">{t('silences.about')}</p>
      <NewButton id="silence-new" label={t('silences.new')} onClick={() => setEditing('new')}>
        <label class="check">
          <input type="checkbox" id="silence-active" checked={activeOnly} onChange={(e) => setActiveOnly(e.currentTarget.checked)} /> {t('silences.activeOnly')}
        </label>
      </NewButton>
      {editing !== null && (
        <SilenceForm
          key={editing === 'new' ? '' : editing.id}
          editing={editing === 'new' ? null : editing}
          onDone={() => {
            setEditing(null)
            load()
          }}
        />
      )}
      <ErrorLine text={error} />
      <ListTable id="silences" heads={[t('rules.scope'), t('silences.starts'), t('silences.ends'), t('silences.reason'), t('device.state')]}>
          {list.map((s) => {
            const phase = phaseOf(s, at)
            const rule = s.ruleId ? rules.get(s.ruleId) : undefined
            return (
              <tr key={s.id} data-silence={s.id} class={phase === 'ended' ? 'resolved' : ''}>
                <td data-label={t('rules.scope')}>
                  {[s.communityId ? communityName(s.communityId) : '', s.deviceId ? deviceName(s.deviceId) : '', s.ruleId ? (rule ? ruleTitle(rule) : s.ruleId) : ''].filter(Boolean).join(' · ')}
                </td>
                <td data-label={t('silences.starts')}>{dateTime(s.startsAt)}</td>
                <td data-label={t('silences.ends')}>{dateTime(s.endsAt)}</td>
                <td data-label={t('silences.reason')}>
                  {s.reason} <span class="muted small">{t('event.by', { actor: s.createdBy })}</span>
                </td>
                <td data-label={t('device.state')}>{t(`silences.${phase}`)}</td>
                <td class="row-actions">
                  {phase !== 'ended' && (
                    <>
                      <EditButton name={s.reason} onClick={() => setEditing(s)} />
                      <Confirm label={t('silences.end')} confirm={t('form.confirm')} onConfirm={() => void end(s)} />
                    </>
                  )}
                </td>
              </tr>
            )
          })}
      </ListTable>
      {list.length === 0 && <p class="empty">{t('silences.none')}</p>}
    </section>
  )
}
