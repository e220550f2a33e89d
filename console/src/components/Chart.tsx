// One metric over time (uPlot: canvas, fast for tens of thousands of points), with the rule
// thresholds drawn as dashed lines and the device's alert periods shaded behind the data.
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { t } from '../i18n/index.ts'

export interface Series {
  ts: number[]
  values: number[]
}

interface Props {
  label: string
  data: Series
  thresholds: number[]
  /** [from, to] in ms: shaded. */
  periods: [number, number][]
  fmt: (v: number) => string
}

export function Chart({ label, data, thresholds, periods, fmt }: Props) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const xs = data.ts.map((ms) => ms / 1000)
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
        { label, stroke: '#0b4f6c', width: 2, value: (_u, v: number | null) => (v === null ? '' : fmt(v)) },
        ...thresholds.map((v) => ({ label: `${t('device.threshold')} ${fmt(v)}`, stroke: '#c62828', dash: [6, 4], width: 1.5, points: { show: false } })),
      ],
      hooks: { drawClear: [shade] },
    }
    const plot = new uPlot(opts, [xs, data.values, ...thresholds.map((v) => xs.map(() => v))], el)
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 260 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [data, thresholds, periods, label, fmt])
  return <div ref={box} class="chart" data-thresholds={thresholds.join(',')} />
}
