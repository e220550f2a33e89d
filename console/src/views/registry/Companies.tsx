// Property companies: the list, and one form for registering a company or changing one.
import { useState } from 'preact/hooks'
import { EditButton, FormPanel, IdAndName, ListTable, NewButton, TextField } from '../../components/Form.tsx'
import { localName, t } from '../../i18n/index.ts'
import { opt, useSave } from '../../lib/forms.ts'
import { saveRow } from '../../lib/refresh.ts'
import { byName, registry } from '../../lib/registry.ts'
import { useStore } from '../../lib/store.ts'
import type { Company } from '../../lib/types.ts'

const FIELDS = ['id', 'name', 'contact'] as const

function CompanyForm({ editing, onDone }: { editing: Company | null; onDone: () => void }) {
  const [f, setF] = useState({ id: editing?.id ?? '', name: editing?.name ?? '', contact: editing?.contact ?? '' })
  const save = () => saveRow('/api/v1/companies', editing?.id ?? null, { name: f.name, contact: opt(f.contact) ?? null }, { id: f.id.trim(), name: f.name, ...(opt(f.contact) ? { contact: opt(f.contact) } : {}) })
  const { problems, busy, submit } = useSave(FIELDS, save, onDone)
  const bound = { form: 'company', f, setF, problems }
  const title = editing ? t('company.edit', { name: editing.name }) : t('company.new')
  return (
    <FormPanel title={title} id="company-form" problems={problems} busy={busy} submit={editing ? t('form.save') : t('form.create')} onSubmit={submit} onCancel={onDone}>
      <IdAndName bound={bound} editing={editing !== null} />
      <TextField {...bound} name="contact" label={t('company.contact')} />
    </FormPanel>
  )
}

export function Companies() {
  const reg = useStore(registry)
  const [editing, setEditing] = useState<Company | 'new' | null>(null)
  const list = byName(reg.companies)
  const communities = [...reg.communities.values()]
  return (
    <>
      <NewButton id="company-new" label={t('company.new')} onClick={() => setEditing('new')} />
      {editing !== null && <CompanyForm key={editing === 'new' ? '' : editing.id} editing={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      <ListTable id="companies" heads={[t('form.name'), t('form.id'), t('company.contact'), t('registry.communities')]}>
          {list.map((c) => (
            <tr key={c.id}>
              <td data-label={t('form.name')}>{localName(c.name)}</td>
              <td data-label={t('form.id')}>
                <code>{c.id}</code>
              </td>
              <td data-label={t('company.contact')}>{c.contact ?? ''}</td>
              <td data-label={t('registry.communities')}>{communities.filter((m) => m.companyId === c.id).length}</td>
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
