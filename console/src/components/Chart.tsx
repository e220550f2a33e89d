// One metric over time (uPlot: canvas, fast for tens of thousands of points), with the rule
// thresholds drawn as dashed lines, a forecast rule's trend to where it meets its value, and the
// device's alert periods shaded behind the data.
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { dateTime, t } from '../i18n/index.ts'
import type { ForecastLine } from '../lib/forecast.ts'

export interface Series {
  ts: number[]
  values: number[]
}

interface Props {
  label: string
  data: Series
  thresholds: number[]
  /** A forecast rule's trend line, drawn dashed from its window to where it meets the rule's value. */
  forecast?: ForecastLine | undefined
  /** [from, to] in ms: shaded. */
  periods: [number, number][]
  fmt: (v: number) => string
}

/** The x values (ms) with the forecast's two ends added, and each series on them (null where it has no point). */
function aligned(data: Series, forecast: ForecastLine | undefined): { ts: number[]; values: (number | null)[]; trend: (number | null)[] } | undefined {
  if (forecast === undefined) return undefined
  const { from, to } = forecast
  const byTs = new Map<number, number | null>(data.ts.map((ts, i) => [ts, data.values[i] ?? null]))
  const ts = byTs.has(from.ts) && byTs.has(to.ts) ? data.ts : [...new Set([...data.ts, from.ts, to.ts])].sort((a, b) => a - b)
  return { ts, values: ts.map((x) => byTs.get(x) ?? null), trend: ts.map((x) => (x === from.ts ? from.value : x === to.ts ? to.value : null)) }
}

export function Chart({ label, data, thresholds, forecast, periods, fmt }: Props) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const withTrend = aligned(data, forecast)
    const xs = (withTrend?.ts ?? data.ts).map((ms) => ms / 1000)
    const shade = (u: uPlot) => {
      const ctx = u.ctx
      ctx.save()
      ctx.fillStyle = 'rgba(198, 40, 40, 0.12)'
      for (const [from, to] of periods) {
        const x0 = u.valToPos(from / 1000, 'x', true)
        const x1 = u.valToPos(to / 1000, 'x', true)
        ctx.fillRect(Math.max(x0, u.bbox.left), u.bbox.top, Math.min(x1, u.bbox.left + u.bbox.width) - Math.max(x0, u.bbox.left), u.bbox.height)
      }
      ctx.restore()
    }
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height: 260,
      legend: { show: true },
      scales: { x: { time: true } },
      axes: [{}, { values: (_u, vals) => vals.map((v) => fmt(v)), size: 70 }],
      series: [
        {},
        // Gaps only where the forecast's ends were added: the readings themselves have none.
        { label, stroke: '#0b4f6c', width: 2, spanGaps: true, value: (_u, v: number | null) => (v === null ? '' : fmt(v)) },
        ...thresholds.map((v) => ({ label: `${t('device.threshold')} ${fmt(v)}`, stroke: '#c62828', dash: [6, 4], width: 1.5, points: { show: false } })),
        ...(forecast === undefined
          ? []
          : [{ label: forecast.reaches ? t('device.forecastAt', { time: dateTime(forecast.predictedAt) }) : t('device.forecast'), stroke: '#6a1b9a', dash: [2, 4], width: 2, spanGaps: true, points: { show: false } }]),
      ],
      hooks: { drawClear: [shade] },
    }
    const series = [withTrend?.values ?? data.values, ...thresholds.map((v) => xs.map(() => v)), ...(withTrend === undefined ? [] : [withTrend.trend])]
    const plot = new uPlot(opts, [xs, ...series], el)
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 260 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [data, thresholds, forecast, periods, label, fmt])
  // The forecast's end (time and value) for tests and scripts; on screen it is the legend's entry.
  const trendEnd = forecast === undefined ? undefined : `${new Date(forecast.to.ts).toISOString()},${forecast.to.value}`
  return <div ref={box} class="chart" data-thresholds={thresholds.join(',')} data-forecast-end={trendEnd} />
}
