// Dead letters (admin/operator): every message or reading ingest refused, newest first, with the
// reason, the device, the time and the start of the payload. The payload is the device's bytes:
// it is shown as text (never as markup), cut to a preview that opens to the stored excerpt (the
// store keeps at most 1 KB of it). Pages of 100 load on demand, up to MAX_ROWS in the page.
import { useEffect, useState } from 'preact/hooks'
import type { RejectReason } from '../../../core/contract.ts'
import { dateTime, t } from '../i18n/index.ts'
import { ChoiceFilter, TextFilter } from '../components/Filters.tsx'
import { ErrorLine } from '../components/Form.tsx'
import { PageEnd } from '../components/PageEnd.tsx'
import { deviceName, registry } from '../lib/registry.ts'
import { usePages } from '../lib/pages.ts'
import { href } from '../lib/router.ts'
import { useStore } from '../lib/store.ts'
import type { DeadLetter } from '../lib/types.ts'

const PAGE = 100
const MAX_ROWS = 2000
const PREVIEW = 160

/** Every reason code of the contract (a new one fails the type-check until it is named here). */
const REASONS: Record<RejectReason, true> = {
  malformed_json: true,
  schema_violation: true,
  unknown_device: true,
  not_a_child: true,
  unknown_metric: true,
  out_of_range: true,
  future_timestamp: true,
  invalid_timestamp: true,
  payload_too_large: true,
  unknown_topic: true,
  too_old: true,
  too_deep: true,
  too_many_entries: true,
  rejected_by_database: true,
  internal_error: true,
  decoder_failed: true,
  no_decoder: true,
  unroutable: true,
  empty_message: true,
  duplicate_reading: true,
}
const reasonLabel = (code: string): string => (Object.hasOwn(REASONS, code) ? t(`reason.${code as RejectReason}`) : code)

function Payload({ text }: { text: string | null }) {
  if (text === null) return <span class="muted">{t('form.none')}</span>
  if (text.length <= PREVIEW) return <code class="payload">{text}</code>
  return (
    <details class="payload">
      <summary>
        <code class="payload">{`${text.slice(0, PREVIEW)}…`}</code>
      </summary>
      <code class="payload">{text}</code>
    </details>
  )
}

export function DeadLetters() {
  useStore(registry)
  const [filter, setFilter] = useState({ reason: '', device: '' })
  const query = (after: number | null) => {
    const q = new URLSearchParams({ limit: String(PAGE) })
    if (filter.reason) q.set('reason', filter.reason)
    if (filter.device.trim()) q.set('device', filter.device.trim())
    if (after !== null) q.set('cursor', String(after))
    return `/api/v1/dead-letters?${q.toString()}`
  }
  const pages = usePages<DeadLetter>(query, MAX_ROWS)
  const { items, error, load } = pages
  // The device filter applies on Enter or leaving the field, not on every key.
  useEffect(() => void load(false), [filter.reason])
  return (
    <section class="dead-letters">
      <h1>{t('dead.title')}</h1>
      <p class="muted">{t('dead.about')}</p>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault()
          void load(false)
        }}
      >
        <ChoiceFilter id="dead-reason" label={t('dead.reason')} value={filter.reason} options={Object.keys(REASONS).map((r) => [r, reasonLabel(r)] as const)} onPick={(reason) => setFilter({ ...filter, reason })} />
        <TextFilter id="dead-device" label={t('alert.device')} hint={t('dead.deviceHint')} value={filter.device} onText={(device) => setFilter({ ...filter, device })} />
        <button type="submit">{t('dead.apply')}</button>
      </form>
      <ErrorLine text={error} />
      <table class="alerts" id="dead-letters">
        <thead>
          <tr>
            <th>{t('dead.time')}</th>
            <th>{t('alert.device')}</th>
            <th>{t('dead.reason')}</th>
            <th>{t('dead.payload')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id} data-dead={d.id}>
              <td data-label={t('dead.time')}>{dateTime(d.receivedAt)}</td>
              <td data-label={t('alert.device')}>
                {d.deviceId ? <a href={href('device', d.deviceId)}>{deviceName(d.deviceId)}</a> : <span class="muted">{t('dead.noDevice')}</span>}
                <div class="muted small topic">{d.topic}</div>
              </td>
              <td data-label={t('dead.reason')}>
                <b>{reasonLabel(d.reasonCode)}</b>
                {/* What it means and what to fix, in the reader's language. */}
                {Object.hasOwn(REASONS, d.reasonCode) && <div class="small dead-fix">{t(`dead.fix.${d.reasonCode as RejectReason}`)}</div>}
                {/* The ingest's own wording (metric ids, limits, the parser's message): a detail for the integrator, shown as code like the payload. */}
                <div class="small dead-detail">
                  <code>{d.reason}</code>
                </div>
              </td>
              <td data-label={t('dead.payload')} class="payload-cell">
                <Payload text={d.payloadExcerpt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <PageEnd pages={pages} id="dead-more" empty={t('dead.none')} />
    </section>
  )
}
