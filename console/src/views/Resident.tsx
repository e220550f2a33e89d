// The resident's page: report a hazard, follow the community's reports (refreshed every 30 s;
// residents have no live stream), rate a resolved one, and give feedback on the property service.
import { useEffect, useState } from 'preact/hooks'
import { State } from '../components/Badges.tsx'
import { Stars } from '../components/Stars.tsx'
import { alertTitle, dateTime, t } from '../i18n/index.ts'
import { PhotoInput } from '../components/Photo.tsx'
import { api, ApiError } from '../lib/api.ts'
import { uploadPhotos } from '../lib/photos.ts'
import { communityName } from '../lib/registry.ts'
import { me } from '../lib/session.ts'
import { useStore } from '../lib/store.ts'
import type { Alert } from '../lib/types.ts'

const REFRESH_MS = 30_000
const message = (err: unknown) => (err instanceof ApiError ? err.message : String(err))

function Report({ onSent }: { onSent: () => void }) {
  const [f, setF] = useState({ title: '', location: '', description: '' })
  const [note, setNote] = useState('')
  const [photos, setPhotos] = useState<File[]>([])
  const send = async (e: Event) => {
    e.preventDefault()
    try {
      const created = await api<Alert>('/api/v1/hazards', { body: { title: f.title, location: f.location, ...(f.description ? { description: f.description } : {}) } })
      // The report stands even if a photo is refused; the message says why.
      await uploadPhotos(created.id, photos)
      setPhotos([])
      setF({ title: '', location: '', description: '' })
      setNote(t('resident.sent'))
      onSent()
    } catch (err) {
      setNote(message(err))
    }
  }
  const field = (k: keyof typeof f, label: string, multi = false) => (
    <label>
      <span>{label}</span>
      {multi ? (
        <textarea id={`hazard-${k}`} rows={3} value={f[k]} onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} />
      ) : (
        <input id={`hazard-${k}`} required value={f[k]} onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} />
      )}
    </label>
  )
  return (
    <form class="card stack" id="hazard-form" onSubmit={(e) => void send(e)}>
      <h2>{t('resident.report')}</h2>
      {field('title', t('resident.what'))}
      {field('location', t('resident.where'))}
      {field('description', t('resident.details'), true)}
      <PhotoInput id="hazard-photo" label={t('resident.photo')} files={photos} onChange={setPhotos} />
      <button type="submit" class="primary big">
        {t('resident.send')}
      </button>
      <p role="status">{note}</p>
    </form>
  )
}

/** The resident's rating of their resolved report: what they gave before (after a reload too), changeable, with a comment. */
function Rate({ alert }: { alert: Alert }) {
  const given = alert.myRating ?? null
  const [stars, setStars] = useState(given?.rating ?? 0)
  const [comment, setComment] = useState(given?.comment ?? '')
  const [note, setNote] = useState(given ? t('resident.ratedBefore') : '')
  const send = async (e: Event) => {
    e.preventDefault()
    await api(`/api/v1/alerts/${alert.id}/rating`, { body: { rating: stars, ...(comment.trim() ? { comment: comment.trim() } : {}) } }).then(
      () => setNote(t('resident.rated')),
      (err: unknown) => setNote(message(err)),
    )
  }
  return (
    <form class="rate stack" onSubmit={(e) => void send(e)}>
      <span class="small">{t('resident.rate')}</span>
      <Stars name={`rate-${alert.id}`} value={stars} onChange={setStars} />
      <textarea rows={2} class="rate-comment" aria-label={t('resident.rateComment')} placeholder={t('resident.rateComment')} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      <button type="submit" class="big" disabled={stars === 0}>
        {given ? t('resident.rateChange') : t('resident.rateSend')}
      </button>
      <span role="status" class="small">
        {note}
      </span>
    </form>
  )
}

function Feedback({ communityId }: { communityId: string }) {
  const [stars, setStars] = useState(0)
  const [comment, setComment] = useState('')
  const [note, setNote] = useState('')
  const send = async (e: Event) => {
    e.preventDefault()
    await api(`/api/v1/communities/${encodeURIComponent(communityId)}/feedback`, { body: { rating: stars, ...(comment.trim() ? { comment } : {}) } }).then(
      () => setNote(t('resident.rated')),
      (err: unknown) => setNote(message(err)),
    )
  }
  return (
    <form class="card stack" onSubmit={(e) => void send(e)}>
      <h2>{t('resident.feedback')}</h2>
      <Stars name="feedback" value={stars} onChange={setStars} />
      <textarea rows={3} aria-label={t('resident.feedback')} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      <button type="submit" class="big" disabled={stars === 0}>
        {t('resident.feedbackSend')}
      </button>
      <p role="status">{note}</p>
    </form>
  )
}

export function Resident() {
  const user = useStore(me)
  const [list, setList] = useState<Alert[]>([])
  const load = () => void api<{ items: Alert[] }>('/api/v1/alerts?limit=50').then((r) => setList(r.items), () => undefined)
  useEffect(() => {
    load()
    const timer = setInterval(load, REFRESH_MS)
    return () => clearInterval(timer)
  }, [])
  return (
    <section class="resident">
      <h1>
        {t('resident.title')}
        {user?.communityId ? ` · ${communityName(user.communityId)}` : ''}
      </h1>
      <Report onSent={load} />
      <h2>{t('resident.mine')}</h2>
      {list.length === 0 && <p class="muted">{t('resident.none')}</p>}
      <ul id="reports" class="jobs">
        {list.map((a) => (
          <li key={a.id} class="job" data-id={a.id}>
            <b>{alertTitle(a)}</b> <State s={a.state} />
            <div class="muted small">
              {dateTime(a.raisedAt)}
              {a.location ? ` · ${a.location}` : ''}
            </div>
            {a.publicNote && (
              <p class="public-note">
                <b>{t('resident.done')}</b> {a.publicNote}
              </p>
            )}
            {a.state === 'resolved' && a.reportedBy === user?.name && <Rate alert={a} />}
          </li>
        ))}
      </ul>
      {user?.communityId && <Feedback communityId={user.communityId} />}
    </section>
  )
}
