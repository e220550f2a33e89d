// Property companies: the list, and one form for registering a company or changing one.
import { useState } from 'preact/hooks'
import { Buttons, Field, General, Panel } from '../../components/Form.tsx'
import { t } from '../../i18n/index.ts'
import { api } from '../../lib/api.ts'
import { opt, useSubmit } from '../../lib/forms.ts'
import { refreshRegistry } from '../../lib/refresh.ts'
import { registry } from '../../lib/registry.ts'
import { useStore } from '../../lib/store.ts'
import type { Company } from '../../lib/types.ts'

const FIELDS = ['id', 'name', 'contact'] as const

function CompanyForm({ editing, onDone }: { editing: Company | null; onDone: () => void }) {
  const [f, setF] = useState({ id: editing?.id ?? '', name: editing?.name ?? '', contact: editing?.contact ?? '' })
  const { problems, busy, run } = useSubmit(FIELDS)
  const submit = async (e: Event) => {
    e.preventDefault()
    const ok = await run(async () => {
      if (editing) await api(`/api/v1/companies/${encodeURIComponent(editing.id)}`, { method: 'PATCH', body: { name: f.name, contact: opt(f.contact) ?? null } })
      else await api('/api/v1/companies', { body: { id: f.id.trim(), name: f.name, ...(opt(f.contact) ? { contact: opt(f.contact) } : {}) } })
      await refreshRegistry()
    })
    if (ok) onDone()
  }
  const input = (k: (typeof FIELDS)[number], label: string, extra: { readOnly?: boolean; required?: boolean } = {}) => (
    <Field id={`company-${k}`} label={label} error={problems.fields[k]}>
      {(a) => <input {...a} {...extra} value={f[k]} onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} />}
    </Field>
  )
  return (
    <Panel title={editing ? t('company.edit', { name: editing.name }) : t('company.new')} id="company-form">
      <form class="grid-form" onSubmit={(e) => void submit(e)}>
        {input('id', t('form.id'), editing ? { readOnly: true } : { required: true })}
        {input('name', t('form.name'), { required: true })}
        {input('contact', t('company.contact'))}
        <General problems={problems} />
        <Buttons busy={busy} submit={editing ? t('form.save') : t('form.create')} onCancel={onDone} />
      </form>
    </Panel>
  )
}

export function Companies() {
  const reg = useStore(registry)
  const [editing, setEditing] = useState<Company | 'new' | null>(null)
  const list = [...reg.companies.values()].sort((a, b) => a.name.localeCompare(b.name))
  const communities = [...reg.communities.values()]
  return (
    <>
      <div class="bar">
        <button type="button" class="primary" id="company-new" onClick={() => setEditing('new')}>
          {t('company.new')}
        </button>
      </div>
      {editing !== null && <CompanyForm key={editing === 'new' ? '' : editing.id} editing={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      <table class="alerts" id="companies">
        <thead>
          <tr>
            <th>{t('form.name')}</th>
            <th>{t('form.id')}</th>
            <th>{t('company.contact')}</th>
            <th>{t('registry.communities')}</th>
            <th>
              <span class="sr-only">{t('form.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.map((c) => (
            <tr key={c.id}>
              <td data-label={t('form.name')}>{c.name}</td>
              <td data-label={t('form.id')}>
                <code>{c.id}</code>
              </td>
              <td data-label={t('company.contact')}>{c.contact ?? ''}</td>
              <td data-label={t('registry.communities')}>{communities.filter((m) => m.companyId === c.id).length}</td>
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
