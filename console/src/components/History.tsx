// An alert's history, oldest first: what happened, when, by whom, with the note (a rule's raise or
// clear reason in the UI language); a photo added (an `attachment` event) shows as a thumbnail
// that opens full size.
import { dateTime, eventNote, t, tMaybe } from '../i18n/index.ts'
import { photoUrl } from '../lib/photos.ts'
import type { AlertEvent } from '../lib/types.ts'
import { PhotoThumb } from './Photo.tsx'

export function History({ alertId, events }: { alertId: number; events: AlertEvent[] }) {
  return (
    <ol id="history" class="history">
      {events.map((e) => {
        const photoId = e.type === 'attachment' ? e.data?.photoId : undefined
        const note = eventNote(e)
        return (
          <li key={e.id} data-type={e.type}>
            <time>{dateTime(e.at)}</time> <b>{tMaybe(`event.${e.type}`) ?? e.type}</b> <span class="muted">{t('event.by', { actor: e.actor })}</span>
            {note && <q>{note}</q>}
            {typeof photoId === 'number' && <PhotoThumb url={photoUrl(alertId, photoId)} actor={e.actor} />}
          </li>
        )
      })}
    </ol>
  )
}
