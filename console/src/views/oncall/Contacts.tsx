// People's contact points, in order of preference: a person of the owner (a company's crew, the
// office's admins and operators), their phones, e-mail addresses and vendor ids, add and remove.
// A page goes to the first one an enabled channel reaches, then down the list when it fails.
import { useEffect, useState } from 'preact/hooks'
import { Choice, Confirm, ErrorLine, Field, FormPanel, ListTable } from '../../components/Form.tsx'
import { t } from '../../i18n/index.ts'
import { api } from '../../lib/api.ts'
import { messageOf, useSave } from '../../lib/forms.ts'
import { useStore } from '../../lib/store.ts'
import { owner, peopleOf, type Person } from './owner.ts'

const KINDS = ['phone', 'email', 'wecom', 'dingtalk', 'feishu'] as const
const KNOWN = ['kind', 'address', 'locale', 'position'] as const

interface Contact {
  id: number
  kind: string
  address: string
  locale: 'zh-CN' | 'en'
  position: number
}

function AddContact({ person, next, onDone }: { person: Person; next: number; onDone: () => void }) {
  const [f, setF] = useState({ kind: 'phone', address: '', locale: 'zh-CN', position: String(next) })
  const save = () => api(`/api/v1/users/${encodeURIComponent(person.id)}/contact-points`, { body: { kind: f.kind, address: f.address.trim(), locale: f.locale, position: Number(f.position) } }).then(() => setF({ ...f, address: '' }))
  const { problems, busy, submit } = useSave(KNOWN, save, onDone)
  return (
    <FormPanel title={t('contact.add', { name: person.name })} id="contact-form" problems={problems} busy={busy} submit={t('form.create')} onSubmit={submit}>
      <Field id="contact-kind" label={t('contact.kind')} error={problems.fields.kind}>
        {(a) => <Choice a={a} value={f.kind} onPick={(v) => setF({ ...f, kind: v })} options={KINDS.map((k) => [k, t(`contact.kind.${k}`)])} />}
      </Field>
      <Field id="contact-address" label={t('contact.address')} error={problems.fields.address} hint={t(`contact.hint.${f.kind as (typeof KINDS)[number]}`)}>
        {(a) => <input {...a} required value={f.address} onInput={(e) => setF({ ...f, address: e.currentTarget.value })} />}
      </Field>
      <Field id="contact-locale" label={t('contact.locale')} error={problems.fields.locale}>
        {(a) => <Choice a={a} value={f.locale} onPick={(v) => setF({ ...f, locale: v })} options={[['zh-CN', '简体中文'], ['en', 'English']]} />}
      </Field>
      <Field id="contact-position" label={t('contact.position')} error={problems.fields.position} hint={t('contact.positionHint')}>
        {(a) => <input {...a} inputMode="numeric" value={f.position} onInput={(e) => setF({ ...f, position: e.currentTarget.value })} />}
      </Field>
    </FormPanel>
  )
}

export function Contacts() {
  const who = useStore(owner)
  const [people, setPeople] = useState<Person[]>([])
  const [personId, setPersonId] = useState('')
  const [list, setList] = useState<Contact[]>([])
  const [error, setError] = useState('')
  useEffect(() => void peopleOf(who).then((p) => (setPeople(p), setPersonId(p[0]?.id ?? '')), (err: unknown) => setError(messageOf(err))), [who])
  const person = people.find((p) => p.id === personId)
  const load = () => {
    if (!personId) return setList([])
    void api<{ items: Contact[] }>(`/api/v1/users/${encodeURIComponent(personId)}/contact-points`).then((r) => setList(r.items), (err: unknown) => setError(messageOf(err)))
  }
  useEffect(load, [personId])
  const remove = (c: Contact) => {
    setError('')
    void api(`/api/v1/users/${encodeURIComponent(personId)}/contact-points/${c.id}`, { method: 'DELETE' }).then(load, (err: unknown) => setError(messageOf(err)))
  }
  return (
    <>
      <div class="bar">
        <label>
          <span>{t('contact.person')}</span>
          <select id="contact-person" value={personId} onChange={(e) => setPersonId(e.currentTarget.value)}>
            {people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorLine text={error} />
      {people.length === 0 && <p class="empty">{t('contact.nobody')}</p>}
      {person && (
        <>
          <ListTable id="contacts" heads={[t('contact.position'), t('contact.kind'), t('contact.address'), t('contact.locale')]}>
            {list.map((c) => (
              <tr key={c.id} data-contact={c.address}>
                <td data-label={t('contact.position')}>{c.position}</td>
                <td data-label={t('contact.kind')}>{KINDS.includes(c.kind as 'phone') ? t(`contact.kind.${c.kind as 'phone'}`) : c.kind}</td>
                <td data-label={t('contact.address')} class="wrap">
                  {c.address}
                </td>
                <td data-label={t('contact.locale')}>{c.locale === 'en' ? 'English' : '简体中文'}</td>
                <td class="row-actions">
                  <Confirm label={t('form.delete')} confirm={t('form.confirm')} onConfirm={() => remove(c)} />
                </td>
              </tr>
            ))}
          </ListTable>
          {list.length === 0 && <p class="empty">{t('contact.none')}</p>}
          {/* Keyed by the count too: the next position follows the list once it has loaded. */}
          <AddContact key={`${person.id}-${list.length}`} person={person} next={list.length} onDone={load} />
        </>
      )}
    </>
  )
}
