// In an alert's detail: the other alerts of its group (GET /api/v1/alerts/:id/group), each a link
// with its place and state, so that whoever opens one member from a page sees the rest.
import { useEffect, useState } from 'preact/hooks'
import { State } from './Badges.tsx'
import { t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'
import { placeOf } from '../lib/registry.ts'
import { href } from '../lib/router.ts'
import type { Alert } from '../lib/types.ts'

export function GroupMembers({ alert }: { alert: Alert }) {
  const [members, setMembers] = useState<Alert[] | null>(null)
  const grouped = alert.groupId != null && (alert.groupSize ?? 1) > 1
  useEffect(() => {
    if (!grouped) return
    let live = true
    // A failure leaves the section out: the detail is whole without it.
    api<{ items: Alert[] }>(`/api/v1/alerts/${alert.id}/group`).then((r) => live && setMembers(r.items), () => undefined)
    return () => {
      live = false
    }
  }, [alert.id, alert.groupSize, grouped])
  if (!grouped || !members || members.length < 2) return null
  return (
    <section id="group-members" class="group-members">
      <h3>{t('group.members', { n: members.length })}</h3>
      <ul>
        {members.map((m) => (
          <li key={m.id} data-id={m.id}>
            {m.id === alert.id ? <b>{placeOf(null, m.deviceId) || `#${m.id}`}</b> : <a href={href('alert', m.id)}>{placeOf(null, m.deviceId) || `#${m.id}`}</a>} <State s={m.state} />
            {m.id === alert.groupId && <span class="muted"> · {t('group.first')}</span>}
          </li>
        ))}
      </ul>
    </section>
  )
}
