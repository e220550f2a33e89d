// The rules editor (admin/operator): every rule with its type, severity and scope; a form for
// creating or changing one, with the API's validation messages next to the field they name (the
// API checks a definition with the same schema the engine runs it with); delete (a built-in rule
// is disabled instead, so a restart does not bring it back).
import { useState } from 'preact/hooks'
import { Sev } from '../components/Badges.tsx'
import { Choice, Confirm, EditButton, ErrorLine, Field, FormPanel, ListTable, NewButton } from '../components/Form.tsx'
import { t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'
import { messageOf, useSave } from '../lib/forms.ts'
import { metricLabel, metricsOf } from '../lib/metrics.ts'
import { refreshRegistry } from '../lib/refresh.ts'
import { choices, communityName, deviceName, registry } from '../lib/registry.ts'
import { useStore } from '../lib/store.ts'
import { KINDS, SEVERITIES, type Kind, type Rule } from '../lib/types.ts'
import { definitionOf, formOf, KNOWN, PARAM_KIND, PARAMS, RULE_TYPES, ruleTitle, type RuleForm, type RuleType } from './rules-form.ts'

const MODES = ['occurrences', 'sum'] as const
const OPS: Record<string, readonly string[]> = { threshold: ['>', '>=', '<', '<='], count: ['>', '>=', '<', '<='], forecast: ['<', '>'] }

function Editor({ editing, onDone }: { editing: Rule | null; onDone: () => void }) {
  const reg = useStore(registry)
  const [f, setF] = useState<RuleForm>(() => formOf(editing))
  const save = async () => {
    const body = definitionOf(f, editing)
    if (editing) await api(`/api/v1/rules/${encodeURIComponent(editing.id)}`, { method: 'PUT', body })
    else await api('/api/v1/rules', { body })
    await refreshRegistry()
  }
  const { problems, busy, submit } = useSave(KNOWN, save, onDone)
  const err = (k: string) => problems.fields[k]
  const kind = (f.kind || (f.deviceId ? reg.devices.get(f.deviceId.trim())?.kind : '') || '') as Kind | ''
  const set = <K extends keyof RuleForm>(k: K, v: RuleForm[K]) => setF({ ...f, [k]: v })
  const setParam = (p: string, v: string) => setF({ ...f, params: { ...f.params, [p]: v } })
  const textField = (k: 'id' | 'name' | 'description' | 'ackDeadline' | 'resolveDeadline', label: string, extra: { hint?: string; readOnly?: boolean; required?: boolean } = {}) => (
    <Field id={`rule-${k}`} label={label} error={err(k)} hint={extra.hint}>
      {(a) => <input {...a} readOnly={extra.readOnly} required={extra.required} value={f[k]} onInput={(e) => set(k, e.currentTarget.value)} />}
    </Field>
  )
  const param = (p: string) => {
    const id = `rule-param-${p}`
    const value = f.params[p] ?? ''
    const pick = (v: string) => setParam(p, v)
    const kindOf = PARAM_KIND[p]
    return (
      <Field key={p} id={id} label={t(`rules.param.${p}` as 'rules.param.metric')} error={err(`params.${p}`)} hint={kindOf === 'duration' ? t('rules.durationHint') : undefined}>
        {(a) =>
          kindOf === 'metric' && kind ? (
            <Choice a={a} value={value} onPick={pick} empty={t('form.choose')} options={metricsOf(kind).map((m) => [m, metricLabel(kind, m)])} />
          ) : kindOf === 'op' ? (
            <Choice a={a} value={value} onPick={pick} empty={t('form.none')} options={(OPS[f.type] ?? []).map((o) => [o, o])} />
          ) : kindOf === 'mode' ? (
            <Choice a={a} value={value || 'occurrences'} onPick={pick} options={MODES.map((m) => [m, t(`rules.mode.${m}`)])} />
          ) : (
            <input {...a} inputMode={kindOf === 'number' ? 'decimal' : undefined} value={value} onInput={(e) => pick(e.currentTarget.value)} />
          )
        }
      </Field>
    )
  }
  return (
    <FormPanel
      title={editing ? t('rules.edit', { name: ruleTitle(editing) }) : t('rules.new')}
      id="rule-form"
      problems={problems}
      busy={busy}
      submit={editing ? t('form.save') : t('form.create')}
      onSubmit={submit}
      onCancel={onDone}
    >
        {textField('id', t('form.id'), editing ? { readOnly: true } : { hint: t('rules.idHint') })}
        {textField('name', t('form.name'))}
        {textField('description', t('rules.description'))}
        <Field id="rule-type" label={t('rules.type')} error={err('type')}>
          {(a) => (
            <Choice
              a={a}
              value={f.type}
              onPick={(v) => setF({ ...f, type: v as RuleType, params: Object.fromEntries(PARAMS[v as RuleType].map((p) => [p, f.params[p] ?? ''])) })}
              options={RULE_TYPES.map((x) => [x, t(`rules.type.${x}`)])}
            />
          )}
        </Field>
        <Field id="rule-severity" label={t('filter.severity')} error={err('severity')}>
          {(a) => <Choice a={a} value={f.severity} onPick={(v) => set('severity', v)} options={SEVERITIES.map((s) => [s, t(`severity.${s}`)])} />}
        </Field>
        <Field id="rule-kind" label={t('filter.kind')} error={err('scope.kind') ?? err('scope')}>
          {(a) => <Choice a={a} value={f.kind} onPick={(v) => set('kind', v)} empty={t('rules.anyKind')} options={KINDS.map((k) => [k, t(`kind.${k}`)])} />}
        </Field>
        <Field id="rule-communityId" label={t('filter.community')} error={err('scope.communityId')}>
          {(a) => <Choice a={a} value={f.communityId} onPick={(v) => set('communityId', v)} empty={t('filter.all')} options={choices(reg.communities)} />}
        </Field>
        <Field id="rule-deviceId" label={t('rules.device')} error={err('scope.deviceId')} hint={t('rules.deviceHint')}>
          {(a) => <input {...a} list="rule-devices" value={f.deviceId} onInput={(e) => set('deviceId', e.currentTarget.value)} />}
        </Field>
        <datalist id="rule-devices">
          {[...reg.devices.values()].slice(0, 1000).map((d) => (
            <option key={d.id} value={d.id}>
              {d.name ?? d.id}
            </option>
          ))}
        </datalist>
        <fieldset class="params">
          <legend>{t('rules.params', { type: t(`rules.type.${f.type}`) })}</legend>
          {PARAMS[f.type].map(param)}
        </fieldset>
        {textField('ackDeadline', t('rules.ackDeadline'), { hint: t('rules.deadlineHint') })}
        {textField('resolveDeadline', t('rules.resolveDeadline'), { hint: t('rules.deadlineHint') })}
        <div class="checks">
          <label>
            <input type="checkbox" id="rule-enabled" checked={f.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} /> {t('rules.enabled')}
          </label>
          <label>
            <input type="checkbox" id="rule-autoResolve" checked={f.autoResolve} onChange={(e) => set('autoResolve', e.currentTarget.checked)} /> {t('rules.autoResolve')}
          </label>
        </div>
    </FormPanel>
  )
}

const scopeOf = (r: Rule): string => {
  const s = r.definition.scope ?? {}
  return [s.kind ? t(`kind.${s.kind}`) : '', s.communityId ? communityName(s.communityId) : '', s.deviceId ? deviceName(s.deviceId) : ''].filter(Boolean).join(' · ')
}

export function Rules() {
  const reg = useStore(registry)
  const [editing, setEditing] = useState<Rule | 'new' | null>(null)
  const [error, setError] = useState('')
  const [text, setText] = useState('')
  const q = text.trim().toLowerCase()
  const list = [...reg.rules.values()].filter((r) => !q || `${r.id} ${ruleTitle(r)}`.toLowerCase().includes(q)).sort((a, b) => a.id.localeCompare(b.id))
  const remove = async (r: Rule) => {
    setError('')
    try {
      await api(`/api/v1/rules/${encodeURIComponent(r.id)}`, { method: 'DELETE' })
      await refreshRegistry()
    } catch (err) {
      setError(messageOf(err))
    }
  }
  return (
    <section class="rules">
      <h1>{t('rules.title')}</h1>
      <NewButton id="rule-new" label={t('rules.new')} onClick={() => setEditing('new')}>
        <label class="grow">
          <span>{t('filter.text')}</span>
          <input id="rule-filter" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
      </NewButton>
      {editing !== null && <Editor key={editing === 'new' ? '' : editing.id} editing={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      <ErrorLine text={error} />
      <ListTable id="rules" heads={[t('col.title'), t('rules.type'), t('filter.severity'), t('rules.scope'), t('device.state')]}>
          {list.map((r) => (
            <tr key={r.id} data-rule={r.id} class={r.enabled ? '' : 'resolved'}>
              <td data-label={t('col.title')}>
                {ruleTitle(r)} <code class="muted small">{r.id}</code>
              </td>
              <td data-label={t('rules.type')}>{RULE_TYPES.includes(r.definition.type as RuleType) ? t(`rules.type.${r.definition.type as RuleType}`) : r.definition.type}</td>
              <td data-label={t('filter.severity')}>{r.definition.severity && <Sev s={r.definition.severity} />}</td>
              <td data-label={t('rules.scope')}>{scopeOf(r)}</td>
              <td data-label={t('device.state')}>
                {r.enabled ? t('device.enabled') : t('device.disabled')}
                {r.builtin ? ` · ${t('rules.builtin')}` : ''}
              </td>
              <td class="row-actions">
                <EditButton name={ruleTitle(r)} onClick={() => setEditing(r)} />
                {(!r.builtin || r.enabled) && (
                  <Confirm label={r.builtin ? t('device.disable') : t('form.delete')} confirm={t('form.confirm')} onConfirm={() => void remove(r)} />
                )}
              </td>
            </tr>
          ))}
      </ListTable>
    </section>
  )
}
