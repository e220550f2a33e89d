// The crew's phone view: their company's unresolved alerts, nearest deadline first, each a card
// with big buttons for the next step. Made for one thumb on a 390 px screen. Each card says where
// (community · building, unit, floor · position · device) and opens the map app at the device.
// Above them, the offer to receive push notifications (components/PushOptIn.tsx).
import { useState } from 'preact/hooks'
import { Actions } from '../components/Actions.tsx'
import { Sev, State } from '../components/Badges.tsx'
import { Deadline, dueOf } from '../components/Deadline.tsx'
import { PushOptIn } from '../components/PushOptIn.tsx'
import { alertTitle, t } from '../i18n/index.ts'
import { alerts, unresolved } from '../lib/alerts.ts'
import { geoLink } from '../../../shared/place.ts'
import { placeOf, registry } from '../lib/registry.ts'
import { me } from '../lib/session.ts'
import { useStore } from '../lib/store.ts'
import type { Alert } from '../lib/types.ts'

/** Mine first, then nobody's, then a colleague's; the nearest deadline first within each. */
const rank = (a: Alert, name: string | undefined) => (a.assignedTo === name ? 0 : a.assignedTo ? 2 : 1)

/** Opens the phone's map app at the device, when its coordinates are known. */
function MapLink({ deviceId }: { deviceId: string | null | undefined }) {
  const d = deviceId ? registry.get().devices.get(deviceId) : undefined
  if (!d || d.latitude === null || d.longitude === null) return null
  return (
    <a class="job-map" href={geoLink(d.latitude, d.longitude, placeOf(null, d.id))}>
      {t('crew.map')}
    </a>
  )
}

export function Crew() {
  const user = useStore(me)
  const list = [...useStore(alerts).values()]
    .filter(unresolved)
    .sort((a, b) => rank(a, user?.name) - rank(b, user?.name) || (dueOf(a)?.at ?? 0) - (dueOf(b)?.at ?? 0))
  const [open, setOpen] = useState<number | null>(null)
  return (
    <section class="crew">
      <h1>{t('crew.title')}</h1>
      {user && <PushOptIn user={user} />}
      {list.length === 0 && <p class="empty">{t('crew.empty')}</p>}
      <ul id="jobs" class="jobs">
        {list.map((a) => (
          <li key={a.id} class={`job sev-${a.severity}`} data-id={a.id}>
            <button type="button" class="job-head" aria-expanded={open === a.id} onClick={() => setOpen(open === a.id ? null : a.id)}>
              <span class="job-title">{alertTitle(a)}</span>
              <span class="job-where">
                {placeOf(a.communityId, a.deviceId)}
                {a.location ? ` · ${a.location}` : ''}
              </span>
              <span class="job-meta">
                <Sev s={a.severity} /> <State s={a.state} /> <Deadline alert={a} />
              </span>
              {a.assignedTo && <span class="job-owner">{a.assignedTo === user?.name ? t('alert.mine') : t('alert.assignedTo', { name: a.assignedTo })}</span>}
            </button>
            <MapLink deviceId={a.deviceId} />
            {open === a.id && <Actions alert={a} noteToResolve />}
          </li>
        ))}
      </ul>
    </section>
  )
}
