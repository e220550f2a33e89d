// The device list: by community, with kind and the worst unresolved alert; opens the device page.
import { useMemo, useState } from 'preact/hooks'
import { Sev } from '../components/Badges.tsx'
import { t } from '../i18n/index.ts'
import { alerts } from '../lib/alerts.ts'
import { communityName, named, registry } from '../lib/registry.ts'
import { href } from '../lib/router.ts'
import { useStore } from '../lib/store.ts'
import { health } from '../lib/worst.ts'

export function Devices() {
  const reg = useStore(registry)
  const list = useStore(alerts)
  const [text, setText] = useState('')
  const h = useMemo(() => health(list.values()).devices, [list])
  const q = text.trim().toLowerCase()
  const devices = [...reg.devices.values()].filter((d) => !q || `${d.id} ${named(d)} ${communityName(d.communityId)}`.toLowerCase().includes(q))
  return (
    <section>
      <h1>{t('devices.title')}</h1>
      <label class="filters">
        <span>{t('filter.text')}</span>
        <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <table id="devices" class="alerts">
        <thead>
          <tr>
            <th>{t('alert.device')}</th>
            <th>{t('filter.kind')}</th>
            <th>{t('filter.community')}</th>
            <th>{t('device.status')}</th>
          </tr>
        </thead>
        <tbody>
          {devices.slice(0, 500).map((d) => {
            const sev = h.worst.get(d.id)
            return (
              <tr key={d.id}>
                <td data-label={t('alert.device')}>
                  <a href={href('device', d.id)}>{named(d)}</a>
                </td>
                <td data-label={t('filter.kind')}>{t(`kind.${d.kind}`)}</td>
                <td data-label={t('filter.community')}>{communityName(d.communityId)}</td>
                <td data-label={t('device.status')}>
                  {h.offline.has(d.id) ? t('map.offline') : ''} {sev ? <Sev s={sev} /> : t('map.ok')}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </section>
  )
}
