// What a CSV import (devices, 12345 hotline cases) says is wrong, in the operator's language: each
// problem's code and params worded by shared/import-text.ts, the server's English `message` kept
// for a code this console does not know (a newer server).
import { importText } from '../../../shared/import-text.ts'
import { lang, num, t } from '../i18n/index.ts'
import { ApiError } from '../lib/api.ts'
import { messageOf } from '../lib/forms.ts'

/** What the server says is wrong: a code and its params, and its English text. */
export interface Said {
  code?: string | undefined
  params?: Record<string, string | number> | undefined
  message: string
}

export interface Problem extends Said {
  row: number
  column: string
}

/** A problem or refusal in the current language. */
export const worded = (s: Said): string => importText(lang.get(), s.code, s.params) ?? s.message

/** The summary's keys: each import names what was not imported (devices, cases). */
type Summary = { one: 'import.problemOne' | 'hotline.problemOne'; many: 'import.problemCount' | 'hotline.problemCount' }
const DEVICES: Summary = { one: 'import.problemOne', many: 'import.problemCount' }

export function Problems({ list, total, summary = DEVICES }: { list: Problem[]; total: number; summary?: Summary }) {
  return (
    <>
      <p class="error" role="alert" id="import-summary">
        {total === 1 ? t(summary.one) : t(summary.many, { n: num(total, 0) })}
      </p>
      <table class="alerts" id="import-problems">
        <thead>
          <tr>
            <th>{t('import.row')}</th>
            <th>{t('import.column')}</th>
            <th>{t('import.message')}</th>
          </tr>
        </thead>
        <tbody>
          {list.map((p, i) => (
            <tr key={i} data-row={p.row} data-column={p.column}>
              <td data-label={t('import.row')}>{p.row}</td>
              <td data-label={t('import.column')}>{p.column ? <code>{p.column}</code> : t('import.whole')}</td>
              <td data-label={t('import.message')}>{worded(p)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

/** The file chooser of a CSV import: hands over each file chosen, the same file again included. */
export function CsvFileField({ id, busy, onChosen }: { id: string; busy: boolean; onChosen: (file: File) => void }) {
  return (
    <label class="field">
      <span>{t('import.file')}</span>
      <input
        id={id}
        type="file"
        accept=".csv,text/csv"
        disabled={busy}
        onChange={(e) => {
          const chosen = e.currentTarget.files?.[0]
          // Cleared so choosing the same (fixed) file again is a change too.
          e.currentTarget.value = ''
          if (chosen) onChosen(chosen)
        }}
      />
    </label>
  )
}

/** What a refused import says: its problems by row, or why the whole file was refused. */
export function refusalOf(err: unknown): { kind: 'problems'; list: Problem[]; total: number } | ({ kind: 'error' } & Said) {
  const details = err instanceof ApiError ? (err.details as { problems?: Problem[]; total?: number; code?: string; params?: Said['params'] } | undefined) : undefined
  if (details?.problems) return { kind: 'problems', list: details.problems, total: details.total ?? details.problems.length }
  // A file refused whole (not UTF-8, too large) says why in details; other failures keep their message.
  return { kind: 'error', message: messageOf(err), code: details?.code, params: details?.params }
}
