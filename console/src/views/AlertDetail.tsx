// One alert: what, where, deadlines, the lifecycle actions and the history. It reloads the
// history whenever the live stream changes the alert.
import { useEffect, useState } from 'preact/hooks'
import { Actions } from '../components/Actions.tsx'
import { Sev, State } from '../components/Badges.tsx'
import { Deadline } from '../components/Deadline.tsx'
import { GroupMembers } from '../components/GroupMembers.tsx'
import { History } from '../components/History.tsx'
import { alertReason, alertTitle, alertWhy, dateTime, num, t } from '../i18n/index.ts'
import { alerts, publish } from '../lib/alerts.ts'
import { api } from '../lib/api.ts'
import { formatValue } from '../lib/metrics.ts'
import { companyName, deviceName, placeOf, registry } from '../lib/registry.ts'
import { href } from '../lib/router.ts'
import { me } from '../lib/session.ts'
import { useStore } from '../lib/store.ts'
import type { Alert, AlertEvent, Delivery } from '../lib/types.ts'

type Detail = Alert & { history: AlertEvent[]; notifications?: Delivery[] }

export function AlertDetail({ id, onClose }: { id: number; onClose: () => void }) {
  const live = useStore(alerts).get(id)
  const user = useStore(me)
  const [detail, setDetail] = useState<Detail | null>(null)
  const [error, setError] = useState('')
  useEffect(() => {
    api<Detail>(`/api/v1/alerts/${id}`).then(setDetail, (err: unknown) => setError(String(err)))
  }, [id, live])
  const a = detail
  const device = a?.deviceId ? registry.get().devices.get(a.deviceId) : undefined
  const metric = a ? registry.get().rules.get(a.ruleId)?.definition.params?.metric : undefined
  const reason = a ? alertReason(a) : null
  return (
    <aside id="detail" class="detail" aria-labelledby="detail-title">
      <button type="button" class="ghost close" onClick={onClose} aria-label={t('alert.close')}>
        ×
      </button>
      {error && <p class="error">{t('common.error', { message: error })}</p>}
      {!a ? (
        <p>{t('common.loading')}</p>
      ) : (
        <>
          <h2 id="detail-title">{alertTitle(a)}</h2>
          <p>
            <Sev s={a.severity} /> <State s={a.state} /> <Deadline alert={a} />
          </p>
          <dl class="facts">
            <dt>{t('col.where')}</dt>
            <dd id="alert-where">{[placeOf(a.communityId, a.deviceId), a.location].filter(Boolean).join(' · ')}</dd>
            <dt>{t('col.company')}</dt>
            <dd>{companyName(a.companyId) || t('common.none')}</dd>
            <dt>{t('col.raised')}</dt>
            <dd>{dateTime(a.raisedAt)}</dd>
            <dt>{t('alert.owner')}</dt>
            <dd id="assigned-to">{a.assignedTo ?? t('alert.nobodyYet')}</dd>
            {a.enRouteAt && (
              <>
                <dt>{t('alert.enRouteAt')}</dt>
                <dd id="en-route-at">{dateTime(a.enRouteAt)}</dd>
              </>
            )}
            {a.arrivedAt && (
              <>
                <dt>{t('alert.arrivedAt')}</dt>
                <dd id="arrived-at">{dateTime(a.arrivedAt)}</dd>
              </>
            )}
            {a.deviceId && (
              <>
                <dt>{t('alert.device')}</dt>
                <dd>
                  <a href={href('device', a.deviceId)}>{deviceName(a.deviceId)}</a>
                </dd>
              </>
            )}
            {device?.registrationCode && (
              <>
                <dt>{t('device.registrationCode')}</dt>
                <dd>{device.registrationCode}</dd>
              </>
            )}
            {device?.rescueCode && (
              <>
                <dt>{t('device.rescueCode')}</dt>
                <dd>{device.rescueCode}</dd>
              </>
            )}
            {alertWhy(a) !== undefined && (
              <>
                <dt>{t('alert.why')}</dt>
                <dd>{alertWhy(a)}</dd>
              </>
            )}
            {reason && (
              <>
                <dt>{t('alert.reason')}</dt>
                <dd id="alert-reason">{reason}</dd>
              </>
            )}
            {a.predictedAt && (
              <>
                <dt>{t('alert.predicted')}</dt>
                <dd>{dateTime(a.predictedAt)}</dd>
              </>
            )}
            {a.reportedBy && (
              <>
                <dt>{t('alert.reportedBy')}</dt>
                <dd>{a.reportedBy}</dd>
              </>
            )}
            {a.photoUrl && (
              <>
                <dt>{t('alert.photo')}</dt>
                <dd>
                  <a href={a.photoUrl} target="_blank" rel="noopener noreferrer">
                    {a.photoUrl}
                  </a>
                </dd>
              </>
            )}
            {device && metric && a.lastValue !== null && (
              <>
                <dt>{t('alert.value')}</dt>
                <dd>{formatValue(device.kind, metric, a.lastValue)}</dd>
              </>
            )}
          </dl>
          <GroupMembers alert={a} />
          <Actions alert={a} />
          {(user?.role === 'admin' || user?.role === 'operator') && (
            <p class="small">
              <button type="button" class="ghost" id="publish" aria-pressed={a.public} onClick={() => void publish(a.id, !a.public)}>
                {a.public ? t('alert.unpublish') : t('alert.publish')}
              </button>{' '}
              <span class="muted">{a.public ? t('alert.publicNow') : t('alert.privateNow')}</span>
            </p>
          )}
          <h3>{t('alert.history')}</h3>
          <History
            alertId={a.id}
            raisedAt={a.raisedAt}
            events={a.history}
            deliveries={a.notifications}
            value={(v) => (device && metric ? formatValue(device.kind, metric, v) : num(v))}
          />
        </>
      )}
    </aside>
  )
}
