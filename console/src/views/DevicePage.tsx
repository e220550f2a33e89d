// A device: its open alerts first, status, newest values with units, and a chart of each metric's
// history over a chosen range (bucketed by the readings API), with its rule thresholds, the periods
// of the alerts raised on that metric and the line of a forecast rule; a yes/no metric as a state
// timeline. The range starts as the shortest that holds the device's readings (a device a few
// minutes old is not a dot at the end of 24 hours).
import { useEffect, useMemo, useState } from 'preact/hooks'
import { Sev, State } from '../components/Badges.tsx'
import { Chart, type Series } from '../components/Chart.tsx'
import { SimulateFault } from '../components/SimulateFault.tsx'
import { StateTimeline } from '../components/StateTimeline.tsx'
import { alertTitle, dateTime, t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'
import { forecastLine, type ForecastLine, type ForecastParams } from '../lib/forecast.ts'
import { formatValue, metricLabel, specOf } from '../lib/metrics.ts'
import { named, placeOf, registry } from '../lib/registry.ts'
import { href } from '../lib/router.ts'
import { me } from '../lib/session.ts'
import { useStore } from '../lib/store.ts'
import type { Alert, Device, Rule } from '../lib/types.ts'

/** Range → bucket: a few hundred points per chart whatever the range. */
export const RANGES = { '1h': ['1h', '1m'], '6h': ['6h', '1m'], '24h': ['24h', '5m'], '7d': ['7d', '30m'], '30d': ['30d', '2h'], '90d': ['90d', '6h'] } as const
type Range = keyof typeof RANGES
const MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 }
const toMs = (d: string) => Number(d.slice(0, -1)) * (MS[d.slice(-1)] ?? 0)

interface Latest {
  metric: string
  ts: string
  value: number
}
type DeviceDetail = Device & { status: 'online' | 'offline' | null; statusChangedAt: string | null }
/** GET /api/v1/devices/:id/status: online/offline from the status message, an offline alert or the newest reading. */
interface Status {
  connectivity: 'online' | 'offline' | 'unknown'
  basis: 'status' | 'alert' | 'readings' | null
  lastSeenAt: string | null
}

type Params = NonNullable<Rule['definition']['params']>

/** The parameters (per-device overrides applied) of the enabled rules of `types` watching this metric of this device. */
function paramsOn(rules: Iterable<Rule>, device: Device, metric: string, types: readonly string[]): Params[] {
  const out: Params[] = []
  for (const r of rules) {
    const d = r.definition
    if (!r.enabled || !types.includes(d.type ?? '') || d.params?.metric !== metric) continue
    if (d.scope?.kind !== undefined ? d.scope.kind !== device.kind : d.scope?.deviceId !== device.id) continue
    out.push({ ...d.params, ...d.overrides?.[device.id] })
  }
  return out
}

/** Threshold levels of the rules watching this metric of this device (per-device overrides win). */
export function thresholdsFor(rules: Iterable<Rule>, device: Device, metric: string): number[] {
  const levels = paramsOn(rules, device, metric, ['threshold', 'forecast']).map((p) => p.value)
  return [...new Set(levels.filter((v): v is number => typeof v === 'number'))]
}

/** The shortest range that holds readings since `earliest` (the longest when they are older still). */
export function fittingRange(earliest: number | undefined, now: number): Range {
  const ranges = Object.keys(RANGES) as Range[]
  if (earliest === undefined) return '24h'
  // A tenth of slack: a day of readings that began a moment over 24 h ago is still a day.
  return ranges.find((r) => now - earliest <= toMs(RANGES[r][0]) * 1.1) ?? '90d'
}

/** The metrics a rule watches (a threshold's `or` conditions too): its alerts are shaded on these charts only. */
function ruleMetrics(rule: Rule | undefined): string[] {
  const p = rule?.definition.params
  return [p?.metric, ...(p?.or ?? []).map((c) => c.metric)].filter((m): m is string => m !== undefined)
}

/** The forecast rule watching this metric of this device, if any (the first, should there be more). */
function forecastFor(rules: Iterable<Rule>, device: Device, metric: string): ForecastParams | undefined {
  const p = paramsOn(rules, device, metric, ['forecast'])[0]
  if (p === undefined || (p.op !== '<' && p.op !== '>') || p.value === undefined || p.window === undefined || p.horizon === undefined) return undefined
  return { op: p.op, value: p.value, window: p.window, horizon: p.horizon, minSamples: p.minSamples ?? 5 }
}

/** The readings of a forecast rule's window (ending at the newest reading), raw, and the line through them. */
function useForecast(device: Device, metric: string, rule: ForecastParams | undefined, newest: number): ForecastLine | undefined {
  const [line, setLine] = useState<ForecastLine | undefined>(undefined)
  useEffect(() => {
    setLine(undefined)
    if (rule === undefined) return
    // The window is (newest − window, newest]: `from` is inclusive, `to` exclusive.
    const q = new URLSearchParams({ metric, from: new Date(newest - rule.window + 1).toISOString(), to: new Date(newest + 1).toISOString(), limit: '10000' })
    void api<{ points: { ts: string; value: number }[] }>(`/api/v1/devices/${encodeURIComponent(device.id)}/readings?${q.toString()}`).then((r) =>
      setLine(forecastLine(r.points.map((p) => ({ ts: Date.parse(p.ts), value: p.value })), rule)),
    )
  }, [device.id, metric, rule, newest])
  return line
}

function MetricChart({ device, metric, newest, range, periods }: { device: Device; metric: string; newest: number; range: Range; periods: [number, number][] }) {
  const reg = useStore(registry)
  const [data, setData] = useState<{ series: Series; span: [number, number] } | null>(null)
  const yesNo = specOf(device.kind, metric)?.boolean === true
  useEffect(() => {
    const [span, bucket] = RANGES[range]
    const to = Date.now()
    const from = to - toMs(span)
    // A yes/no metric keeps a bucket's "yes" (max), rather than averaging it into 0.2.
    const q = new URLSearchParams({ metric, from: new Date(from).toISOString(), bucket, agg: yesNo ? 'max' : 'avg', limit: '10000' })
    void api<{ points: { ts: string; value: number }[] }>(`/api/v1/devices/${encodeURIComponent(device.id)}/readings?${q.toString()}`).then((r) =>
      setData({ series: { ts: r.points.map((p) => Date.parse(p.ts)), values: r.points.map((p) => p.value) }, span: [from, to] }),
    )
  }, [device.id, metric, range, yesNo])
  const thresholds = useMemo(() => thresholdsFor(reg.rules.values(), device, metric), [reg, device, metric])
  const rule = useMemo(() => forecastFor(reg.rules.values(), device, metric), [reg, device, metric])
  const forecast = useForecast(device, metric, rule, newest)
  const fmt = useMemo(() => (v: number) => formatValue(device.kind, metric, v), [device.kind, metric])
  return (
    <figure class="metric-chart" data-metric={metric}>
      <figcaption>{metricLabel(device.kind, metric)}</figcaption>
      {data === null ? (
        <p>{t('common.loading')}</p>
      ) : data.series.ts.length === 0 ? (
        <p class="muted">{t('device.noData')}</p>
      ) : yesNo ? (
        <StateTimeline label={metricLabel(device.kind, metric)} data={data.series} span={data.span} bucketMs={toMs(RANGES[range][1])} periods={periods} />
      ) : (
        <Chart label={metricLabel(device.kind, metric)} data={data.series} span={data.span} thresholds={thresholds} forecast={forecast} periods={periods} fmt={fmt} />
      )}
    </figure>
  )
}

function AlertLine({ a }: { a: Alert }) {
  return (
    <li>
      <Sev s={a.severity} /> <State s={a.state} /> <a href={href('alert', a.id)}>{alertTitle(a)}</a> <span class="muted small">{dateTime(a.raisedAt)}</span>
    </li>
  )
}

export function DevicePage({ id }: { id: string }) {
  const [device, setDevice] = useState<DeviceDetail | null>(null)
  const [conn, setConn] = useState<Status | null>(null)
  const [latest, setLatest] = useState<Latest[]>([])
  const [history, setHistory] = useState<Alert[]>([])
  const [range, setRange] = useState<Range | null>(null)
  const [error, setError] = useState('')
  const [alertsLoaded, setAlertsLoaded] = useState(0)
  const user = useStore(me)
  const reg = useStore(registry)
  const path = `/api/v1/devices/${encodeURIComponent(id)}`
  useEffect(() => {
    setRange(null)
    Promise.all([api<DeviceDetail>(path), api<Status>(`${path}/status`), api<{ values: Latest[] }>(`${path}/latest`)]).then(
      ([d, s, l]) => {
        setDevice(d)
        setConn(s)
        setLatest(l.values)
        // The oldest reading of the last 90 days of one metric decides the range shown first.
        const metric = l.values[0]?.metric
        if (metric === undefined) return setRange('24h')
        const q = new URLSearchParams({ metric, from: new Date(Date.now() - toMs('90d')).toISOString(), limit: '1' })
        void api<{ points: { ts: string }[] }>(`${path}/readings?${q.toString()}`).then(
          (r) => setRange((picked) => picked ?? fittingRange(r.points[0] ? Date.parse(r.points[0].ts) : undefined, Date.now())),
          () => setRange((picked) => picked ?? '24h'),
        )
      },
      (err: unknown) => setError(String(err)),
    )
  }, [path])
  useEffect(() => {
    api<{ items: Alert[] }>(`/api/v1/alerts?device=${encodeURIComponent(id)}&limit=50`).then(
      (a) => setHistory(a.items),
      (err: unknown) => setError(String(err)),
    )
  }, [id, alertsLoaded])
  /** Each metric's alert periods: an alert is shaded on the charts of its rule's metrics only. */
  const periodsOf = useMemo(() => {
    const out = new Map<string, [number, number][]>()
    for (const a of history) {
      const period: [number, number] = [Date.parse(a.raisedAt), Date.parse(a.resolvedAt ?? a.clearedAt ?? new Date().toISOString())]
      for (const m of ruleMetrics(reg.rules.get(a.ruleId))) out.set(m, [...(out.get(m) ?? []), period])
    }
    return out
  }, [history, reg])
  const open = history.filter((a) => a.state !== 'resolved')
  // The rules engine raises the alert a moment after the readings commit: look twice.
  const afterSimulation = () => {
    for (const ms of [1500, 4000]) setTimeout(() => setAlertsLoaded((n) => n + 1), ms)
  }
  if (error) return <p class="error">{t('common.error', { message: error })}</p>
  if (!device) return <p>{t('common.loading')}</p>
  const state = conn?.connectivity ?? device.status ?? 'unknown'
  const status = t(`device.${state}`)
  return (
    <section class="device">
      <h1 id="device-title">
        {named(device)} <span class="muted">· {t(`kind.${device.kind}`)}</span>
      </h1>
      {open.length > 0 && (
        <div class="open-alerts" id="device-open-alerts" role="region" aria-label={t('device.openAlerts')}>
          <h2>{t('device.openAlerts')}</h2>
          <ul class="plain">
            {open.map((a) => (
              <AlertLine key={a.id} a={a} />
            ))}
          </ul>
        </div>
      )}
      <p>
        {placeOf(device.communityId, device.id, { named: false })} · {t('device.status')}:{' '}
        <b id="device-status" class={`status ${state}`}>
          {status}
        </b>
        {conn?.basis === 'readings' && <span class="muted small"> {t('device.byReadings')}</span>}
        {conn?.basis === 'alert' && <span class="muted small"> {t('device.byAlert')}</span>}
        {conn?.lastSeenAt && (
          <span class="muted" id="last-seen">
            {' '}
            · {t('device.lastSeen')}: {dateTime(conn.lastSeenAt)}
          </span>
        )}
      </p>
      <h2>{t('device.latest')}</h2>
      {latest.length === 0 ? (
        <p class="muted">{t('device.noValues')}</p>
      ) : (
        <dl id="latest" class="latest">
          {latest.map((v) => (
            <div key={v.metric}>
              <dt>{metricLabel(device.kind, v.metric)}</dt>
              <dd>
                <b>{formatValue(device.kind, v.metric, v.value)}</b> <span class="muted small">{dateTime(v.ts)}</span>
              </dd>
            </div>
          ))}
        </dl>
      )}
      <h2>{t('device.chart')}</h2>
      <div class="ranges" role="group" aria-label={t('device.range')}>
        {(Object.keys(RANGES) as Range[]).map((r) => (
          <button key={r} type="button" class={r === range ? 'primary' : ''} aria-pressed={r === range} data-range={r} onClick={() => setRange(r)}>
            {t(`range.${r}`)}
          </button>
        ))}
      </div>
      {range !== null &&
        latest.map((v) => <MetricChart key={v.metric} device={device} metric={v.metric} newest={Date.parse(v.ts)} range={range} periods={periodsOf.get(v.metric) ?? []} />)}
      <h2>{t('device.alerts')}</h2>
      {history.length === 0 && <p class="muted">{t('device.noAlerts')}</p>}
      <ul class="plain">
        {history.map((a) => (
          <AlertLine key={a.id} a={a} />
        ))}
      </ul>
      {user?.role === 'admin' && <SimulateFault deviceId={device.id} onSent={afterSimulation} />}
    </section>
  )
}
