// The owner's rotas: the office's duty rota, a company's crew and manager rotas. Each with the
// timeline of the next days, its swaps and covers, and the shift hand-over register; a form to
// create or change one (members in the order they take the weekly shift).
import { useEffect, useState } from 'preact/hooks'
import { Choice, Confirm, EditButton, ErrorLine, Field, FormPanel, NewButton } from '../../components/Form.tsx'
import { dateTime, t } from '../../i18n/index.ts'
import { api } from '../../lib/api.ts'
import { messageOf, useSave } from '../../lib/forms.ts'
import { useStore } from '../../lib/store.ts'
import { owner, peopleOf, type Handover, type Override, type Person, type Rota } from './owner.ts'
import { Timeline } from './Timeline.tsx'

const ROTA_KNOWN = ['role', 'name', 'timezone', 'startsOn', 'handoverTime', 'members'] as const
const today = () => new Date().toLocaleDateString('sv')

function RotaEditor({ editing, taken, people, onDone }: { editing: Rota | null; taken: readonly string[]; people: Person[]; onDone: () => void }) {
  const who = useStore(owner)
  const roles = who === '' ? (['duty'] as const) : (['crew', 'manager'] as const)
  const [f, setF] = useState({
    role: editing?.role ?? roles.find((r) => !taken.includes(r)) ?? roles[0],
    name: editing?.name ?? '',
    startsOn: editing?.startsOn ?? today(),
    handoverTime: editing?.handoverTime ?? '09:00',
    timezone: editing?.timezone ?? 'Asia/Shanghai',
    members: editing?.members ?? [],
  })
  const [adding, setAdding] = useState('')
  const save = () =>
    api(`/api/v1/rotas/${encodeURIComponent(editing?.id ?? `${who || 'office'}-${f.role}`)}`, {
      method: 'PUT',
      body: { companyId: who === '' ? null : who, role: f.role, name: f.name.trim(), startsOn: f.startsOn, handoverTime: f.handoverTime, timezone: f.timezone.trim(), members: f.members },
    }).then(() => undefined)
  const { problems, busy, submit } = useSave(ROTA_KNOWN, save, onDone)
  const nameOf = (id: string) => people.find((p) => p.id === id)?.name ?? id
  const move = (i: number) => {
    const m = [...f.members]
    ;[m[i - 1], m[i]] = [m[i] as string, m[i - 1] as string]
    setF({ ...f, members: m })
  }
  return (
    <FormPanel title={editing ? t('rota.edit', { name: editing.name }) : t('rota.new')} id="rota-form" problems={problems} busy={busy} submit={editing ? t('form.save') : t('form.create')} onSubmit={submit} onCancel={onDone}>
      <Field id="rota-role" label={t('rota.role')} error={problems.fields.role}>
        {(a) => <Choice a={a} value={f.role} disabled={editing !== null} onPick={(v) => setF({ ...f, role: v as Rota['role'] })} options={roles.map((r) => [r, t(`rota.role.${r}`)])} />}
      </Field>
      <Field id="rota-name" label={t('form.name')} error={problems.fields.name}>
        {(a) => <input {...a} required value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />}
      </Field>
      <Field id="rota-startsOn" label={t('rota.startsOn')} error={problems.fields.startsOn} hint={t('rota.startsOnHint')}>
        {(a) => <input {...a} type="date" value={f.startsOn} onInput={(e) => setF({ ...f, startsOn: e.currentTarget.value })} />}
      </Field>
      <Field id="rota-handoverTime" label={t('rota.handoverTime')} error={problems.fields.handoverTime}>
        {(a) => <input {...a} type="time" value={f.handoverTime} onInput={(e) => setF({ ...f, handoverTime: e.currentTarget.value })} />}
      </Field>
      <Field id="rota-timezone" label={t('rota.timezone')} error={problems.fields.timezone}>
        {(a) => <input {...a} value={f.timezone} onInput={(e) => setF({ ...f, timezone: e.currentTarget.value })} />}
      </Field>
      <fieldset class="params" aria-describedby={problems.fields.members ? 'rota-members-error' : undefined}>
        <legend>{t('rota.members')}</legend>
        <ol class="members">
          {f.members.map((m, i) => (
            <li key={m}>
              <span>{nameOf(m)}</span>
              {i > 0 && (
                <button type="button" aria-label={t('rota.earlier', { name: nameOf(m) })} onClick={() => move(i)}>
                  ↑
                </button>
              )}
              <button type="button" aria-label={t('rota.removeMember', { name: nameOf(m) })} onClick={() => setF({ ...f, members: f.members.filter((x) => x !== m) })}>
                {t('form.delete')}
              </button>
            </li>
          ))}
        </ol>
        <div class="bar">
          <label>
            <span>{t('rota.addMember')}</span>
            <select id="rota-add-member" value={adding} onChange={(e) => setAdding(e.currentTarget.value)}>
              <option value="">{t('form.choose')}</option>
              {people
                .filter((p) => !f.members.includes(p.id))
                .map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
            </select>
          </label>
          <button type="button" id="rota-add" disabled={adding === ''} onClick={() => (setF({ ...f, members: [...f.members, adding] }), setAdding(''))}>
            {t('rota.add')}
          </button>
        </div>
        {problems.fields.members && (
          <p id="rota-members-error" class="field-error" data-field-error="rota-members">
            {problems.fields.members}
          </p>
        )}
      </fieldset>
    </FormPanel>
  )
}

/** `datetime-local` text (the browser's zone) to an instant; '' stays '' so the API names the field. */
const instant = (local: string): string => (local === '' ? '' : new Date(local).toISOString())
const localIn = (ms: number): string => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16)

function Overrides({ rota, people, onChange }: { rota: Rota; people: Person[]; onChange: () => void }) {
  const [list, setList] = useState<Override[]>([])
  const [error, setError] = useState('')
  const [f, setF] = useState({ userId: '', kind: 'cover', startsAt: localIn(Date.now()), endsAt: localIn(Date.now() + 86_400_000), note: '' })
  const base = `/api/v1/rotas/${encodeURIComponent(rota.id)}/overrides`
  const load = () => void api<{ items: Override[] }>(base).then((r) => setList(r.items), (err: unknown) => setError(messageOf(err)))
  useEffect(load, [rota.id])
  const save = () => api(base, { body: { userId: f.userId, kind: f.kind, startsAt: instant(f.startsAt), endsAt: instant(f.endsAt), ...(f.note.trim() ? { note: f.note.trim() } : {}) } }).then(() => undefined)
  const { problems, busy, submit } = useSave(['userId', 'kind', 'startsAt', 'endsAt', 'note'], save, () => (load(), onChange()))
  const nameOf = (id: string) => people.find((p) => p.id === id)?.name ?? id
  const withdraw = (o: Override) => void api(`${base}/${o.id}`, { method: 'DELETE' }).then(() => (load(), onChange()), (err: unknown) => setError(messageOf(err)))
  const id = (k: string) => `override-${rota.role}-${k}`
  return (
    <details class="oncall-more">
      <summary>{t('rota.overrides', { n: list.length })}</summary>
      <ErrorLine text={error} />
      <ul class="plain">
        {list.map((o) => (
          <li key={o.id}>
            {t(`rota.kind.${o.kind}`)}: <strong>{nameOf(o.userId)}</strong> {dateTime(o.startsAt)} – {dateTime(o.endsAt)} {o.note ? `· ${o.note}` : ''}{' '}
            <Confirm label={t('rota.withdraw')} confirm={t('form.confirm')} onConfirm={() => withdraw(o)} />
          </li>
        ))}
      </ul>
      <FormPanel title={t('rota.newOverride')} id={id('form')} problems={problems} busy={busy} submit={t('form.create')} onSubmit={submit}>
        <Field id={id('userId')} label={t('rota.onCallInstead')} error={problems.fields.userId}>
          {(a) => <Choice a={a} value={f.userId} empty={t('form.choose')} onPick={(v) => setF({ ...f, userId: v })} options={people.map((p) => [p.id, p.name])} />}
        </Field>
        <Field id={id('kind')} label={t('rota.overrideKind')} error={problems.fields.kind}>
          {(a) => <Choice a={a} value={f.kind} onPick={(v) => setF({ ...f, kind: v })} options={(['cover', 'swap'] as const).map((k) => [k, t(`rota.kind.${k}`)])} />}
        </Field>
        <Field id={id('startsAt')} label={t('rota.from')} error={problems.fields.startsAt}>
          {(a) => <input {...a} type="datetime-local" value={f.startsAt} onInput={(e) => setF({ ...f, startsAt: e.currentTarget.value })} />}
        </Field>
        <Field id={id('endsAt')} label={t('rota.to')} error={problems.fields.endsAt}>
          {(a) => <input {...a} type="datetime-local" value={f.endsAt} onInput={(e) => setF({ ...f, endsAt: e.currentTarget.value })} />}
        </Field>
        <Field id={id('note')} label={t('rota.note')} error={problems.fields.note}>
          {(a) => <input {...a} value={f.note} onInput={(e) => setF({ ...f, note: e.currentTarget.value })} />}
        </Field>
      </FormPanel>
    </details>
  )
}

function Handovers({ rota }: { rota: Rota }) {
  const [list, setList] = useState<Handover[]>([])
  const [note, setNote] = useState('')
  const [error, setError] = useState('')
  const base = `/api/v1/rotas/${encodeURIComponent(rota.id)}/handovers`
  const load = () => void api<{ items: Handover[] }>(`${base}?limit=20`).then((r) => setList(r.items), (err: unknown) => setError(messageOf(err)))
  useEffect(load, [rota.id])
  const { problems, busy, submit } = useSave(['note'], () => api(base, { body: { note: note.trim() } }).then(() => setNote('')), load)
  const id = `handover-${rota.role}-note`
  return (
    <details class="oncall-more">
      <summary>{t('rota.handovers')}</summary>
      <ErrorLine text={error} />
      <FormPanel title={t('rota.newHandover')} id={`handover-${rota.role}-form`} problems={problems} busy={busy} submit={t('rota.write')} onSubmit={submit}>
        <Field id={id} label={t('rota.note')} error={problems.fields.note}>
          {(a) => <textarea {...a} rows={2} value={note} onInput={(e) => setNote(e.currentTarget.value)} />}
        </Field>
      </FormPanel>
      {list.length === 0 ? (
        <p class="empty">{t('rota.noHandovers')}</p>
      ) : (
        <ul class="plain">
          {list.map((h) => (
            <li key={h.id}>
              <span class="muted small">
                {dateTime(h.at)} · {h.author}
              </span>
              <br />
              {h.note}
            </li>
          ))}
        </ul>
      )}
    </details>
  )
}

export function Rotas() {
  const who = useStore(owner)
  const [list, setList] = useState<Rota[]>([])
  const [people, setPeople] = useState<Person[]>([])
  const [editing, setEditing] = useState<Rota | 'new' | null>(null)
  const [version, setVersion] = useState(0)
  const [error, setError] = useState('')
  const load = () => {
    void api<{ items: Rota[] }>('/api/v1/rotas').then((r) => setList(r.items.filter((x) => x.companyId === (who === '' ? null : who))), (err: unknown) => setError(messageOf(err)))
    setVersion((v) => v + 1)
  }
  useEffect(() => {
    load()
    void peopleOf(who).then(setPeople, (err: unknown) => setError(messageOf(err)))
  }, [who])
  const full = list.length >= (who === '' ? 1 : 2)
  const nameOf = (id: string) => people.find((p) => p.id === id)?.name ?? id
  return (
    <>
      {!full && <NewButton id="rota-new" label={t('rota.new')} onClick={() => setEditing('new')} />}
      {editing !== null && <RotaEditor key={editing === 'new' ? '' : editing.id} editing={editing === 'new' ? null : editing} taken={list.map((r) => r.role)} people={people} onDone={() => (setEditing(null), load())} />}
      <ErrorLine text={error} />
      {list.length === 0 && <p class="empty">{t('rota.none')}</p>}
      {list.map((r) => (
        <section key={r.id} class="card rota" data-rota={r.role} aria-label={r.name}>
          <div class="rota-head">
            <h2>
              {r.name} <span class="muted small">{t(`rota.role.${r.role}`)}</span>
            </h2>
            <EditButton name={r.name} onClick={() => setEditing(r)} />
          </div>
          <p class="muted small">
            {t('rota.summary', { time: r.handoverTime, zone: r.timezone, members: r.members.map(nameOf).join(' → ') })}
          </p>
          <Timeline rotaId={r.id} members={r.members} version={version} />
          <Overrides rota={r} people={people} onChange={() => setVersion((v) => v + 1)} />
          <Handovers rota={r} />
        </section>
      ))}
    </>
  )
}
