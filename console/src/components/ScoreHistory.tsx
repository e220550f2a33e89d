// Each company's score over the last periods. The API has no score-history read yet, so this asks
// the ranking for each of the last PERIODS 30-day windows (a handful of requests) and plots them.
import { useEffect, useRef, useState } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { dateTime, num, t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'

const PERIODS = 6
const PERIOD_MS = 30 * 86_400_000
const COLOURS = ['#0b4f6c', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#5d4037', '#ad1457']

interface Point {
  to: number
  scores: Map<string, number | null>
}

export function ScoreHistory({ names }: { names: Map<string, string> }) {
  const box = useRef<HTMLDivElement>(null)
  const [points, setPoints] = useState<Point[] | null>(null)
  useEffect(() => {
    const now = Date.now()
    const ends = Array.from({ length: PERIODS }, (_, i) => now - (PERIODS - 1 - i) * PERIOD_MS)
    void Promise.all(
      ends.map(async (to) => {
        const q = new URLSearchParams({ from: new Date(to - PERIOD_MS).toISOString(), to: new Date(to).toISOString() })
        const r = await api<{ items: { companyId: string; score: number | null }[] }>(`/api/v1/evaluation/ranking?${q.toString()}`)
        return { to, scores: new Map(r.items.map((x) => [x.companyId, x.score])) }
      }),
    ).then(setPoints)
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
        axes: [{ values: (_u, vals) => vals.map((v) => dateTime(v * 1000).split(' ')[0] ?? '') }, {}],
        series: [{}, ...ids.map((id, i) => ({ label: names.get(id) ?? id, stroke: COLOURS[i % COLOURS.length] ?? '#000', width: 2, value: (_u: uPlot, v: number | null) => (v === null ? t('common.none') : num(v, 1)) }))],
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
