// A yes/no metric (运行中, 困人) as a state timeline: one band, coloured where it was yes, plain where
// no, hatched where nothing was reported — not an averaged line whose axis reads "否 否 否 是" (issue
// 21). Each bucket holds the largest value (agg=max), so a moment of "yes" in a bucket shows.
// The device's alert periods for this metric are marked in a strip above the band.
import { useId } from 'preact/hooks'
import { dateTime, t } from '../i18n/index.ts'
import type { Series } from './Chart.tsx'

interface Run {
  from: number
  to: number
  state: 'yes' | 'no' | 'none'
}

/** Runs of equal state over [span]; a point holds until the next one, or `bucketMs` when that is further (no data in between). */
export function stateRuns(data: Series, span: [number, number], bucketMs: number): Run[] {
  const runs: Run[] = []
  const push = (from: number, to: number, state: Run['state']) => {
    if (to <= from) return
    const last = runs.at(-1)
    if (last && last.state === state && last.to >= from) last.to = to
    else runs.push({ from, to, state })
  }
  let cursor = span[0]
  data.ts.forEach((ts, i) => {
    if (ts > cursor) push(cursor, ts, 'none')
    const next = data.ts[i + 1] ?? span[1]
    const end = Math.min(next, ts + Math.max(bucketMs, 1), span[1])
    push(ts, end, (data.values[i] ?? 0) >= 1 ? 'yes' : 'no')
    cursor = end
  })
  push(cursor, span[1], 'none')
  return runs
}

export function StateTimeline({ label, data, span, bucketMs, periods }: { label: string; data: Series; span: [number, number]; bucketMs: number; periods: [number, number][] }) {
  // One hatch pattern per timeline: ids must be unique on the page.
  const hatch = `tl-none-${useId()}`
  const runs = stateRuns(data, span, bucketMs)
  const width = span[1] - span[0] || 1
  const x = (ms: number) => (Math.min(Math.max(ms, span[0]), span[1]) - span[0]) / width * 100
  const yesRuns = runs.filter((r) => r.state === 'yes')
  const summary = yesRuns.length === 0 ? t('timeline.neverYes') : t('timeline.yesTimes', { count: String(yesRuns.length), time: dateTime(yesRuns.at(-1)?.from ?? 0) })
  return (
    <div class="timeline" data-runs={runs.map((r) => r.state).join(',')}>
      <svg viewBox="0 0 100 14" preserveAspectRatio="none" role="img" aria-label={`${label}: ${summary}`}>
        <defs>
          <pattern id={hatch} width="2" height="2" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="1" height="2" class="tl-none-stripe" />
          </pattern>
        </defs>
        {periods.map(([from, to], i) => (
          <rect key={`p${i}`} class="tl-alert" x={x(from)} y="0" width={Math.max(x(to) - x(from), 0.3)} height="2.5" />
        ))}
        {runs.map((r, i) => (
          <rect key={i} class={`tl-${r.state}`} x={x(r.from)} y="4" width={Math.max(x(r.to) - x(r.from), 0.2)} height="10" fill={r.state === 'none' ? `url(#${hatch})` : undefined} />
        ))}
      </svg>
      <div class="timeline-axis muted small">
        <span>{dateTime(span[0])}</span>
        <span>{dateTime(span[1])}</span>
      </div>
      <p class="timeline-legend small">
        <span class="swatch tl-yes" aria-hidden="true" /> {t('common.yes')} <span class="swatch tl-no" aria-hidden="true" /> {t('common.no')}{' '}
        <span class="swatch tl-none-swatch" aria-hidden="true" /> {t('timeline.noData')}
        {periods.length > 0 && (
          <>
            {' '}
            <span class="swatch tl-alert" aria-hidden="true" /> {t('timeline.alert')}
          </>
        )}
        <span class="muted"> · {summary}</span>
      </p>
    </div>
  )
}
