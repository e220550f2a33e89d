// "All matching": acknowledge (or, for the office, resolve) every alert the board's filters match,
// on the server, not only the rows this page holds. The count comes first and the confirmation
// names it ("确认全部 5,000 条告警？"); the outcome says how many were done and what was left
// (someone else's change, or the per-call bound) — never a silent cap. The text search is the
// board's own, which the API has no counterpart for, so with a text filter only the rows shown
// can be selected.
import { useState } from 'preact/hooks'
import { num, t } from '../i18n/index.ts'
import { bulkByFilter, bulkCount, reloadAlerts, type BulkAction, type BulkCount, type BulkOutcome } from '../lib/alerts.ts'
import { toQuery, type Filter } from './Filters.tsx'

type Phase =
  | { at: 'idle' }
  | { at: 'counting' | 'working'; action: BulkAction }
  | { at: 'confirm'; action: BulkAction; count: BulkCount }
  | { at: 'done'; action: BulkAction; outcome: BulkOutcome }
  | { at: 'failed'; message: string }

const n = (v: number) => num(v, 0)

export function BulkByFilter({ filter, canResolve }: { filter: Filter; canResolve: boolean }) {
  const [phase, setPhase] = useState<Phase>({ at: 'idle' })
  const query = () => toQuery(filter, new URLSearchParams())
  const fail = (err: unknown) => setPhase({ at: 'failed', message: err instanceof Error ? err.message : String(err) })
  const ask = (action: BulkAction) => {
    setPhase({ at: 'counting', action })
    bulkCount(action, query()).then((count) => setPhase({ at: 'confirm', action, count }), fail)
  }
  const run = (action: BulkAction, through: number) => {
    setPhase({ at: 'working', action })
    bulkByFilter(action, query(), through)
      .then(async (outcome) => {
        await reloadAlerts()
        setPhase({ at: 'done', action, outcome })
      })
      .catch(fail)
  }
  const busy = phase.at === 'counting' || phase.at === 'working'
  const blocked = filter.text !== ''
  return (
    <>
      <button type="button" id="bulk-all-ack" disabled={busy || blocked} onClick={() => ask('ack')}>
        {t('bulk.allAck')}
      </button>
      {canResolve && (
        <button type="button" id="bulk-all-resolve" disabled={busy || blocked} onClick={() => ask('resolve')}>
          {t('bulk.allResolve')}
        </button>
      )}
      {blocked && <span class="muted">{t('bulk.noText')}</span>}
      {phase.at === 'working' && (
        <span class="muted" role="status">
          {t('bulk.working')}
        </span>
      )}
      {phase.at === 'done' && (
        <p class="bulk-outcome" role="status" id="bulk-outcome">
          {t(phase.action === 'ack' ? 'bulk.doneAck' : 'bulk.doneResolve', { n: n(phase.outcome.done) })}
          {phase.outcome.skipped > 0 && ` ${t('bulk.skipped', { n: n(phase.outcome.skipped) })}`}
          {phase.outcome.capped && ` ${t('bulk.cappedAfter', { n: n(phase.outcome.matched - phase.outcome.done - phase.outcome.skipped) })}`}
        </p>
      )}
      {phase.at === 'failed' && (
        <p class="error" role="alert" id="bulk-outcome">
          {phase.message}
        </p>
      )}
      {phase.at === 'confirm' && (
        <div class="modal" role="alertdialog" aria-modal="true" aria-labelledby="bulk-question" id="bulk-confirm">
          <div class="modal-box">
            {phase.count.matched === 0 || phase.count.through === null ? (
              <>
                <h2 id="bulk-question">{t('bulk.none')}</h2>
                <div class="modal-actions">
                  <button type="button" id="bulk-cancel" onClick={() => setPhase({ at: 'idle' })}>
                    {t('bulk.close')}
                  </button>
                </div>
              </>
            ) : (
              <Question action={phase.action} count={phase.count} through={phase.count.through} onYes={run} onNo={() => setPhase({ at: 'idle' })} />
            )}
          </div>
        </div>
      )}
    </>
  )
}

function Question({ action, count, through, onYes, onNo }: { action: BulkAction; count: BulkCount; through: number; onYes: (a: BulkAction, through: number) => void; onNo: () => void }) {
  const shown = n(count.capped ? count.max : count.matched)
  return (
    <>
      <h2 id="bulk-question">{t(action === 'ack' ? 'bulk.confirmAck' : 'bulk.confirmResolve', { n: n(count.matched) })}</h2>
      <p>{t(action === 'ack' ? 'bulk.whatAck' : 'bulk.whatResolve')}</p>
      {count.capped && <p class="notice">{t('bulk.capped', { max: n(count.max), n: n(count.matched) })}</p>}
      <div class="modal-actions">
        <button type="button" id="bulk-yes" class={action === 'ack' ? 'primary' : 'danger'} onClick={() => onYes(action, through)}>
          {t(action === 'ack' ? 'bulk.yesAck' : 'bulk.yesResolve', { n: shown })}
        </button>
        <button type="button" id="bulk-cancel" onClick={onNo}>
          {t('bulk.cancel')}
        </button>
      </div>
    </>
  )
}
