// An alert's history as a record, oldest first: each step to the second and by whom (a person's
// name, a service in the UI language), the time since the raise beside the four timed steps and in
// a line above them, who was paged and whether it arrived (for those the API shows deliveries to),
// a run of condition updates as one row with the latest value. A rule's raise or clear reason reads
// in the UI language; a photo added (an `attachment` event) shows as a thumbnail that opens full size.
import { actorName, dateTimeSeconds, elapsed, eventNote, t, timeSeconds, tMaybe } from '../i18n/index.ts'
import { photoUrl } from '../lib/photos.ts'
import { milestones, timeline } from '../lib/timeline.ts'
import type { AlertEvent, Delivery } from '../lib/types.ts'
import { PhotoThumb } from './Photo.tsx'

interface Props {
  alertId: number
  raisedAt: string
  events: AlertEvent[]
  /** Absent for residents and where notifications are off. */
  deliveries?: Delivery[] | undefined
  /** A reading in its unit (the alert's metric); a plain number without one. */
  value: (v: number) => string
}

const valueOf = (e: AlertEvent) => (typeof e.data?.value === 'number' ? e.data.value : null)

export function History({ alertId, raisedAt, events, deliveries = [], value }: Props) {
  const steps = milestones(events, raisedAt)
  return (
    <>
      {steps.length > 0 && (
        <ul id="history-summary" class="history-summary" aria-label={t('history.summary')}>
          {steps.map((s) => (
            <li key={s.type} data-step={s.type}>
              <span class="muted">{t(s.label)}</span> <b>{elapsed(s.ms)}</b>
            </li>
          ))}
        </ul>
      )}
      <ol id="history" class="history">
        {timeline(events, deliveries, raisedAt).map((row) => {
          if (row.kind === 'delivery') return <DeliveryRow key={`d${row.delivery.id}`} d={row.delivery} />
          if (row.kind === 'updates') {
            const v = valueOf(row.latest)
            return (
              <li key={row.latest.id} data-type="updated" data-count={row.count} class="updates">
                <When at={row.latest.at} /> <b>{v === null ? t('history.updatesNoValue', { n: row.count }) : t('history.updates', { n: row.count, value: value(v) })}</b>{' '}
                <span class="muted">{t('event.by', { actor: actorName(row.latest.actor) })}</span>
              </li>
            )
          }
          const e = row.event
          const photoId = e.type === 'attachment' ? e.data?.photoId : undefined
          const note = eventNote(e)
          const v = e.type === 'updated' ? valueOf(e) : null
          return (
            <li key={e.id} data-type={e.type}>
              <When at={e.at} /> <b>{tMaybe(`event.${e.type}`) ?? e.type}</b>
              {row.sinceRaiseMs !== null && <span class="elapsed">+{elapsed(row.sinceRaiseMs)}</span>}
              {v !== null && <span> {t('history.latestValue', { value: value(v) })}</span>} <span class="muted">{t('event.by', { actor: actorName(e.actor) })}</span>
              {note && <q>{note}</q>}
              {typeof photoId === 'number' && <PhotoThumb url={photoUrl(alertId, photoId)} actor={actorName(e.actor)} />}
            </li>
          )
        })}
      </ol>
    </>
  )
}

function When({ at }: { at: string }) {
  return <time dateTime={at}>{dateTimeSeconds(at)}</time>
}

/** Who was paged over which channel, and what came of it; the address as the API masks it. */
function DeliveryRow({ d }: { d: Delivery }) {
  const channel = tMaybe(`channel.${d.channel.kind}`) ?? d.channel.kind
  const facts = [d.to, t('history.attempts', { n: d.attempts }), d.deliveredAt ? t('history.deliveredAt', { time: timeSeconds(d.deliveredAt) }) : ''].filter(Boolean)
  return (
    <li data-type="delivery" data-status={d.status} class="delivery">
      <When at={d.createdAt} /> <b>{t(d.digest ? 'history.digest' : 'history.delivery', { channel, who: d.user ?? d.channel.name })}</b> <span class={`delivery-status ${d.status}`}>{t(`delivery.${d.status}`)}</span>{' '}
      <span class="muted">{facts.join(' · ')}</span>
    </li>
  )
}
