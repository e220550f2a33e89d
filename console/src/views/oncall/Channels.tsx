// The owner's notification channels: create and change one (the API's messages under the fields,
// the egress guard's refusal of a private address under the address field), enable or disable,
// delete, and send a test message through it — the same sender an alert's page goes through.
import { useEffect, useState } from 'preact/hooks'
import { Choice, Confirm, EditButton, ErrorLine, Field, FormPanel, ListTable, NewButton, Panel } from '../../components/Form.tsx'
import { lang, t } from '../../i18n/index.ts'
import { api, ApiError } from '../../lib/api.ts'
import { messageOf, useSave, useSubmit } from '../../lib/forms.ts'
import { useStore } from '../../lib/store.ts'
import { me } from '../../lib/session.ts'
import { BOT_KINDS, CHANNEL_KINDS, CHANNEL_KNOWN, channelBodyOf, channelFormOf, KIND_FIELDS, targetOf, type ChannelForm, type ChannelKind } from './channel-fields.ts'
import { owner, ownerQuery, type Channel } from './owner.ts'

const fieldId = (path: string) => `channel-${path.replace('.', '-')}`

/** The egress guard's refusal (`body.settings.url: the address of "h" is loopback; …`) in the reader's language, still under its field. */
function deniedInOwnWords(err: unknown): unknown {
  const m = err instanceof ApiError && err.code === 'destination_denied' ? /^(body\.[\w.]+): the address of "(.*?)" is (\w+)/.exec(err.message) : null
  if (!m || !(err instanceof ApiError)) return err
  return new ApiError(err.status, err.code, `${m[1]}: ${t('channel.denied', { host: m[2] ?? '', range: m[3] ?? '' })}`)
}

function ChannelEditor({ editing, onDone }: { editing: Channel | null; onDone: () => void }) {
  const who = useStore(owner)
  const admin = useStore(me)?.role === 'admin'
  const [f, setF] = useState<ChannelForm>(() => channelFormOf(editing))
  const save = async () => {
    let body
    try {
      body = channelBodyOf(f)
    } catch {
      throw new Error(t('channel.otherInvalid'))
    }
    try {
      if (editing) await api(`/api/v1/notify/channels/${editing.id}`, { method: 'PUT', body })
      else await api('/api/v1/notify/channels', { body: { ...body, kind: f.kind, companyId: who === '' ? null : who } })
    } catch (err) {
      throw deniedInOwnWords(err)
    }
  }
  const { problems, busy, submit } = useSave(CHANNEL_KNOWN, save, onDone)
  const setValue = (path: string, v: string) => setF({ ...f, values: { ...f.values, [path]: v } })
  return (
    <FormPanel
      title={editing ? t('channel.edit', { name: editing.name }) : t('channel.new')}
      id="channel-form"
      problems={problems}
      busy={busy}
      submit={editing ? t('form.save') : t('form.create')}
      onSubmit={submit}
      onCancel={onDone}
      note={editing?.hasSecrets ? t('channel.secretsKept') : undefined}
    >
      <Field id="channel-kind" label={t('channel.kind')} error={problems.fields.kind}>
        {(a) => <Choice a={a} value={f.kind} disabled={editing !== null} onPick={(v) => setF({ ...channelFormOf(null), name: f.name, kind: v as ChannelKind })} options={CHANNEL_KINDS.map((k) => [k, t(`channel.kind.${k}`)])} />}
      </Field>
      <Field id="channel-name" label={t('form.name')} error={problems.fields.name}>
        {(a) => <input {...a} required value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />}
      </Field>
      {KIND_FIELDS[f.kind]
        .filter((x) => !x.admin || admin)
        .map((x) =>
          x.type === 'bool' ? (
            <div class="checks" key={x.path}>
              <label>
                <input type="checkbox" id={fieldId(x.path)} checked={f.values[x.path] !== 'false'} onChange={(e) => setValue(x.path, String(e.currentTarget.checked))} /> {t(`channel.field.${x.path}` as 'channel.field.settings.url')}
              </label>
            </div>
          ) : (
            <Field
              key={x.path}
              id={fieldId(x.path)}
              label={t(`channel.field.${x.path}` as 'channel.field.settings.url')}
              error={problems.fields[x.path]}
              hint={x.path.startsWith('secrets.') ? (editing ? t('channel.secretKeep') : t('channel.secretHint')) : x.admin ? t('channel.baseUrlHint') : x.path === 'settings.url' ? t('channel.urlHint') : undefined}
            >
              {(a) =>
                x.path.startsWith('secrets.') ? (
                  <input {...a} type="password" autoComplete="off" value={f.values[x.path] ?? ''} onInput={(e) => setValue(x.path, e.currentTarget.value)} />
                ) : (
                  <input {...a} inputMode={x.type === 'number' ? 'numeric' : undefined} value={f.values[x.path] ?? ''} onInput={(e) => setValue(x.path, e.currentTarget.value)} />
                )
              }
            </Field>
          ),
        )}
      <Field id="channel-other" label={t('channel.other')} error={problems.fields.other ?? problems.fields.settings} hint={t('channel.otherHint')}>
        {(a) => <textarea {...a} rows={3} value={f.other} onInput={(e) => setF({ ...f, other: e.currentTarget.value })} />}
      </Field>
    </FormPanel>
  )
}

/** Send a test message: to an address, or (a group-chat bot) to its group; what the channel answered. */
function TestPanel({ channel, onDone }: { channel: Channel; onDone: () => void }) {
  const bot = BOT_KINDS.includes(channel.kind)
  const [address, setAddress] = useState('')
  const [sent, setSent] = useState('')
  const { problems, busy, run } = useSubmit(['address'])
  const send = (e: Event) => {
    e.preventDefault()
    setSent('')
    void run(async () => {
      try {
        const r = await api<{ detail: string; status: string }>(`/api/v1/notify/channels/${channel.id}/test`, { body: { ...(bot ? {} : { address: address.trim() }), locale: lang.get() } })
        setSent(t('channel.testSent', { detail: `${r.detail} (${r.status})` }))
      } catch (err) {
        // What the vendor answered stays its own words; the sentence around it is the reader's.
        const answer = err instanceof ApiError && err.code === 'channel_test_failed' ? /: (.*)$/s.exec(err.message)?.[1] : undefined
        throw answer === undefined || !(err instanceof ApiError) ? err : new ApiError(err.status, err.code, t('channel.testFailed', { detail: answer }))
      }
    })
  }
  return (
    <Panel title={t('channel.testOf', { name: channel.name })} id="channel-test">
      <form class="grid-form" onSubmit={send} noValidate>
        {bot ? (
          <p class="muted small">{t('channel.testBot')}</p>
        ) : (
          <Field id="test-address" label={t('channel.testAddress')} error={problems.fields.address} hint={t('channel.testAddressHint')}>
            {(a) => <input {...a} value={address} onInput={(e) => setAddress(e.currentTarget.value)} />}
          </Field>
        )}
        <p class="error form-error" role="alert">
          {problems.general}
        </p>
        <p class="ok" role="status" id="test-result">
          {sent}
        </p>
        <div class="buttons">
          <button type="submit" class="primary" id="test-send" disabled={busy}>
            {t('channel.testSend')}
          </button>
          <button type="button" onClick={onDone}>
            {t('oncall.close')}
          </button>
        </div>
      </form>
    </Panel>
  )
}

export function Channels() {
  const who = useStore(owner)
  const [list, setList] = useState<Channel[]>([])
  const [editing, setEditing] = useState<Channel | 'new' | null>(null)
  const [testing, setTesting] = useState<Channel | null>(null)
  const [error, setError] = useState('')
  const load = () => void api<{ items: Channel[] }>(`/api/v1/notify/channels${ownerQuery(who)}`).then((r) => setList(r.items), (err: unknown) => setError(messageOf(err)))
  useEffect(load, [who])
  const act = (fn: () => Promise<unknown>) => {
    setError('')
    void fn().then(load, (err: unknown) => setError(messageOf(err)))
  }
  return (
    <>
      <NewButton id="channel-new" label={t('channel.new')} onClick={() => (setTesting(null), setEditing('new'))} />
      {editing !== null && <ChannelEditor key={editing === 'new' ? '' : editing.id} editing={editing === 'new' ? null : editing} onDone={() => (setEditing(null), load())} />}
      {testing !== null && <TestPanel key={testing.id} channel={testing} onDone={() => setTesting(null)} />}
      <ErrorLine text={error} />
      <ListTable id="channels" heads={[t('form.name'), t('channel.kind'), t('channel.target'), t('device.state')]}>
        {list.map((c) => (
          <tr key={c.id} data-channel={c.name} class={c.enabled ? '' : 'resolved'}>
            <td data-label={t('form.name')}>{c.name}</td>
            <td data-label={t('channel.kind')}>{CHANNEL_KINDS.includes(c.kind as ChannelKind) ? t(`channel.kind.${c.kind as ChannelKind}`) : c.kind}</td>
            <td data-label={t('channel.target')} class="wrap">
              {targetOf(c)}
            </td>
            <td data-label={t('device.state')}>{c.enabled ? t('device.enabled') : t('device.disabled')}</td>
            <td class="row-actions">
              <button type="button" class="test" aria-label={t('channel.testOf', { name: c.name })} onClick={() => (setEditing(null), setTesting(c))}>
                {t('channel.test')}
              </button>
              <EditButton name={c.name} onClick={() => (setTesting(null), setEditing(c))} />
              <button type="button" onClick={() => act(() => api(`/api/v1/notify/channels/${c.id}`, { method: 'PATCH', body: { enabled: !c.enabled } }))}>
                {c.enabled ? t('device.disable') : t('device.enable')}
              </button>
              <Confirm label={t('form.delete')} confirm={t('form.confirm')} onConfirm={() => act(() => api(`/api/v1/notify/channels/${c.id}`, { method: 'DELETE' }))} />
            </td>
          </tr>
        ))}
      </ListTable>
      {list.length === 0 && <p class="empty">{t('channel.none')}</p>}
    </>
  )
}
