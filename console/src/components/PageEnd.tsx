// The end of a list read page by page (lib/pages.ts): what to say when it is empty, and the button
// that reads the next older page while there is one.
import { t } from '../i18n/index.ts'
import type { Pages } from '../lib/pages.ts'

export function PageEnd<T>({ pages, id, empty }: { pages: Pages<T>; id: string; empty: string }) {
  return (
    <>
      {!pages.loading && pages.items.length === 0 && <p class="empty">{empty}</p>}
      {pages.cursor !== null && (
        <button type="button" id={id} disabled={pages.loading} onClick={() => void pages.load(true)}>
          {t('dead.more')}
        </button>
      )}
    </>
  )
}
