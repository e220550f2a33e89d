// The rules editor (admin/operator): every rule with its type, severity and scope; a form for
// creating or changing one, with the API's validation messages next to the field they name (the
// API checks a definition with the same schema the engine runs it with); delete (a built-in rule
// is disabled instead, so a restart does not bring it back).
import { useState } from 'preact/hooks'
import { Sev } from '../components/Badges.tsx'
import { Buttons, Confirm, Field, General, Panel } from '../components/Form.tsx'
import { t } from '../i18n/index.ts'
import { api, ApiError } from '../lib/api.ts'
import { useSubmit } from '../lib/forms.ts'
import { metricLabel, metricsOf } from '../lib/metrics.ts'
import { refreshRegistry } from '../lib/refresh.ts'
import { communityName, deviceName, registry } from '../lib/registry.ts'
import { useStore } from '../lib/store.ts'
import { KINDS, SEVERITIES, type Kind, type Rule } from '../lib/types.ts'
import { definitionOf, formOf, KNOWN, PARAM_KIND, PARAMS, RULE_TYPES, ruleTitle, type RuleForm, type RuleType } from './rules-form.ts'

const OPS: Record<string, readonly string[]> = { threshold: ['>', '>=', '<', '<='], count: ['>', '>=', '<', '<='], forecast: ['<', '>'] }

function Editor({ editing, onDone }: { editing: Rule | null; onDone: () => void }) {
  const reg = useStore(registry)
  const [f, setF] = useState<RuleForm>(() => formOf(editing))
  const { problems, busy, run } = useSubmit(KNOWN)
  const err = (k: string) => problems.fields[k]
  const kind = (f.kind || (f.deviceId ? reg.devices.get(f.deviceId.trim())?.kind : '') || '') as Kind | ''
  const submit = async (e: Event) => {
    e.preventDefault()
    const body = definitionOf(f, editing)
    const ok = await run(async () => {
      if (editing) await api(`/api/v1/rules/${encodeURIComponent(editing.id)}`, { method: 'PUT', body })
      else await api('/api/v1/rules', { body })
      await refreshRegistry()
    })
    if (ok) onDone()
  }
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
    const onInput = (e: Event) => setParam(p, (e.currentTarget as HTMLInputElement | HTMLSelectElement).value)
    const kindOf = PARAM_KIND[p]
    return (
      <Field key={p} id={id} label={t(`rules.param.${p}` as 'rules.param.metric')} error={err(`params.${p}`)} hint={kindOf === 'duration' ? t('rules.durationHint') : undefined}>
        {(a) =>
          kindOf === 'metric' && kind ? (
            <select {...a} value={value} onChange={onInput}>
              <option value="">{t('form.choose')}</option>
              {metricsOf(kind).map((m) => (
                <option key={m} value={m}>
                  {metricLabel(kind, m)}
                </option>
              ))}
            </select>
          ) : kindOf === 'op' ? (
            <select {...a} value={value} onChange={onInput}>
              <option value="">{t('form.none')}</option>
              {(OPS[f.type] ?? []).map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          ) : kindOf === 'mode' ? (
            <select {...a} value={value} onChange={onInput}>
              <option value="occurrences">{t('rules.mode.occurrences')}</option>
              <option value="sum">{t('rules.mode.sum')}</option>
            </select>
          ) : (
            <input {...a} inputMode={kindOf === 'number' ? 'decimal' : undefined} value={value} onInput={onInput} />
          )
        }
      </Field>
    )
  }
  return (
    <Panel title={editing ? t('rules.edit', { name: ruleTitle(editing) }) : t('rules.new')} id="rule-form">
      <form class="grid-form" onSubmit={(e) => void submit(e)} noValidate>
        {textField('id', t('form.id'), editing ? { readOnly: true } : { hint: t('rules.idHint') })}
        {textField('name', t('form.name'))}
        {textField('description', t('rules.description'))}
        <Field id="rule-type" label={t('rules.type')} error={err('type')}>
          {(a) => (
            <select {...a} value={f.type} onChange={(e) => setF({ ...f, type: e.currentTarget.value as RuleType, params: Object.fromEntries(PARAMS[e.currentTarget.value as RuleType].map((p) => [p, f.params[p] ?? ''])) })}>
              {RULE_TYPES.map((x) => (
                <option key={x} value={x}>
                  {t(`rules.type.${x}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id="rule-severity" label={t('filter.severity')} error={err('severity')}>
          {(a) => (
            <select {...a} value={f.severity} onChange={(e) => set('severity', e.currentTarget.value)}>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {t(`severity.${s}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id="rule-kind" label={t('filter.kind')} error={err('scope.kind') ?? err('scope')}>
          {(a) => (
            <select {...a} value={f.kind} onChange={(e) => set('kind', e.currentTarget.value)}>
              <option value="">{t('rules.anyKind')}</option>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`kind.${k}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id="rule-communityId" label={t('filter.community')} error={err('scope.communityId')}>
          {(a) => (
            <select {...a} value={f.communityId} onChange={(e) => set('communityId', e.currentTarget.value)}>
              <option value="">{t('filter.all')}</option>
              {[...reg.communities.values()].map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          )}
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
        <General problems={problems} />
        <Buttons busy={busy} submit={editing ? t('form.save') : t('form.create')} onCancel={onDone} />
      </form>
    </Panel>
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
      setError(err instanceof ApiError ? err.message : String(err))
    }
  }
  return (
    <section class="rules">
      <h1>{t('rules.title')}</h1>
      <div class="bar">
        <button type="button" class="primary" id="rule-new" onClick={() => setEditing('new')}>
          {t('rules.new')}
        </button>
        <label class="grow">
          <span>{t('filter.text')}</span>
          <input id="rule-filter" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
      </div>
      {editing !== null && <Editor key={editing === 'new' ? '' : editing.id} editing={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      <p class="error" role="alert">
        {error}
      </p>
      <table class="alerts" id="rules">
        <thead>
          <tr>
            <th>{t('col.title')}</th>
            <th>{t('rules.type')}</th>
            <th>{t('filter.severity')}</th>
            <th>{t('rules.scope')}</th>
            <th>{t('device.state')}</th>
            <th>
              <span class="sr-only">{t('form.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
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
                <button type="button" onClick={() => setEditing(r)} aria-label={t('form.editOf', { name: ruleTitle(r) })}>
                  {t('form.edit')}
                </button>
                {(!r.builtin || r.enabled) && (
                  <Confirm label={r.builtin ? t('device.disable') : t('form.delete')} confirm={t('form.confirm')} onConfirm={() => void remove(r)} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
