// Each company's score over the last PERIODS 30-day periods, from one request to the score
// history (GET /api/v1/evaluation/history), plotted one line per company.
import { useEffect, useRef, useState } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { dateOnly, monthDay, num, t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'

const PERIODS = 6
const COLOURS = ['#0b4f6c', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#5d4037', '#ad1457']

interface Point {
  to: number
  scores: Map<string, number | null>
}

export function ScoreHistory({ names }: { names: Map<string, string> }) {
  const box = useRef<HTMLDivElement>(null)
  const [points, setPoints] = useState<Point[] | null>(null)
  useEffect(() => {
    const q = new URLSearchParams({ periods: String(PERIODS), period: '30d' })
    void api<{ periods: { to: string; items: { companyId: string; score: number | null }[] }[] }>(`/api/v1/evaluation/history?${q.toString()}`).then((r) =>
      setPoints(r.periods.map((p) => ({ to: Date.parse(p.to), scores: new Map(p.items.map((x) => [x.companyId, x.score])) }))),
    )
  }, [])
  useEffect(() => {
    const el = box.current
    if (!el || !points) return
    const ids = [...names.keys()]
    const plot = new uPlot(
      {
        width: el.clientWidth,
        height: 220,
        scales: { x: { time: true }, y: { range: [0, 100] } },
        // One tick per period end: uPlot's own daily ticks crowd a 150-day axis with overlapping dates.
        axes: [{ splits: () => points.map((p) => p.to / 1000), values: (_u, vals) => vals.map((v) => monthDay(v * 1000)) }, {}],
        series: [{ label: t('ranking.periodEnd'), value: (_u: uPlot, v: number | null) => (v === null ? '' : dateOnly(v * 1000)) }, ...ids.map((id, i) => ({ label: names.get(id) ?? id, stroke: COLOURS[i % COLOURS.length] ?? '#000', width: 2, value: (_u: uPlot, v: number | null) => (v === null ? t('common.none') : num(v, 1)) }))],
      },
      [points.map((p) => p.to / 1000), ...ids.map((id) => points.map((p) => p.scores.get(id) ?? null))],
      el,
    )
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 220 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [points, names])
  return (
    <figure class="metric-chart" id="score-history">
      <figcaption>{t('ranking.history')}</figcaption>
      {points === null ? <p>{t('common.loading')}</p> : <div ref={box} class="chart" />}
    </figure>
  )
}
