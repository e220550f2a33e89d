// Communities: the list, a form for registering or changing one (with its coordinates, which the
// map draws), and for an existing one the history of which company looked after it when, with a
// form to hand it to another company.
import { useEffect, useState } from 'preact/hooks'
import { Buttons, Field, General, Panel } from '../../components/Form.tsx'
import { dateTime, num, t } from '../../i18n/index.ts'
import { api } from '../../lib/api.ts'
import { opt, optNum, useSubmit } from '../../lib/forms.ts'
import { refreshRegistry } from '../../lib/refresh.ts'
import { companyName, registry } from '../../lib/registry.ts'
import { useStore } from '../../lib/store.ts'
import type { Assignment, Community } from '../../lib/types.ts'

const FIELDS = ['id', 'name', 'district', 'street', 'address', 'lat', 'lon', 'companyId'] as const
type Form = Record<(typeof FIELDS)[number], string>

const str = (v: string | number | null | undefined) => (v === null || v === undefined ? '' : String(v))

function CommunityForm({ editing, onDone }: { editing: Community | null; onDone: () => void }) {
  const reg = useStore(registry)
  const [f, setF] = useState<Form>({
    id: str(editing?.id),
    name: str(editing?.name),
    district: str(editing?.district),
    street: str(editing?.street),
    address: str(editing?.address),
    lat: str(editing?.lat),
    lon: str(editing?.lon),
    companyId: '',
  })
  const { problems, busy, run } = useSubmit(FIELDS)
  const submit = async (e: Event) => {
    e.preventDefault()
    // Empty means "not known": null on a change, left out on a registration.
    const fields = { name: f.name, district: opt(f.district) ?? null, street: opt(f.street) ?? null, address: opt(f.address) ?? null, lat: optNum(f.lat) ?? null, lon: optNum(f.lon) ?? null }
    const ok = await run(async () => {
      if (editing) await api(`/api/v1/communities/${encodeURIComponent(editing.id)}`, { method: 'PATCH', body: fields })
      else await api('/api/v1/communities', { body: { id: f.id.trim(), ...fields, ...(f.companyId ? { companyId: f.companyId } : {}) } })
      await refreshRegistry()
    })
    if (ok) onDone()
  }
  const input = (k: (typeof FIELDS)[number], label: string, extra: Record<string, string | boolean> = {}) => (
    <Field id={`community-${k}`} label={label} error={problems.fields[k]}>
      {(a) => <input {...a} {...extra} value={f[k]} onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} />}
    </Field>
  )
  return (
    <Panel title={editing ? t('community.edit', { name: editing.name }) : t('community.new')} id="community-form">
      <form class="grid-form" onSubmit={(e) => void submit(e)}>
        {input('id', t('form.id'), editing ? { readOnly: true } : { required: true })}
        {input('name', t('form.name'), { required: true })}
        {input('district', t('community.district'))}
        {input('street', t('community.street'))}
        {input('address', t('community.address'))}
        {input('lat', t('community.lat'), { inputMode: 'decimal' })}
        {input('lon', t('community.lon'), { inputMode: 'decimal' })}
        {!editing && (
          <Field id="community-companyId" label={t('community.company')} error={problems.fields.companyId}>
            {(a) => (
              <select {...a} value={f.companyId} onChange={(e) => setF({ ...f, companyId: e.currentTarget.value })}>
                <option value="">{t('form.none')}</option>
                {[...reg.companies.values()].map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <General problems={problems} />
        <Buttons busy={busy} submit={editing ? t('form.save') : t('form.create')} onCancel={onDone} />
      </form>
      {editing && <Assignments community={editing} />}
    </Panel>
  )
}

/** Who looked after the community when, newest first, and the form to hand it over. */
function Assignments({ community }: { community: Community }) {
  const reg = useStore(registry)
  const [history, setHistory] = useState<Assignment[]>([])
  const [f, setF] = useState({ companyId: '', note: '' })
  const { problems, busy, run } = useSubmit(['companyId', 'note'])
  const load = () => void api<{ items: Assignment[] }>(`/api/v1/communities/${encodeURIComponent(community.id)}/assignments`).then((r) => setHistory(r.items), () => undefined)
  useEffect(load, [community.id])
  const submit = async (e: Event) => {
    e.preventDefault()
    const ok = await run(async () => {
      await api(`/api/v1/communities/${encodeURIComponent(community.id)}/assignment`, { body: { companyId: f.companyId, ...(opt(f.note) ? { note: opt(f.note) } : {}) } })
      await refreshRegistry()
    })
    if (ok) {
      setF({ companyId: '', note: '' })
      load()
    }
  }
  return (
    <div class="assignments">
      <h3>{t('community.history')}</h3>
      <ol class="history" id="assignments">
        {[...history]
          .sort((a, b) => b.startsAt.localeCompare(a.startsAt))
          .map((a) => (
            <li key={a.id}>
              <b>{companyName(a.companyId)}</b> · {dateTime(a.startsAt)} – {a.endsAt ? dateTime(a.endsAt) : t('community.now')}
              <span class="muted small"> · {t('event.by', { actor: a.assignedBy })}</span>
              {a.note && <q>{a.note}</q>}
            </li>
          ))}
      </ol>
      {history.length === 0 && <p class="muted">{t('community.never')}</p>}
      <form class="grid-form" id="assign-form" onSubmit={(e) => void submit(e)}>
        <Field id="assign-companyId" label={t('community.reassign')} error={problems.fields.companyId}>
          {(a) => (
            <select {...a} required value={f.companyId} onChange={(e) => setF({ ...f, companyId: e.currentTarget.value })}>
              <option value="">{t('form.choose')}</option>
              {[...reg.companies.values()]
                .filter((c) => c.id !== community.companyId)
                .map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
            </select>
          )}
        </Field>
        <Field id="assign-note" label={t('community.note')} error={problems.fields.note}>
          {(a) => <input {...a} value={f.note} onInput={(e) => setF({ ...f, note: e.currentTarget.value })} />}
        </Field>
        <General problems={problems} />
        <Buttons busy={busy} submit={t('community.assign')} />
      </form>
    </div>
  )
}

export function Communities() {
  const reg = useStore(registry)
  const [editing, setEditing] = useState<Community | 'new' | null>(null)
  const list = [...reg.communities.values()].sort((a, b) => a.name.localeCompare(b.name))
  const devices = [...reg.devices.values()]
  // The form edits a snapshot; after a save the list shows the reloaded row.
  const open = editing === 'new' || editing === null ? editing : (reg.communities.get(editing.id) ?? editing)
  return (
    <>
      <div class="bar">
        <button type="button" class="primary" id="community-new" onClick={() => setEditing('new')}>
          {t('community.new')}
        </button>
      </div>
      {open !== null && <CommunityForm key={open === 'new' ? '' : open.id} editing={open === 'new' ? null : open} onDone={() => setEditing(null)} />}
      <table class="alerts" id="communities">
        <thead>
          <tr>
            <th>{t('form.name')}</th>
            <th>{t('community.district')}</th>
            <th>{t('community.company')}</th>
            <th>{t('community.coords')}</th>
            <th>{t('registry.devices')}</th>
            <th>
              <span class="sr-only">{t('form.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.map((c) => (
            <tr key={c.id}>
              <td data-label={t('form.name')}>
                {c.name} <code class="muted small">{c.id}</code>
              </td>
              <td data-label={t('community.district')}>{[c.district, c.street].filter(Boolean).join(' · ')}</td>
              <td data-label={t('community.company')}>{companyName(c.companyId) || t('form.none')}</td>
              <td data-label={t('community.coords')}>{c.lat !== null && c.lon !== null ? `${num(c.lat, 5)}, ${num(c.lon, 5)}` : t('form.none')}</td>
              <td data-label={t('registry.devices')}>{devices.filter((d) => d.communityId === c.id).length}</td>
              <td>
                <button type="button" onClick={() => setEditing(c)} aria-label={t('form.editOf', { name: c.name })}>
                  {t('form.edit')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.length === 0 && <p class="empty">{t('form.empty')}</p>}
    </>
  )
}
