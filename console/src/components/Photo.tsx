// A photo of an alert: a thumbnail that opens full size over the page. The image is fetched with
// the token (lib/photos.ts); its object URL is revoked when the thumbnail goes.
import { createPortal } from 'preact/compat'
import { useEffect, useRef, useState } from 'preact/hooks'
import { t } from '../i18n/index.ts'
import { photoObjectUrl } from '../lib/photos.ts'

export function PhotoThumb({ url, actor }: { url: string; actor: string }) {
  const [src, setSrc] = useState<string | null>(null)
  const [failed, setFailed] = useState(false)
  const [big, setBig] = useState(false)
  useEffect(() => {
    const abort = new AbortController()
    let made: string | null = null
    photoObjectUrl(url, abort.signal).then(
      (u) => {
        made = u
        setSrc(u)
      },
      () => !abort.signal.aborted && setFailed(true),
    )
    return () => {
      abort.abort()
      if (made) URL.revokeObjectURL(made)
    }
  }, [url])
  const alt = t('photo.alt', { actor })
  if (failed) return <span class="muted small">{t('photo.failed')}</span>
  if (!src) return <span class="muted small">{t('photo.loading')}</span>
  return (
    <>
      <button type="button" class="photo-thumb" aria-label={t('photo.open')} onClick={() => setBig(true)}>
        <img src={src} alt={alt} />
      </button>
      {big &&
        // On the body, above everything (the alert detail is a fixed panel of its own).
        createPortal(
          <div class="photo-full" role="dialog" aria-modal="true" aria-label={alt} onClick={() => setBig(false)}>
            <img src={src} alt={alt} />
            <button type="button" class="primary" onClick={() => setBig(false)}>
              {t('photo.close')}
            </button>
          </div>,
          document.body,
        )}
    </>
  )
}

/** A camera button for phones (`capture="environment"`: the back camera), several photos at once. */
export function PhotoInput({ id, label, files, onChange }: { id: string; label: string; files: File[]; onChange: (files: File[]) => void }) {
  const input = useRef<HTMLInputElement>(null)
  // Once the photos are sent (the list emptied), the input forgets them too.
  useEffect(() => {
    if (files.length === 0 && input.current) input.current.value = ''
  }, [files])
  return (
    <label class="photo-input">
      <span>{label}</span>
      <input ref={input} id={id} type="file" accept="image/*" capture="environment" multiple onChange={(e) => onChange([...(e.currentTarget.files ?? [])])} />
      {files.length > 0 && <span class="small">{t('photo.selected', { n: files.length })}</span>}
    </label>
  )
}
