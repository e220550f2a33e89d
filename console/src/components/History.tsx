// An alert's history, oldest first: what happened, when, by whom, with the note.
import { dateTime, t, tMaybe } from '../i18n/index.ts'
import type { AlertEvent } from '../lib/types.ts'

export function History({ events }: { events: AlertEvent[] }) {
  return (
    <ol id="history" class="history">
      {events.map((e) => (
        <li key={e.id} data-type={e.type}>
          <time>{dateTime(e.at)}</time> <b>{tMaybe(`event.${e.type}`) ?? e.type}</b> <span class="muted">{t('event.by', { actor: e.actor })}</span>
          {e.note && <q>{e.note}</q>}
        </li>
      ))}
    </ol>
  )
}
