// Device profiles (office): the list, shipped ones marked; one opened as its JSON definition to
// edit (or a new one), the API's validation message under the editor; and "try the decoder": a
// payload pasted with its fPort, run through the definition in the editor — saved or not — in
// the same sandbox as the ingest, showing the readings or why the payload would be dead-lettered.
import { useEffect, useState } from 'preact/hooks'
import { Choice, Field, ListTable, NewButton, Panel } from '../../components/Form.tsx'
import { profileName } from '../../../../shared/profile-text.ts'
import { lang, t, tMaybe } from '../../i18n/index.ts'
import { api } from '../../lib/api.ts'
import { messageOf } from '../../lib/forms.ts'
import type { Kind } from '../../lib/types.ts'

interface Profile {
  id: string
  kind: Kind
  definition: Record<string, unknown>
  builtin: boolean
  devices: number
}

type Decoded = { ok: true; readings: { ts?: number; values: Record<string, number | boolean> }[]; warnings: string[] } | { ok: false; reason: string }

const STARTER = {
  id: 'my-dtu',
  name: 'Tank level DTU posting JSON',
  kind: 'fire_tank',
  reportInterval: '10m',
  decoder: { fields: [{ metric: 'water_level_m', path: 'data.level_mm', convert: 'mm_to_m' }] },
}

/** The order people read a profile in (the database keeps JSON keys in its own order). */
const ORDER = ['id', 'name', 'kind', 'manufacturer', 'model', 'source', 'reportInterval', 'ruleOverrides', 'variables', 'decoder']

/** "20m" for 1,200,000 ms: the API stores milliseconds and takes either. */
function duration(ms: unknown): unknown {
  if (typeof ms !== 'number' || ms <= 0) return ms
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`
  return ms
}

/**
 * A stored definition as the two editors show it: the JSON without the script, and the script
 * as the JavaScript it is (inside JSON it would be one line of escapes).
 */
function split(definition: Record<string, unknown>): { json: string; script: string } {
  const { decoder, ...rest } = definition
  const { script, ...fields } = (decoder ?? {}) as { script?: unknown }
  const shown: Record<string, unknown> = { ...rest, reportInterval: duration(rest.reportInterval), ...(Object.keys(fields).length > 0 ? { decoder: fields } : {}) }
  const first: [string, unknown][] = ORDER.filter((k) => shown[k] !== undefined).map((k) => [k, shown[k]])
  const ordered = Object.fromEntries([...first, ...Object.entries(shown).filter(([k]) => !ORDER.includes(k))])
  return { json: JSON.stringify(ordered, null, 2), script: typeof script === 'string' ? script : '' }
}

/** The two editors' text as one definition, or what is wrong with the JSON. */
function joined(json: string, script: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  const def = parsed(json)
  if (!def.ok || script.trim() === '') return def
  const decoder = (typeof def.value.decoder === 'object' && def.value.decoder !== null ? def.value.decoder : {}) as Record<string, unknown>
  return { ok: true, value: { ...def.value, decoder: { ...decoder, script } } }
}

/** The editor's text as JSON, or the parser's complaint. */
function parsed(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  try {
    const value = JSON.parse(text) as unknown
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: t('profile.notObject') }
    return { ok: true, value: value as Record<string, unknown> }
  } catch (err) {
    return { ok: false, error: t('profile.notJson', { error: messageOf(err) }) }
  }
}

function Output({ out }: { out: Decoded }) {
  if (!out.ok) return <p class="error">{t('profile.failed', { reason: out.reason })}</p>
  return (
    <>
      <table class="alerts" id="profile-readings">
        <thead>
          <tr>
            <th>{t('profile.metric')}</th>
            <th>{t('profile.value')}</th>
          </tr>
        </thead>
        <tbody>
          {out.readings.flatMap((r, i) =>
            Object.entries(r.values).map(([metric, value]) => (
              <tr key={`${i}-${metric}`} data-metric={metric}>
                <td data-label={t('profile.metric')}>
                  {tMaybe(`metric.${metric}`) ?? metric} <code class="muted small">{metric}</code>
                </td>
                <td data-label={t('profile.value')}>{String(value)}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
      {out.warnings.length > 0 && <p class="muted">{t('profile.warnings', { list: out.warnings.join('; ') })}</p>}
    </>
  )
}

function TryDecoder({ json, script }: { json: string; script: string }) {
  const [payload, setPayload] = useState('')
  const [encoding, setEncoding] = useState('hex')
  const [fPort, setFPort] = useState('1')
  const [out, setOut] = useState<Decoded | null>(null)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const run = async () => {
    setOut(null)
    setError('')
    const def = joined(json, script)
    if (!def.ok) return setError(def.error)
    setBusy(true)
    try {
      const port = fPort.trim() === '' ? undefined : Number(fPort)
      setOut(await api<Decoded>('/api/v1/profiles/decode', { body: { payload, encoding, ...(port === undefined ? {} : { fPort: port }), definition: def.value } }))
    } catch (err) {
      setError(messageOf(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <section class="try" aria-labelledby="profile-try-title">
      <h3 id="profile-try-title">{t('profile.try')}</h3>
      <p class="muted small">{t('profile.tryNote')}</p>
      <div class="grid-form">
        <Field id="profile-payload" label={t('profile.payload')} hint={t('profile.payloadHint')}>
          {(a) => <textarea {...a} class="code" rows={3} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} placeholder="01 75 64 03 D4 00 00 01 00 50 46" />}
        </Field>
        <Field id="profile-encoding" label={t('profile.encoding')}>
          {(a) => (
            <Choice
              a={a}
              value={encoding}
              onPick={setEncoding}
              options={[
                ['hex', t('profile.hex')],
                ['base64', 'Base64'],
                ['json', 'JSON'],
              ]}
            />
          )}
        </Field>
        <Field id="profile-fport" label="fPort">
          {(a) => <input {...a} type="number" min={0} max={255} inputMode="numeric" value={fPort} onInput={(e) => setFPort(e.currentTarget.value)} />}
        </Field>
      </div>
      <div class="buttons">
        <button type="button" class="primary" id="profile-decode" disabled={busy} onClick={() => void run()}>
          {t('profile.decode')}
        </button>
      </div>
      <div id="profile-output" aria-live="polite">
        {error && <p class="error">{error}</p>}
        {out && <Output out={out} />}
      </div>
    </section>
  )
}

function ProfileEditor({ profile, onDone }: { profile: Profile | null; onDone: () => void }) {
  const start = split(profile?.definition ?? STARTER)
  const [text, setText] = useState(start.json)
  const [script, setScript] = useState(start.script)
  const [problem, setProblem] = useState('')
  const [busy, setBusy] = useState(false)
  const save = async (e: Event) => {
    e.preventDefault()
    setProblem('')
    const def = joined(text, script)
    if (!def.ok) return setProblem(def.error)
    setBusy(true)
    try {
      if (profile) await api(`/api/v1/profiles/${encodeURIComponent(profile.id)}`, { method: 'PUT', body: def.value })
      else await api('/api/v1/profiles', { body: def.value })
      onDone()
    } catch (err) {
      setProblem(messageOf(err))
    } finally {
      setBusy(false)
    }
  }
  const source = typeof profile?.definition.source === 'string' ? profile.definition.source : undefined
  return (
    <Panel title={profile ? t('profile.edit', { id: profile.id }) : t('profile.new')} id="profile-form">
      {profile?.builtin && <p class="muted small">{t('profile.shippedNote')}</p>}
      {source && (
        <p class="small">
          {t('profile.source')}: {source}
        </p>
      )}
      <form onSubmit={(e) => void save(e)} noValidate>
        <Field id="profile-definition" label={t('profile.definition')} hint={t('profile.definitionHint')} error={problem || undefined}>
          {(a) => <textarea {...a} class="code" rows={14} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />}
        </Field>
        <Field id="profile-script" label={t('profile.script')} hint={t('profile.scriptHint')}>
          {(a) => <textarea {...a} class="code" rows={script ? 14 : 3} spellcheck={false} wrap="off" value={script} onInput={(e) => setScript(e.currentTarget.value)} placeholder="function decodeUplink(input) { … }" />}
        </Field>
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            {profile ? t('form.save') : t('form.create')}
          </button>
          <button type="button" onClick={onDone}>
            {t('form.cancel')}
          </button>
        </div>
      </form>
      <TryDecoder json={text} script={script} />
    </Panel>
  )
}

export function Profiles() {
  const [list, setList] = useState<Profile[] | null>(null)
  const [open, setOpen] = useState<Profile | 'new' | null>(null)
  const [error, setError] = useState('')
  const load = () =>
    api<{ items: Profile[] }>('/api/v1/profiles')
      .then((r) => setList(r.items))
      .catch((err: unknown) => setError(messageOf(err)))
  useEffect(() => void load(), [])
  const done = () => {
    setOpen(null)
    void load()
  }
  const name = (p: Profile) => (typeof p.definition.name === 'string' ? profileName(p.id, p.definition.name, lang.get()) : p.id)
  return (
    <>
      <NewButton id="profile-new" label={t('profile.new')} onClick={() => setOpen('new')} />
      {open !== null && <ProfileEditor key={open === 'new' ? '' : open.id} profile={open === 'new' ? null : open} onDone={done} />}
      {error && <p class="error" role="alert">{error}</p>}
      <ListTable id="profiles" heads={[t('form.name'), t('form.id'), t('filter.kind'), t('profile.devices')]}>
        {(list ?? []).map((p) => (
          <tr key={p.id} data-profile={p.id}>
            <td data-label={t('form.name')}>
              {name(p)} {p.builtin && <span class="badge">{t('profile.shipped')}</span>}
            </td>
            <td data-label={t('form.id')}>
              <code>{p.id}</code>
            </td>
            <td data-label={t('filter.kind')}>{t(`kind.${p.kind}`)}</td>
            <td data-label={t('profile.devices')}>{p.devices}</td>
            <td>
              <button type="button" onClick={() => setOpen(p)} aria-label={t('profile.openOf', { name: name(p) })}>
                {t('profile.open')}
              </button>
            </td>
          </tr>
        ))}
      </ListTable>
      {list === null && !error && <p class="muted">{t('common.loading')}</p>}
      {list?.length === 0 && <p class="empty">{t('form.empty')}</p>}
    </>
  )
}
