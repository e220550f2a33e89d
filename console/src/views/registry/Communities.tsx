// Communities: the list, a form for registering or changing one (with its coordinates, which the
// map draws), and for an existing one the history of which company looked after it when, with a
// form to hand it to another company.
import { useEffect, useState } from 'preact/hooks'
import { Choice, EditButton, Field, FormPanel, IdAndName, ListTable, NewButton, TextField } from '../../components/Form.tsx'
import { dateTime, localName, num, t } from '../../i18n/index.ts'
import { api } from '../../lib/api.ts'
import { opt, optNum, useSave } from '../../lib/forms.ts'
import { refreshRegistry, saveRow } from '../../lib/refresh.ts'
import { byName, choices, companyName, registry, streetName } from '../../lib/registry.ts'
import { useStore } from '../../lib/store.ts'
import type { Assignment, Community } from '../../lib/types.ts'

const FIELDS = ['id', 'name', 'district', 'street', 'streetId', 'address', 'lat', 'lon', 'companyId'] as const
type Form = Record<(typeof FIELDS)[number], string>

const str = (v: string | number | null | undefined) => (v === null || v === undefined ? '' : String(v))

function CommunityForm({ editing, onDone }: { editing: Community | null; onDone: () => void }) {
  const reg = useStore(registry)
  const [f, setF] = useState<Form>({
    id: str(editing?.id),
    name: str(editing?.name),
    district: str(editing?.district),
    street: str(editing?.street),
    streetId: str(editing?.streetId),
    address: str(editing?.address),
    lat: str(editing?.lat),
    lon: str(editing?.lon),
    companyId: '',
  })
  const save = async () => {
    // Empty means "not known": null on a change, left out on a registration.
    const fields = { name: f.name, district: opt(f.district) ?? null, street: opt(f.street) ?? null, streetId: opt(f.streetId) ?? null, address: opt(f.address) ?? null, lat: optNum(f.lat) ?? null, lon: optNum(f.lon) ?? null }
    await saveRow('/api/v1/communities', editing?.id ?? null, fields, { id: f.id.trim(), ...fields, ...(f.companyId ? { companyId: f.companyId } : {}) })
  }
  const { problems, busy, submit } = useSave(FIELDS, save, onDone)
  const bound = { form: 'community', f, setF, problems }
  const title = editing ? t('community.edit', { name: editing.name }) : t('community.new')
  return (
    <>
      <FormPanel title={title} id="community-form" problems={problems} busy={busy} submit={editing ? t('form.save') : t('form.create')} onSubmit={submit} onCancel={onDone}>
        <IdAndName bound={bound} editing={editing !== null} />
        <TextField {...bound} name="district" label={t('community.district')} />
        <Field id="community-streetId" label={t('community.streetId')} error={problems.fields.streetId}>
          {(a) => <Choice a={a} value={f.streetId} onPick={(v) => setF({ ...f, streetId: v })} empty={t('form.none')} options={choices(reg.streets)} />}
        </Field>
        <TextField {...bound} name="street" label={t('community.street')} />
        <TextField {...bound} name="address" label={t('community.address')} />
        <TextField {...bound} name="lat" label={t('community.lat')} inputMode="decimal" />
        <TextField {...bound} name="lon" label={t('community.lon')} inputMode="decimal" />
        {!editing && (
          <Field id="community-companyId" label={t('community.company')} error={problems.fields.companyId}>
            {(a) => <Choice a={a} value={f.companyId} onPick={(v) => setF({ ...f, companyId: v })} empty={t('form.none')} options={choices(reg.companies)} />}
          </Field>
        )}
      </FormPanel>
      {editing && <Assignments community={editing} />}
    </>
  )
}

/** Who looked after the community when, newest first, and the form to hand it over. */
function Assignments({ community }: { community: Community }) {
  const reg = useStore(registry)
  const [history, setHistory] = useState<Assignment[]>([])
  const [f, setF] = useState({ companyId: '', note: '' })
  const load = () => void api<{ items: Assignment[] }>(`/api/v1/communities/${encodeURIComponent(community.id)}/assignments`).then((r) => setHistory(r.items), () => undefined)
  useEffect(load, [community.id])
  const save = async () => {
    await api(`/api/v1/communities/${encodeURIComponent(community.id)}/assignment`, { body: { companyId: f.companyId, ...(opt(f.note) ? { note: opt(f.note) } : {}) } })
    await refreshRegistry()
  }
  const done = () => {
    setF({ companyId: '', note: '' })
    load()
  }
  const { problems, busy, submit } = useSave(['companyId', 'note'], save, done)
  const head = (
    <>
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
    </>
  )
  return (
    <FormPanel title={t('community.history')} id="assign-form" problems={problems} busy={busy} submit={t('community.assign')} onSubmit={submit} head={head}>
      <Field id="assign-companyId" label={t('community.reassign')} error={problems.fields.companyId}>
          {(a) => <Choice a={a} required value={f.companyId} onPick={(v) => setF({ ...f, companyId: v })} empty={t('form.choose')} options={choices(reg.companies).filter(([id]) => id !== community.companyId)} />}
        </Field>
        <Field id="assign-note" label={t('community.note')} error={problems.fields.note}>
          {(a) => <input {...a} value={f.note} onInput={(e) => setF({ ...f, note: e.currentTarget.value })} />}
      </Field>
    </FormPanel>
  )
}

export function Communities() {
  const reg = useStore(registry)
  const [editing, setEditing] = useState<Community | 'new' | null>(null)
  const list = byName(reg.communities)
  const devices = [...reg.devices.values()]
  // The form edits a snapshot; after a save the list shows the reloaded row.
  const open = editing === 'new' || editing === null ? editing : (reg.communities.get(editing.id) ?? editing)
  return (
    <>
      <NewButton id="community-new" label={t('community.new')} onClick={() => setEditing('new')} />
      {open !== null && <CommunityForm key={open === 'new' ? '' : open.id} editing={open === 'new' ? null : open} onDone={() => setEditing(null)} />}
      <ListTable id="communities" heads={[t('form.name'), t('community.area'), t('community.company'), t('community.coords'), t('registry.devices')]}>
          {list.map((c) => (
            <tr key={c.id}>
              <td data-label={t('form.name')}>
                {localName(c.name)} <code class="muted small">{c.id}</code>
                {c.address && <div class="muted small">{c.address}</div>}
              </td>
              <td data-label={t('community.area')}>{[c.district, streetName(c.streetId), c.street].filter(Boolean).join(' · ')}</td>
              <td data-label={t('community.company')}>{companyName(c.companyId) || t('form.none')}</td>
              <td data-label={t('community.coords')}>{c.lat !== null && c.lon !== null ? `${num(c.lat, 5)}, ${num(c.lon, 5)}` : t('form.none')}</td>
              <td data-label={t('registry.devices')}>{devices.filter((d) => d.communityId === c.id).length}</td>
              <td>
                <EditButton name={localName(c.name)} onClick={() => setEditing(c)} />
              </td>
            </tr>
          ))}
      </ListTable>
      {list.length === 0 && <p class="empty">{t('form.empty')}</p>}
    </>
  )
}
