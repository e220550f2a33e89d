// Devices as the registry keeps them: filter, register (the MQTT secret is shown once) or import a
// fleet from CSV (DeviceImport.tsx), change the
// name, gateway or reporting interval, rotate the secret (shown once), disable and enable. The
// device moves to another community by choosing it (its future alerts go to that community's
// company); its position on the map is its community's coordinates. Where it is in words (building,
// unit, floor, position; an elevator's registration and rescue codes) helps a crew find it.
import { useState } from 'preact/hooks'
import { ELEVATOR_CODE, PLACE_MAX } from '../../../../shared/place.ts'
import { Choice, Confirm, EditButton, ErrorLine, Field, FormPanel, ListTable, NewButton, SecretOnce, TextField } from '../../components/Form.tsx'
import { t } from '../../i18n/index.ts'
import { api } from '../../lib/api.ts'
import { messageOf, opt, optNum, setter, useSave } from '../../lib/forms.ts'
import { refreshRegistry } from '../../lib/refresh.ts'
import { choices, deviceName, named, placeOf, registry } from '../../lib/registry.ts'
import { href } from '../../lib/router.ts'
import { useStore } from '../../lib/store.ts'
import { KINDS, type Device } from '../../lib/types.ts'
import { DeviceImport } from './DeviceImport.tsx'

/** Where the device is (issue 20); the last two for elevators only. */
const PLACE = ['building', 'unit', 'floor', 'location', 'registrationCode', 'rescueCode'] as const
const FIELDS = ['id', 'kind', 'communityId', 'gatewayId', 'name', 'expectedIntervalS', ...PLACE, 'latitude', 'longitude'] as const
type Form = Record<(typeof FIELDS)[number], string>
/** Rows drawn at once; the filters narrow a district's thousands. */
const SHOWN = 300

interface Shown {
  deviceId: string
  secret: string
}

function DeviceForm({ editing, onDone, onSecret }: { editing: Device | null; onDone: () => void; onSecret: (s: Shown) => void }) {
  const reg = useStore(registry)
  const [f, setF] = useState<Form>({
    id: editing?.id ?? '',
    kind: editing?.kind ?? 'elevator',
    communityId: editing?.communityId ?? '',
    gatewayId: editing?.gatewayId ?? '',
    name: editing?.name ?? '',
    expectedIntervalS: editing ? String(editing.expectedIntervalS) : '',
    building: editing?.building ?? '',
    unit: editing?.unit ?? '',
    floor: editing?.floor ?? '',
    location: editing?.location ?? '',
    registrationCode: editing?.registrationCode ?? '',
    rescueCode: editing?.rescueCode ?? '',
    latitude: String(editing?.latitude ?? ''),
    longitude: String(editing?.longitude ?? ''),
  })
  const elevator = f.kind === 'elevator'
  const gateways = [...reg.devices.values()].filter((d) => d.kind === 'gateway' && d.id !== f.id && (!f.communityId || d.communityId === f.communityId))
  const save = async () => {
    const interval = optNum(f.expectedIntervalS)
    // Empty clears a field; an elevator's codes are sent for elevators only (the API refuses them on others).
    const place: Record<string, string | number | null> = Object.fromEntries(PLACE.filter((k) => elevator || (k !== 'registrationCode' && k !== 'rescueCode')).map((k) => [k, opt(f[k]) ?? null]))
    // Both or neither: the API names the one missing.
    const at = { latitude: optNum(f.latitude) ?? null, longitude: optNum(f.longitude) ?? null }
    if (editing || at.latitude !== null || at.longitude !== null) Object.assign(place, at)
    if (editing) {
      await api(`/api/v1/devices/${encodeURIComponent(editing.id)}`, {
        method: 'PATCH',
        body: { name: opt(f.name) ?? null, gatewayId: opt(f.gatewayId) ?? null, ...place, ...(f.communityId !== editing.communityId ? { communityId: f.communityId } : {}), ...(interval === undefined ? {} : { expectedIntervalS: interval }) },
      })
    } else {
      const r = await api<{ device: Device; secret: string }>('/api/v1/devices', {
        body: { id: f.id.trim(), kind: f.kind, communityId: f.communityId, ...place, ...(opt(f.gatewayId) ? { gatewayId: opt(f.gatewayId) } : {}), ...(opt(f.name) ? { name: opt(f.name) } : {}), ...(interval === undefined ? {} : { expectedIntervalS: interval }) },
      })
      onSecret({ deviceId: r.device.id, secret: r.secret })
    }
    await refreshRegistry()
  }
  const { problems, busy, submit } = useSave(FIELDS, save, onDone)
  const set = setter(f, setF)
  const bound = { form: 'device', f, setF, problems }
  const pick = (k: keyof Form) => (v: string) => setF({ ...f, [k]: v })
  const title = editing ? t('device.edit', { name: editing.name ?? editing.id }) : t('device.new')
  return (
    <FormPanel title={title} id="device-form" problems={problems} busy={busy} submit={editing ? t('form.save') : t('form.create')} onSubmit={submit} onCancel={onDone}>
        <Field id="device-id" label={t('form.id')} error={problems.fields.id}>
          {(a) => <input {...a} required readOnly={editing !== null} value={f.id} onInput={set('id')} />}
        </Field>
        <Field id="device-kind" label={t('filter.kind')} error={problems.fields.kind}>
          {(a) => <Choice a={a} disabled={editing !== null} value={f.kind} onPick={pick('kind')} options={KINDS.map((k) => [k, t(`kind.${k}`)])} />}
        </Field>
        <Field id="device-communityId" label={t('filter.community')} error={problems.fields.communityId} hint={editing ? t('device.communityMove') : undefined}>
          {(a) => <Choice a={a} required value={f.communityId} onPick={pick('communityId')} empty={t('form.choose')} options={choices(reg.communities)} />}
        </Field>
        <Field id="device-gatewayId" label={t('device.gateway')} error={problems.fields.gatewayId}>
          {(a) => <Choice a={a} disabled={f.kind === 'gateway'} value={f.gatewayId} onPick={pick('gatewayId')} empty={t('device.direct')} options={gateways.map((g) => [g.id, g.name ?? g.id])} />}
        </Field>
        <Field id="device-name" label={t('form.name')} error={problems.fields.name}>
          {(a) => <input {...a} value={f.name} onInput={set('name')} />}
        </Field>
        <Field id="device-expectedIntervalS" label={t('device.interval')} error={problems.fields.expectedIntervalS} hint={t('device.intervalHint')}>
          {(a) => <input {...a} type="number" min={1} max={86400} inputMode="numeric" value={f.expectedIntervalS} onInput={set('expectedIntervalS')} />}
        </Field>
        <TextField {...bound} name="building" label={t('device.building')} maxLength={PLACE_MAX.building} />
        <TextField {...bound} name="unit" label={t('device.unit')} maxLength={PLACE_MAX.unit} />
        <TextField {...bound} name="floor" label={t('device.floor')} maxLength={PLACE_MAX.floor} />
        <TextField {...bound} name="location" label={t('device.location')} hint={t('device.locationHint')} maxLength={PLACE_MAX.location} />
        {elevator && (
          <>
            <TextField {...bound} name="registrationCode" label={t('device.registrationCode')} hint={t('device.registrationCodeHint')} maxLength={ELEVATOR_CODE.registrationCode.max} />
            <TextField {...bound} name="rescueCode" label={t('device.rescueCode')} maxLength={ELEVATOR_CODE.rescueCode.max} />
          </>
        )}
        <TextField {...bound} name="latitude" label={t('community.lat')} inputMode="decimal" hint={t('device.coordsHint')} />
        <TextField {...bound} name="longitude" label={t('community.lon')} inputMode="decimal" />
    </FormPanel>
  )
}

export function DeviceAdmin() {
  const reg = useStore(registry)
  const [editing, setEditing] = useState<Device | 'new' | null>(null)
  const [importing, setImporting] = useState(false)
  const [shown, setShown] = useState<Shown | null>(null)
  const [filter, setFilter] = useState({ community: '', kind: '', enabled: '', text: '' })
  const [error, setError] = useState('')
  const q = filter.text.trim().toLowerCase()
  const list = [...reg.devices.values()].filter(
    (d) =>
      (!filter.community || d.communityId === filter.community) &&
      (!filter.kind || d.kind === filter.kind) &&
      (!filter.enabled || String(d.enabled) === filter.enabled) &&
      (!q || `${d.id} ${d.name ?? ''} ${d.building ?? ''} ${d.location ?? ''}`.toLowerCase().includes(q)),
  )
  const act = async (fn: () => Promise<unknown>) => {
    setError('')
    try {
      await fn()
      await refreshRegistry()
    } catch (err) {
      setError(messageOf(err))
    }
  }
  const rotate = (d: Device) =>
    act(async () => {
      const r = await api<{ secret: string }>(`/api/v1/devices/${encodeURIComponent(d.id)}/secret`, { body: {} })
      setShown({ deviceId: d.id, secret: r.secret })
    })
  const toggle = (d: Device) => act(() => api(`/api/v1/devices/${encodeURIComponent(d.id)}`, { method: 'PATCH', body: { enabled: !d.enabled } }))
  const set = setter(filter, setFilter)
  return (
    <>
      {shown && <SecretOnce label={t('device.secretOf', { id: shown.deviceId })} value={shown.secret} onDone={() => setShown(null)} />}
      <NewButton id="device-new" label={t('device.new')} onClick={() => setEditing('new')}>
        <button type="button" id="device-import-open" onClick={() => setImporting(true)}>
          {t('import.open')}
        </button>
      </NewButton>
      {importing && <DeviceImport onClose={() => setImporting(false)} />}
      {editing !== null && <DeviceForm key={editing === 'new' ? '' : editing.id} editing={editing === 'new' ? null : editing} onDone={() => setEditing(null)} onSecret={setShown} />}
      <div class="filters">
        <label>
          <span>{t('filter.community')}</span>
          <Choice a={{ id: 'devfilter-community' }} value={filter.community} onPick={(v) => setFilter({ ...filter, community: v })} empty={t('filter.all')} options={choices(reg.communities)} />
        </label>
        <label>
          <span>{t('filter.kind')}</span>
          <Choice a={{ id: 'devfilter-kind' }} value={filter.kind} onPick={(v) => setFilter({ ...filter, kind: v })} empty={t('filter.all')} options={KINDS.map((k) => [k, t(`kind.${k}`)])} />
        </label>
        <label>
          <span>{t('device.state')}</span>
          <Choice
            a={{ id: 'devfilter-enabled' }}
            value={filter.enabled}
            onPick={(v) => setFilter({ ...filter, enabled: v })}
            empty={t('filter.all')}
            options={[
              ['true', t('device.enabled')],
              ['false', t('device.disabled')],
            ]}
          />
        </label>
        <label class="grow">
          <span>{t('filter.text')}</span>
          <input id="devfilter-text" type="search" value={filter.text} onInput={set('text')} />
        </label>
      </div>
      <ErrorLine text={error} />
      <p class="muted small">{list.length > SHOWN ? t('form.firstOf', { shown: SHOWN, n: list.length }) : t('board.count', { n: list.length })}</p>
      <ListTable id="device-admin" heads={[t('alert.device'), t('filter.kind'), t('filter.community'), t('device.gateway'), t('device.state')]}>
          {list.slice(0, SHOWN).map((d) => (
            <tr key={d.id} data-device={d.id} class={d.enabled ? '' : 'resolved'}>
              <td data-label={t('alert.device')}>
                <a href={href('device', d.id)}>{named(d)}</a> {d.name && <code class="muted small">{d.id}</code>}
              </td>
              <td data-label={t('filter.kind')}>{t(`kind.${d.kind}`)}</td>
              <td data-label={t('filter.community')}>{placeOf(d.communityId, d.id, { named: false })}</td>
              <td data-label={t('device.gateway')}>{d.gatewayId ? deviceName(d.gatewayId) : t('device.direct')}</td>
              <td data-label={t('device.state')}>{d.enabled ? t('device.enabled') : t('device.disabled')}</td>
              <td class="row-actions">
                <EditButton name={named(d)} onClick={() => setEditing(d)} />
                <Confirm label={t('device.rotate')} confirm={t('device.rotateConfirm')} onConfirm={() => void rotate(d)} />
                <button type="button" onClick={() => void toggle(d)}>
                  {d.enabled ? t('device.disable') : t('device.enable')}
                </button>
              </td>
            </tr>
          ))}
      </ListTable>
    </>
  )
}
