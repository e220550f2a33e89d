// One metric over time (uPlot: canvas, fast for tens of thousands of points), with the rule
// thresholds drawn as dashed lines, a forecast rule's trend to where it meets its value, and the
// device's alert periods shaded behind the data.
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { dateTime, t, timeTicks } from '../i18n/index.ts'
import type { ForecastLine } from '../lib/forecast.ts'
import { useStore } from '../lib/store.ts'
import { theme } from '../lib/theme.ts'

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
  /** The range picked, [from, to] in ms: the x axis spans it whatever the readings cover. */
  span?: [number, number] | undefined
}

/**
 * The x values (ms) with the chosen range's ends and the forecast's two ends merged in, and each
 * series on them (null where it has no point). The range's ends make the axis span the range the
 * user picked (uPlot pads a lone reading into years otherwise) and carry the threshold lines across
 * it. Readings come sorted, so the few extra points are merged in one pass.
 */
function aligned(data: Series, span: [number, number] | undefined, forecast: ForecastLine | undefined): { ts: number[]; values: (number | null)[]; trend: (number | null)[] | undefined } {
  const extra = [...(span ?? []), ...(forecast ? [forecast.from.ts, forecast.to.ts] : [])].sort((a, b) => a - b)
  const ts: number[] = []
  const values: (number | null)[] = []
  let e = 0
  const addExtra = (upTo: number) => {
    for (; e < extra.length && (extra[e] ?? Infinity) <= upTo; e++) {
      const x = extra[e] ?? 0
      if (ts.at(-1) === x) continue
      ts.push(x)
      values.push(null)
    }
  }
  data.ts.forEach((x, i) => {
    addExtra(x - 1)
    if (ts.at(-1) === x) values[values.length - 1] = data.values[i] ?? null
    else {
      ts.push(x)
      values.push(data.values[i] ?? null)
    }
  })
  addExtra(Infinity)
  const trend = forecast === undefined ? undefined : ts.map((x) => (x === forecast.from.ts ? forecast.from.value : x === forecast.to.ts ? forecast.to.value : null))
  return { ts, values, trend }
}

export function Chart({ label, data, thresholds, forecast, periods, fmt, span }: Props) {
  const box = useRef<HTMLDivElement>(null)
  const themeChoice = useStore(theme)
  useEffect(() => {
    const el = box.current
    if (!el) return
    // The theme's colours (style.css custom properties), so a dark page gets a readable chart.
    const css = getComputedStyle(document.documentElement)
    const color = (name: string) => css.getPropertyValue(name).trim()
    const [ink, grid, data1, alarm] = [color('--ink'), color('--line'), color('--link'), color('--critical')]
    const axis = { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid } }
    const line = aligned(data, span, forecast)
    const xs = line.ts.map((ms) => ms / 1000)
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
      axes: [{ ...axis, values: (_u, splits, _axis, _space, increment) => timeTicks(splits, increment) }, { ...axis, values: (_u, vals) => vals.map((v) => fmt(v)), size: 70 }],
      series: [
        { label: t('chart.time'), value: (_u, v: number | null) => (v === null ? '' : dateTime(v * 1000)) },
        // Gaps only where the range's and the forecast's ends were added: the readings have none.
        { label, stroke: data1, width: 2, spanGaps: true, value: (_u, v: number | null) => (v === null ? '' : fmt(v)) },
        ...thresholds.map((v) => ({ label: `${t('device.threshold')} ${fmt(v)}`, stroke: alarm, dash: [6, 4], width: 1.5, points: { show: false } })),
        ...(forecast === undefined
          ? []
          : [{ label: forecast.reaches ? t('device.forecastAt', { time: dateTime(forecast.predictedAt) }) : t('device.forecast'), stroke: '#6a1b9a', dash: [2, 4], width: 2, spanGaps: true, points: { show: false } }]),
      ],
      hooks: { drawClear: [shade] },
    }
    const series = [line.values, ...thresholds.map((v) => xs.map(() => v)), ...(line.trend === undefined ? [] : [line.trend])]
    const plot = new uPlot(opts, [xs, ...series], el)
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 260 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [data, thresholds, forecast, periods, label, fmt, span, themeChoice])
  // The forecast's end (time and value) for tests and scripts; on screen it is the legend's entry.
  const trendEnd = forecast === undefined ? undefined : `${new Date(forecast.to.ts).toISOString()},${forecast.to.value}`
  return <div ref={box} class="chart" data-thresholds={thresholds.join(',')} data-forecast-end={trendEnd} />
}
