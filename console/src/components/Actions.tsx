// The lifecycle buttons of one alert with a note; big on a phone. "On my way" and "Arrived on
// site" are offered until the crew has arrived (each acknowledges an open alert). Resolving asks for a note when
// `noteToResolve` is set (the crew view), so the history says what was done, and there the crew
// can add photos from the phone camera: they are uploaded first, then the alert is resolved, so a
// refused photo (too big, not an image) stops the resolve with the API's message.
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.ts'
import { act } from '../lib/alerts.ts'
import { ApiError } from '../lib/api.ts'
import { uploadPhotos } from '../lib/photos.ts'
import { me } from '../lib/session.ts'
import { useStore } from '../lib/store.ts'
import type { Alert } from '../lib/types.ts'
import { PhotoInput } from './Photo.tsx'

export function Actions({ alert, noteToResolve = false, onDone }: { alert: Alert; noteToResolve?: boolean; onDone?: () => void }) {
  const [note, setNote] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const [photos, setPhotos] = useState<File[]>([])
  // A resident's report, or an alert residents can see: the resolve note is for them too, unless unticked.
  const [tellResidents, setTellResidents] = useState(alert.source === 'resident' || alert.public)
  const run = async (action: 'ack' | 'claim' | 'en-route' | 'arrive' | 'start' | 'resolve' | 'comment') => {
    if ((action === 'comment' || (action === 'resolve' && noteToResolve)) && !note.trim()) return setError(t('crew.noteNeeded'))
    setBusy(true)
    setError('')
    try {
      if (action === 'resolve' && photos.length > 0) {
        await uploadPhotos(alert.id, photos)
        setPhotos([])
      }
      await act(alert.id, action, note.trim() || undefined, { public: action === 'resolve' && noteToResolve && tellResidents })
      setNote('')
      onDone?.()
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }
  const open = alert.state === 'open'
  const resolved = alert.state === 'resolved'
  const user = useStore(me)
  const mine = user !== null && alert.assignedTo === user.name
  return (
    <div class="actions">
      <label>
        <span>{noteToResolve ? t('crew.resolveNote') : t('alert.note')}</span>
        <textarea class="note" rows={2} placeholder={t('alert.noteHint')} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      {noteToResolve && !resolved && <PhotoInput id={`photos-${alert.id}`} label={t('photo.input')} files={photos} onChange={setPhotos} />}
      {noteToResolve && !resolved && (
        <label class="check">
          <input type="checkbox" class="tell-residents" checked={tellResidents} onChange={(e) => setTellResidents(e.currentTarget.checked)} /> {t('crew.tellResidents')}
        </label>
      )}
      <div class="buttons">
        {!resolved && !mine && (
          <button type="button" class="primary big" data-action="claim" disabled={busy} onClick={() => void run('claim')}>
            {t('alert.claim')}
          </button>
        )}
        {open && (
          <button type="button" class="primary big" data-action="ack" disabled={busy} onClick={() => void run('ack')}>
            {t('alert.ack')}
          </button>
        )}
        {!resolved && !alert.enRouteAt && !alert.arrivedAt && (
          <button type="button" class="primary big" data-action="en-route" disabled={busy} onClick={() => void run('en-route')}>
            {t('alert.enRoute')}
          </button>
        )}
        {!resolved && !alert.arrivedAt && (
          <button type="button" class="primary big" data-action="arrive" disabled={busy} onClick={() => void run('arrive')}>
            {t('alert.arrive')}
          </button>
        )}
        {alert.state === 'acknowledged' && (
          <button type="button" class="big" data-action="start" disabled={busy} onClick={() => void run('start')}>
            {t('alert.start')}
          </button>
        )}
        {!resolved && (
          <button type="button" class="big" data-action="resolve" disabled={busy} onClick={() => void run('resolve')}>
            {t('alert.resolve')}
          </button>
        )}
        <button type="button" class="ghost big" data-action="comment" disabled={busy} onClick={() => void run('comment')}>
          {t('alert.comment')}
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
