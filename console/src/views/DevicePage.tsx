// A device: status, newest values with units, and a chart of each metric's history over a chosen
// range (bucketed by the readings API), with its rule thresholds, alert periods and the line of a
// forecast rule.
import { useEffect, useMemo, useState } from 'preact/hooks'
import { Sev, State } from '../components/Badges.tsx'
import { Chart, type Series } from '../components/Chart.tsx'
import { alertTitle, dateTime, t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'
import { forecastLine, type ForecastLine, type ForecastParams } from '../lib/forecast.ts'
import { formatValue, metricLabel } from '../lib/metrics.ts'
import { named, placeOf, registry } from '../lib/registry.ts'
import { href } from '../lib/router.ts'
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
  useEffect(() => {
    const [span, bucket] = RANGES[range]
    const to = Date.now()
    const from = to - toMs(span)
    const q = new URLSearchParams({ metric, from: new Date(from).toISOString(), bucket, agg: 'avg', limit: '10000' })
    void api<{ points: { ts: string; value: number }[] }>(`/api/v1/devices/${encodeURIComponent(device.id)}/readings?${q.toString()}`).then((r) =>
      setData({ series: { ts: r.points.map((p) => Date.parse(p.ts)), values: r.points.map((p) => p.value) }, span: [from, to] }),
    )
  }, [device.id, metric, range])
  const thresholds = useMemo(() => thresholdsFor(reg.rules.values(), device, metric), [reg, device, metric])
  const rule = useMemo(() => forecastFor(reg.rules.values(), device, metric), [reg, device, metric])
  const forecast = useForecast(device, metric, rule, newest)
  const fmt = useMemo(() => (v: number) => formatValue(device.kind, metric, v), [device.kind, metric])
  return (
    <figure class="metric-chart" data-metric={metric}>
      <figcaption>{metricLabel(device.kind, metric)}</figcaption>
      {data === null ? <p>{t('common.loading')}</p> : data.series.ts.length === 0 ? <p class="muted">{t('device.noData')}</p> : <Chart label={metricLabel(device.kind, metric)} data={data.series} span={data.span} thresholds={thresholds} forecast={forecast} periods={periods} fmt={fmt} />}
    </figure>
  )
}

export function DevicePage({ id }: { id: string }) {
  const [device, setDevice] = useState<DeviceDetail | null>(null)
  const [conn, setConn] = useState<Status | null>(null)
  const [latest, setLatest] = useState<Latest[]>([])
  const [history, setHistory] = useState<Alert[]>([])
  const [range, setRange] = useState<Range>('24h')
  const [error, setError] = useState('')
  useEffect(() => {
    const path = `/api/v1/devices/${encodeURIComponent(id)}`
    Promise.all([api<DeviceDetail>(path), api<Status>(`${path}/status`), api<{ values: Latest[] }>(`${path}/latest`), api<{ items: Alert[] }>(`/api/v1/alerts?device=${encodeURIComponent(id)}&limit=50`)]).then(
      ([d, s, l, a]) => {
        setDevice(d)
        setConn(s)
        setLatest(l.values)
        setHistory(a.items)
      },
      (err: unknown) => setError(String(err)),
    )
  }, [id])
  const periods = useMemo(() => history.map((a): [number, number] => [Date.parse(a.raisedAt), Date.parse(a.resolvedAt ?? a.clearedAt ?? new Date().toISOString())]), [history])
  if (error) return <p class="error">{t('common.error', { message: error })}</p>
  if (!device) return <p>{t('common.loading')}</p>
  const state = conn?.connectivity ?? device.status ?? 'unknown'
  const status = t(`device.${state}`)
  return (
    <section class="device">
      <h1 id="device-title">
        {named(device)} <span class="muted">· {t(`kind.${device.kind}`)}</span>
      </h1>
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
      {latest.map((v) => (
        <MetricChart key={v.metric} device={device} metric={v.metric} newest={Date.parse(v.ts)} range={range} periods={periods} />
      ))}
      <h2>{t('device.alerts')}</h2>
      {history.length === 0 && <p class="muted">{t('device.noAlerts')}</p>}
      <ul class="plain">
        {history.map((a) => (
          <li key={a.id}>
            <Sev s={a.severity} /> <State s={a.state} /> <a href={href('alert', a.id)}>{alertTitle(a)}</a> <span class="muted small">{dateTime(a.raisedAt)}</span>
          </li>
        ))}
      </ul>
    </section>
  )
}
