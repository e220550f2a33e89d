// Escalation policies, one per severity: the steps paged in turn (whose on-call person, and the
// group-chat bots too), and quiet hours that hold minor and warning pages. The one in force is
// shown with where it comes from (the company's own, the office's, the built-in default); a form
// sets the owner's own, and removing it lets the next one apply.
import { useEffect, useState } from 'preact/hooks'
import { Sev } from '../../components/Badges.tsx'
import { Choice, Confirm, EditButton, ErrorLine, Field, FormPanel } from '../../components/Form.tsx'
import { t } from '../../i18n/index.ts'
import { api } from '../../lib/api.ts'
import { messageOf, useSave } from '../../lib/forms.ts'
import { useStore } from '../../lib/store.ts'
import { owner, ownerQuery, type PolicyView, type Step } from './owner.ts'

const ROTAS = ['crew', 'manager', 'duty'] as const
const KNOWN = ['steps', 'quietHours', 'quietHours.from', 'quietHours.to', 'quietHours.timezone'] as const

function PolicyEditor({ view, onDone }: { view: PolicyView; onDone: () => void }) {
  const who = useStore(owner)
  const [steps, setSteps] = useState<Step[]>(view.policy.steps)
  const q = view.policy.quietHours
  const [quiet, setQuiet] = useState({ on: q !== null, from: q?.from ?? '22:00', to: q?.to ?? '07:00' })
  const critical = view.severity === 'critical'
  const save = () =>
    api(`/api/v1/notify/policies/${view.severity}${ownerQuery(who)}`, {
      method: 'PUT',
      body: { steps, quietHours: quiet.on && !critical ? { from: quiet.from, to: quiet.to, timezone: q?.timezone ?? 'Asia/Shanghai' } : null },
    }).then(() => undefined)
  const { problems, busy, submit } = useSave(KNOWN, save, onDone)
  const set = (i: number, s: Step) => setSteps(steps.map((x, j) => (j === i ? s : x)))
  const id = (k: string) => `policy-${view.severity}-${k}`
  return (
    <FormPanel title={t('policy.edit', { severity: t(`severity.${view.severity}`) })} id="policy-form" problems={problems} busy={busy} submit={t('form.save')} onSubmit={submit} onCancel={onDone}>
      <fieldset class="params">
        <legend>{t('policy.steps')}</legend>
        <ol class="steps">
          {steps.map((s, i) => (
            <li key={i} data-step={i + 1}>
              <Field id={id(`step${i}`)} label={t('policy.stepN', { n: i + 1 })}>
                {(a) => <Choice a={a} value={s.rota} onPick={(v) => set(i, { ...s, rota: v as Step['rota'] })} options={ROTAS.map((r) => [r, t(`policy.rota.${r}`)])} />}
              </Field>
              <label>
                <input type="checkbox" id={id(`bots${i}`)} checked={s.bots} onChange={(e) => set(i, { ...s, bots: e.currentTarget.checked })} /> {t('policy.bots')}
              </label>
              <button type="button" aria-label={t('policy.removeStep', { n: i + 1 })} onClick={() => setSteps(steps.filter((_, j) => j !== i))}>
                {t('form.delete')}
              </button>
            </li>
          ))}
        </ol>
        {steps.length < 5 && (
          <button type="button" id={id('add')} onClick={() => setSteps([...steps, { rota: 'duty', bots: false }])}>
            {t('policy.addStep')}
          </button>
        )}
        {problems.fields.steps && (
          <p class="field-error" data-field-error={id('steps')}>
            {/* The one refusal an office hits here, in the reader's language; any other as the API says it. */}
            {problems.fields.steps.includes('rota "duty"') ? t('policy.needsDuty') : problems.fields.steps}
          </p>
        )}
      </fieldset>
      {critical ? (
        <p class="muted small">{t('policy.noQuietCritical')}</p>
      ) : (
        <fieldset class="params">
          <legend>{t('policy.quietHours')}</legend>
          <div class="checks">
            <label>
              <input type="checkbox" id={id('quiet')} checked={quiet.on} onChange={(e) => setQuiet({ ...quiet, on: e.currentTarget.checked })} /> {t('policy.quietOn')}
            </label>
          </div>
          {quiet.on && (
            <>
              <Field id={id('from')} label={t('rota.from')} error={problems.fields['quietHours.from'] ?? problems.fields.quietHours}>
                {(a) => <input {...a} type="time" value={quiet.from} onInput={(e) => setQuiet({ ...quiet, from: e.currentTarget.value })} />}
              </Field>
              <Field id={id('to')} label={t('rota.to')} error={problems.fields['quietHours.to']}>
                {(a) => <input {...a} type="time" value={quiet.to} onInput={(e) => setQuiet({ ...quiet, to: e.currentTarget.value })} />}
              </Field>
            </>
          )}
        </fieldset>
      )}
    </FormPanel>
  )
}

export function Policies() {
  const who = useStore(owner)
  const [list, setList] = useState<PolicyView[]>([])
  const [editing, setEditing] = useState<PolicyView | null>(null)
  const [error, setError] = useState('')
  const load = () => void api<{ items: PolicyView[] }>(`/api/v1/notify/policies${ownerQuery(who)}`).then((r) => setList(r.items), (err: unknown) => setError(messageOf(err)))
  useEffect(load, [who])
  const own = (p: PolicyView) => p.source === (who === '' ? 'office' : 'company')
  const reset = (p: PolicyView) => void api(`/api/v1/notify/policies/${p.severity}${ownerQuery(who)}`, { method: 'DELETE' }).then(load, (err: unknown) => setError(messageOf(err)))
  return (
    <>
      <p class="muted small">{who === '' ? t('policy.aboutOffice') : t('policy.aboutCompany')}</p>
      {editing && <PolicyEditor key={editing.severity} view={editing} onDone={() => (setEditing(null), load())} />}
      <ErrorLine text={error} />
      <div class="policies">
        {list.map((p) => (
          <section key={p.severity} class="card policy" data-policy={p.severity} aria-label={t(`severity.${p.severity}`)}>
            <div class="rota-head">
              <h2>
                <Sev s={p.severity} />
              </h2>
              <span class="muted small">{t(`policy.source.${p.source}`)}</span>
            </div>
            <ol class="steps">
              {p.policy.steps.map((s, i) => (
                <li key={i}>
                  {t(`policy.rota.${s.rota}`)}
                  {s.bots ? ` + ${t('policy.bots')}` : ''}
                </li>
              ))}
            </ol>
            <p class="muted small">{p.policy.quietHours ? t('policy.quietFromTo', { from: p.policy.quietHours.from, to: p.policy.quietHours.to }) : t('policy.noQuiet')}</p>
            <div class="buttons">
              <EditButton name={t(`severity.${p.severity}`)} onClick={() => setEditing(p)} />
              {own(p) && <Confirm label={t('policy.reset')} confirm={t('form.confirm')} onConfirm={() => reset(p)} />}
            </div>
          </section>
        ))}
      </div>
    </>
  )
}
