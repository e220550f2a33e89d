// Users and their tokens (admin only; the API refuses everyone else). Creating a user issues their
// first token, shown once; each user's tokens can be listed, revoked, and another issued (shown
// once). A user can be disabled (PATCH /api/v1/users/:id), which signs them out at once without
// touching their tokens, and enabled again, which makes their unexpired, unrevoked tokens work.
// A user who lost the phone with their one-time codes has two-step sign-in reset here.
// An admin links a user's WeCom userid or DingTalk unionId (PATCH wecomUserId / dingtalkUnionId),
// with which they sign in through WeCom or DingTalk.
import { Fragment } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { Choice, Confirm, ErrorLine, Field, FormPanel, ListTable, NewButton, SecretOnce, TextField } from '../components/Form.tsx'
import { dateTime, t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'
import { messageOf, opt, setter, useSave } from '../lib/forms.ts'
import { choices, communityName, companyName, registry, streetName } from '../lib/registry.ts'
import { me } from '../lib/session.ts'
import { useStore } from '../lib/store.ts'
import type { Issued, Role, TokenInfo, User } from '../lib/types.ts'

const ROLES: readonly Role[] = ['admin', 'operator', 'crew', 'resident', 'street_officer', 'service']
const FIELDS = ['name', 'role', 'companyId', 'communityId', 'streetId', 'label', 'expiresIn'] as const
type Form = Record<(typeof FIELDS)[number], string>

interface Shown {
  name: string
  token: string
}

function UserForm({ onDone, onToken }: { onDone: () => void; onToken: (s: Shown) => void }) {
  const reg = useStore(registry)
  const [f, setF] = useState<Form>({ name: '', role: 'crew', companyId: '', communityId: '', streetId: '', label: '', expiresIn: '' })
  const set = setter(f, setF)
  const pick = (k: keyof Form) => (v: string) => setF({ ...f, [k]: v })
  const save = async () => {
      const r = await api<{ user: User; token: Issued }>('/api/v1/users', {
        body: {
          name: f.name,
          role: f.role,
          ...(f.role === 'crew' && f.companyId ? { companyId: f.companyId } : {}),
          ...(f.role === 'resident' && f.communityId ? { communityId: f.communityId } : {}),
          ...(f.role === 'street_officer' && f.streetId ? { streetId: f.streetId } : {}),
          ...(opt(f.label) ? { label: opt(f.label) } : {}),
          ...(opt(f.expiresIn) ? { expiresIn: opt(f.expiresIn) } : {}),
        },
      })
      onToken({ name: r.user.name, token: r.token.token })
  }
  const { problems, busy, submit } = useSave(FIELDS, save, onDone)
  return (
    <FormPanel title={t('users.new')} id="user-form" problems={problems} busy={busy} submit={t('form.create')} onSubmit={submit} onCancel={onDone}>
        <Field id="user-name" label={t('form.name')} error={problems.fields.name}>
          {(a) => <input {...a} required autocomplete="off" value={f.name} onInput={set('name')} />}
        </Field>
        <Field id="user-role" label={t('users.role')} error={problems.fields.role}>
          {(a) => <Choice a={a} value={f.role} onPick={pick('role')} options={ROLES.map((r) => [r, t(`role.${r}`)])} />}
        </Field>
        {f.role === 'crew' && (
          <Field id="user-companyId" label={t('filter.company')} error={problems.fields.companyId} hint={t('users.companyHint')}>
            {(a) => <Choice a={a} required value={f.companyId} onPick={pick('companyId')} empty={t('form.choose')} options={choices(reg.companies)} />}
          </Field>
        )}
        {f.role === 'resident' && (
          <Field id="user-communityId" label={t('filter.community')} error={problems.fields.communityId} hint={t('users.communityHint')}>
            {(a) => <Choice a={a} required value={f.communityId} onPick={pick('communityId')} empty={t('form.choose')} options={choices(reg.communities)} />}
          </Field>
        )}
        {f.role === 'street_officer' && (
          <Field id="user-streetId" label={t('community.streetId')} error={problems.fields.streetId} hint={t('users.streetHint')}>
            {(a) => <Choice a={a} required value={f.streetId} onPick={pick('streetId')} empty={t('form.choose')} options={choices(reg.streets)} />}
          </Field>
        )}
        <Field id="user-label" label={t('users.tokenLabel')} error={problems.fields.label}>
          {(a) => <input {...a} value={f.label} onInput={set('label')} />}
        </Field>
        <Field id="user-expiresIn" label={t('users.expiresIn')} error={problems.fields.expiresIn} hint={t('users.expiresHint')}>
          {(a) => <input {...a} value={f.expiresIn} onInput={set('expiresIn')} />}
        </Field>
    </FormPanel>
  )
}

type TokenState = 'active' | 'revoked' | 'expired'
const tokenState = (k: TokenInfo): TokenState => (k.revokedAt ? 'revoked' : k.expiresAt && Date.parse(k.expiresAt) <= Date.now() ? 'expired' : 'active')

/** One user's tokens: revoke each, or issue another (shown once). */
function Tokens({ user, onToken }: { user: User; onToken: (s: Shown) => void }) {
  const [list, setList] = useState<TokenInfo[]>([])
  const [f, setF] = useState({ label: '', expiresIn: '' })
  const [error, setError] = useState('')
  const path = `/api/v1/users/${encodeURIComponent(user.id)}/tokens`
  const load = () => void api<{ items: TokenInfo[] }>(path).then((r) => setList(r.items), (err: unknown) => setError(String(err)))
  useEffect(load, [user.id])
  const revoke = async (id: string) => {
    setError('')
    try {
      await api(`/api/v1/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' })
    } catch (err) {
      setError(messageOf(err))
    }
    load()
  }
  const issue = async () => {
    const r = await api<Issued>(path, { body: { ...(opt(f.label) ? { label: opt(f.label) } : {}), ...(opt(f.expiresIn) ? { expiresIn: opt(f.expiresIn) } : {}) } })
    onToken({ name: user.name, token: r.token })
  }
  const issued = () => {
    setF({ label: '', expiresIn: '' })
    load()
  }
  const { problems, busy, submit } = useSave(['label', 'expiresIn'], issue, issued)
  const bound = { form: 'token', f, setF, problems }
  const head = (
    <>
      <ul class="plain" id="token-list">
        {list.map((k) => {
          const state = tokenState(k)
          return (
            <li key={k.id} class="token-row">
              <span>
                <b>{k.label ?? t('users.tokenNamed', { id: k.id.slice(0, 8) })}</b> · {t(`users.token.${state}`)}
                <span class="muted small">
                  {' '}
                  · {t('users.created', { time: dateTime(k.createdAt) })}
                  {k.lastUsedAt ? ` · ${t('users.lastUsed', { time: dateTime(k.lastUsedAt) })}` : ''}
                  {k.expiresAt ? ` · ${t('users.expires', { time: dateTime(k.expiresAt) })}` : ''}
                </span>
              </span>
              {state === 'active' && <Confirm label={t('users.revoke')} confirm={t('form.confirm')} onConfirm={() => void revoke(k.id)} />}
            </li>
          )
        })}
      </ul>
      <ErrorLine text={error} />
    </>
  )
  return (
    <FormPanel title={t('users.tokensOf', { name: user.name })} id="tokens" problems={problems} busy={busy} submit={t('users.issue')} onSubmit={submit} head={head}>
      <TextField {...bound} name="label" label={t('users.tokenLabel')} />
      <TextField {...bound} name="expiresIn" label={t('users.expiresIn')} hint={t('users.expiresHint')} />
    </FormPanel>
  )
}

/** What each provider's link is: the user's field, and the words of its column and form. */
const LINKS = {
  wecom: { field: 'wecomUserId', column: 'users.wecom', of: 'users.wecomOf', label: 'users.wecomUserId', hint: 'users.wecomHint' },
  dingtalk: { field: 'dingtalkUnionId', column: 'users.dingtalk', of: 'users.dingtalkOf', label: 'users.dingtalkUnionId', hint: 'users.dingtalkHint' },
} as const
type Provider = keyof typeof LINKS

/** The WeCom userid or DingTalk unionId that signs in as `user`; empty = none (null unlinks). */
function ProviderLink({ provider, user, onDone }: { provider: Provider; user: User; onDone: () => void }) {
  const { field, of, label, hint } = LINKS[provider]
  const [f, setF] = useState<Record<string, string>>({ [field]: user[field] ?? '' })
  const save = async () => {
    await api(`/api/v1/users/${encodeURIComponent(user.id)}`, { method: 'PATCH', body: { [field]: opt(f[field] ?? '') ?? null } })
  }
  const { problems, busy, submit } = useSave([field], save, onDone)
  return (
    <FormPanel title={t(of, { name: user.name })} id={`${provider}-link`} problems={problems} busy={busy} submit={t('form.save')} onSubmit={submit} onCancel={onDone}>
      <TextField form={provider} name={field} f={f} setF={setF} problems={problems} label={t(label)} hint={t(hint)} />
    </FormPanel>
  )
}

export function Users() {
  useStore(registry)
  // The API refuses an admin disabling themselves (cannot_disable_self): their own row offers no "disable".
  const self = useStore(me)?.id
  const [list, setList] = useState<User[]>([])
  const [creating, setCreating] = useState(false)
  const [open, setOpen] = useState<User | null>(null)
  const [linking, setLinking] = useState<{ provider: Provider; user: User } | null>(null)
  const [shown, setShown] = useState<Shown | null>(null)
  const [error, setError] = useState('')
  const [notice, setNotice] = useState('')
  const load = () => void api<{ items: User[] }>('/api/v1/users').then((r) => setList(r.items), (err: unknown) => setError(messageOf(err)))
  useEffect(load, [])
  const setDisabled = async (u: User, disabled: boolean) => {
    setError('')
    try {
      await api(`/api/v1/users/${encodeURIComponent(u.id)}`, { method: 'PATCH', body: { disabled } })
    } catch (err) {
      setError(messageOf(err))
    }
    load()
  }
  const resetTotp = async (u: User) => {
    setError('')
    setNotice('')
    try {
      await api(`/api/v1/users/${encodeURIComponent(u.id)}/totp`, { method: 'DELETE' })
      setNotice(t('totp.resetDone', { name: u.name }))
    } catch (err) {
      setError(messageOf(err))
    }
    load()
  }
  return (
    <section class="users">
      <h1>{t('users.title')}</h1>
      {shown && <SecretOnce label={t('users.tokenOf', { name: shown.name })} value={shown.token} onDone={() => setShown(null)} />}
      <NewButton id="user-new" label={t('users.new')} onClick={() => setCreating(true)} />
      {creating && (
        <UserForm
          onDone={() => {
            setCreating(false)
            load()
          }}
          onToken={setShown}
        />
      )}
      {open && <Tokens key={open.id} user={open} onToken={setShown} />}
      {linking && (
        <ProviderLink
          key={`${linking.provider}-${linking.user.id}`}
          provider={linking.provider}
          user={linking.user}
          onDone={() => {
            setLinking(null)
            load()
          }}
        />
      )}
      <ErrorLine text={error} />
      {notice && (
        <p class="notice" role="status" id="users-notice">
          {notice}
        </p>
      )}
      <ListTable id="users" heads={[t('form.name'), t('users.role'), t('users.belongs'), t('users.wecom'), t('users.dingtalk'), t('users.since'), t('users.state')]}>
          {list.map((u) => (
            <tr key={u.id} data-user={u.name}>
              <td data-label={t('form.name')}>{u.name}</td>
              <td data-label={t('users.role')}>{t(`role.${u.role}`)}</td>
              <td data-label={t('users.belongs')}>{u.companyId ? companyName(u.companyId) : u.communityId ? communityName(u.communityId) : u.streetId ? streetName(u.streetId) : t('form.none')}</td>
              {(['wecom', 'dingtalk'] as const).map((p) => (
                <td key={p} data-label={t(LINKS[p].column)} class={`user-${p}`}>
                  {u[LINKS[p].field] ?? t('form.none')}
                </td>
              ))}
              <td data-label={t('users.since')}>{dateTime(u.createdAt)}</td>
              <td data-label={t('users.state')} class="user-state">
                {u.disabled ? t('users.disabled') : t('users.enabled')}
                {u.totpEnabled && ` · ${t('users.totpOn')}`}
              </td>
              <td>
                {u.id === self ? null : u.disabled ? (
                  <button type="button" class="enable-user" onClick={() => void setDisabled(u, false)}>
                    {t('users.enable')}
                  </button>
                ) : (
                  <Confirm class="disable-user" label={t('users.disable')} confirm={t('form.confirm')} onConfirm={() => void setDisabled(u, true)} />
                )}{' '}
                <button type="button" class="user-tokens" aria-expanded={open?.id === u.id} onClick={() => setOpen(open?.id === u.id ? null : u)} aria-label={t('users.tokensOf', { name: u.name })}>
                  {t('users.tokens')}
                </button>{' '}
                {(['wecom', 'dingtalk'] as const).map((p) => {
                  const on = linking?.provider === p && linking.user.id === u.id
                  return (
                    <Fragment key={p}>
                      <button type="button" class={`link-${p}`} aria-expanded={on} onClick={() => setLinking(on ? null : { provider: p, user: u })} aria-label={t(LINKS[p].of, { name: u.name })}>
                        {t(LINKS[p].column)}
                      </button>{' '}
                    </Fragment>
                  )
                })}
                {u.totpEnabled && (
                  <>
                    {' '}
                    <Confirm class="reset-totp" label={t('totp.reset')} confirm={t('form.confirm')} onConfirm={() => void resetTotp(u)} />
                  </>
                )}
              </td>
            </tr>
          ))}
      </ListTable>
    </section>
  )
}
