// Import a 12345 hotline export (CSV) from the ranking's drill-down, for the office: choosing the
// file checks it at once (a dry run: how many cases, how many new) and lists every problem by row
// and column; one press then imports them all. Re-importing an export is safe: a case number
// already stored is updated, never duplicated (api/routes/hotline.ts).
import { useState } from 'preact/hooks'
import { HOTLINE_COLUMNS } from '../../../shared/import-text.ts'
import { t } from '../i18n/index.ts'
import { sendFile } from '../lib/api.ts'
import { CsvFileField, Problems, refusalOf, worded, type Problem, type Said } from './ImportProblems.tsx'

const URL_IMPORT = '/api/v1/hotline/cases/import'

type Outcome =
  | { kind: 'ready'; cases: number; fresh: number }
  | { kind: 'done'; inserted: number; updated: number; unchanged: number }
  | { kind: 'problems'; list: Problem[]; total: number }
  | ({ kind: 'error' } & Said)

export function HotlineImport({ onImported }: { onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null)
  const [busy, setBusy] = useState(false)
  const [outcome, setOutcome] = useState<Outcome | null>(null)

  const request = async (chosen: File, dryRun: boolean): Promise<Record<string, number> | undefined> => {
    setBusy(true)
    try {
      return (await sendFile(`${URL_IMPORT}${dryRun ? '?dryRun=true' : ''}`, chosen, 'text/csv')).json as Record<string, number>
    } catch (err) {
      setOutcome(refusalOf(err))
      return undefined
    } finally {
      setBusy(false)
    }
  }

  const check = async (chosen: File) => {
    setFile(chosen)
    setOutcome(null)
    const body = await request(chosen, true)
    if (body) setOutcome({ kind: 'ready', cases: body.cases ?? 0, fresh: body.new ?? 0 })
  }

  const run = async () => {
    if (!file || outcome?.kind !== 'ready') return
    const body = await request(file, false)
    if (!body) return
    setOutcome({ kind: 'done', inserted: body.inserted ?? 0, updated: body.updated ?? 0, unchanged: body.unchanged ?? 0 })
    setFile(null)
    onImported()
  }

  return (
    <details class="hotline-import" id="hotline-import">
      <summary>{t('hotline.import')}</summary>
      <p class="muted small">{t('hotline.importNote', { columns: HOTLINE_COLUMNS.join(', ') })}</p>
      <CsvFileField id="hotline-file" busy={busy} onChosen={(f) => void check(f)} />
      <div aria-live="polite">
        {busy && <p class="muted">{t('import.checking')}</p>}
        {outcome?.kind === 'ready' && (
          <p class="ok" id="hotline-ready">
            {t('hotline.ready', { n: outcome.cases, fresh: outcome.fresh })}
          </p>
        )}
        {outcome?.kind === 'done' && (
          <p class="ok" id="hotline-done">
            {t('hotline.done', { inserted: outcome.inserted, updated: outcome.updated, unchanged: outcome.unchanged })}
          </p>
        )}
      </div>
      {outcome?.kind === 'problems' && <Problems list={outcome.list} total={outcome.total} summary={{ one: 'hotline.problemOne', many: 'hotline.problemCount' }} />}
      {outcome?.kind === 'error' && (
        <p class="error" role="alert">
          {worded(outcome)}
        </p>
      )}
      <button type="button" class="primary" id="hotline-run" disabled={busy || outcome?.kind !== 'ready'} onClick={() => void run()}>
        {outcome?.kind === 'ready' ? t('hotline.run', { n: outcome.cases }) : t('import.runNone')}
      </button>
    </details>
  )
}
