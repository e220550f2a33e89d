// Streets (街道/镇): the list with how many communities each has, and one form for registering a
// street or changing one. A community is put in a street on its own form (Communities.tsx).
import { useState } from 'preact/hooks'
import { EditButton, FormPanel, IdAndName, ListTable, NewButton, TextField } from '../../components/Form.tsx'
import { t } from '../../i18n/index.ts'
import { opt, useSave } from '../../lib/forms.ts'
import { saveRow } from '../../lib/refresh.ts'
import { byName, registry } from '../../lib/registry.ts'
import { useStore } from '../../lib/store.ts'
import type { Street } from '../../lib/types.ts'

const FIELDS = ['id', 'name', 'district'] as const

function StreetForm({ editing, onDone }: { editing: Street | null; onDone: () => void }) {
  const [f, setF] = useState({ id: editing?.id ?? '', name: editing?.name ?? '', district: editing?.district ?? '' })
  const save = () => saveRow('/api/v1/streets', editing?.id ?? null, { name: f.name, district: opt(f.district) ?? null }, { id: f.id.trim(), name: f.name, ...(opt(f.district) ? { district: opt(f.district) } : {}) })
  const { problems, busy, submit } = useSave(FIELDS, save, onDone)
  const bound = { form: 'street', f, setF, problems }
  const title = editing ? t('street.edit', { name: editing.name }) : t('street.new')
  return (
    <FormPanel title={title} id="street-form" problems={problems} busy={busy} submit={editing ? t('form.save') : t('form.create')} onSubmit={submit} onCancel={onDone}>
      <IdAndName bound={bound} editing={editing !== null} />
      <TextField {...bound} name="district" label={t('community.district')} />
    </FormPanel>
  )
}

export function Streets() {
  const reg = useStore(registry)
  const [editing, setEditing] = useState<Street | 'new' | null>(null)
  const list = byName(reg.streets)
  const communities = [...reg.communities.values()]
  return (
    <>
      <NewButton id="street-new" label={t('street.new')} onClick={() => setEditing('new')} />
      {editing !== null && <StreetForm key={editing === 'new' ? '' : editing.id} editing={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      <ListTable id="streets" heads={[t('form.name'), t('form.id'), t('community.district'), t('registry.communities')]}>
        {list.map((s) => (
          <tr key={s.id}>
            <td data-label={t('form.name')}>{s.name}</td>
            <td data-label={t('form.id')}>
              <code>{s.id}</code>
            </td>
            <td data-label={t('community.district')}>{s.district ?? ''}</td>
            <td data-label={t('registry.communities')}>{communities.filter((m) => m.streetId === s.id).length}</td>
            <td>
              <EditButton name={s.name} onClick={() => setEditing(s)} />
            </td>
          </tr>
        ))}
      </ListTable>
      {list.length === 0 && <p class="empty">{t('form.empty')}</p>}
    </>
  )
}
