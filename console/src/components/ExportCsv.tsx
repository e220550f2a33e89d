// "Export CSV" on the alert board and the audit screen: the screen's filters, the UI language and
// an optional month go to the export (api/routes/exports.ts), and the file is fetched with the
// bearer token and handed to the browser (lib/api.ts download, as the ranking's CSV). The month is
// the browser's calendar month — the office's, for the monthly report to the district; empty, the
// export spans every month. An export too large for one file says so, in the reader's language.
import { useState } from 'preact/hooks'
import { lang, num, t } from '../i18n/index.ts'
import { ApiError, download } from '../lib/api.ts'
import { messageOf } from '../lib/forms.ts'
import { ErrorLine } from './Form.tsx'

/** From the first instant of a month ("2026-10", local time) to the first of the next. */
function monthRange(month: string): { from: string; to: string } | undefined {
  const [y, m] = month.split('-').map(Number)
  if (!y || !m) return undefined
  return { from: new Date(y, m - 1, 1).toISOString(), to: new Date(y, m, 1).toISOString() }
}

interface Props {
  id: string
  /** The export's path, given the query so far (lang, from, to) to add the screen's filters to. */
  path: (q: URLSearchParams) => string
  /** The file's name should the API not give one. */
  fallbackName: string
  /** What of the screen's filtering the file does not follow, if anything. */
  note?: string | undefined
}

export function ExportCsv({ id, path, fallbackName, note }: Props) {
  const [month, setMonth] = useState('')
  const [error, setError] = useState('')
  const run = async () => {
    setError('')
    const q = new URLSearchParams({ lang: lang.get() })
    const range = monthRange(month)
    if (range) {
      q.set('from', range.from)
      q.set('to', range.to)
    }
    try {
      await download(path(q), fallbackName)
    } catch (err) {
      const max = err instanceof ApiError && err.code === 'export_too_large' ? (err.details as { maxRows?: number } | undefined)?.maxRows : undefined
      setError(max === undefined ? messageOf(err) : t('export.tooLarge', { max: num(max, 0) }))
    }
  }
  return (
    <div class="export">
      <label>
        <span>{t('export.month')}</span>
        <input type="month" id={`${id}-month`} value={month} title={t('export.allMonths')} onInput={(e) => setMonth(e.currentTarget.value)} />
      </label>
      <button type="button" class="link" id={id} onClick={() => void run()}>
        {t('export.csv')}
      </button>
      {note !== undefined && <span class="muted small">{note}</span>}
      {error !== '' && <ErrorLine text={error} />}
    </div>
  )
}
