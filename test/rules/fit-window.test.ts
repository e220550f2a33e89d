// The rate and forecast rules' running fit (rules/evaluators/fit-window.ts) gives the line fitLine
// gives over the same readings — through a window sliding for hours of epoch-millisecond times,
// late readings slotted in, readings at one instant, the window emptied and refilled — so making
// the fit O(1) per reading changed no verdict.
import { describe, expect, it } from 'vitest'
import { FitWindow } from '../../rules/evaluators/fit-window.ts'
import type { Sample } from '../../rules/evaluators/shared.ts'
import { fitLine, type Line } from '../../shared/trend.ts'

/** A seeded generator, so a failure is the same failure next time. */
function rng(seed: number): () => number {
  let s = seed
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
}

function close(a: Line | undefined, b: Line | undefined): void {
  if (a === undefined || b === undefined) {
    expect(a).toEqual(b)
    return
  }
  const scale = Math.max(1e-12, Math.abs(b.slope))
  expect(Math.abs(a.slope - b.slope) / scale).toBeLessThan(1e-6)
  expect(Math.abs(a.tMean - b.tMean)).toBeLessThan(1e-3)
  expect(Math.abs(a.vMean - b.vMean)).toBeLessThan(1e-6 * Math.max(1, Math.abs(b.vMean)))
}

describe('the running least-squares fit', () => {
  it('matches a full fit of the window at every reading, over hours of sliding, late readings and a gap', () => {
    const next = rng(18)
    const w = new FitWindow()
    const kept: Sample[] = []
    const windowMs = 5 * 60_000
    let ts = Date.UTC(2026, 11, 7, 8)
    for (let i = 0; i < 20_000; i++) {
      // Mostly 200 ms apart; now and then a late one (within 10 s), and once a long gap.
      const late = next() < 0.05
      const t = late ? ts - Math.floor(next() * 10_000) : (ts += i === 10_000 ? 3_600_000 : 200)
      const s: Sample = { metric: 'water_level_cm', ts: t, value: 50 + 30 * Math.sin(i / 300) + next() * 5 }
      w.push(s)
      kept.push(s)
      kept.sort((a, b) => a.ts - b.ts)
      const newest = w.last?.ts ?? t
      w.dropThrough(newest - windowMs)
      while ((kept[0]?.ts ?? Infinity) <= newest - windowMs) kept.shift()
      expect(w.size).toBe(kept.length)
      if (i % 97 === 0 || i === 10_000 || i === 10_001) close(w.line(), fitLine(kept))
    }
  })

  it('has no line for one reading, nor for readings all at one instant; one more instant gives fitLine\'s', () => {
    const w = new FitWindow()
    const at = 1_765_000_000_000
    const one: Sample = { metric: 'm', ts: at, value: 1 }
    const pts: Sample[] = [one]
    w.push(one)
    expect(w.line()).toBeUndefined()
    for (let i = 0; i < 50; i++) {
      const s = { metric: 'm', ts: at, value: i }
      pts.push(s)
      w.push(s)
    }
    expect(fitLine(pts)).toBeUndefined()
    expect(w.line()).toBeUndefined()
    const later = { metric: 'm', ts: at + 1000, value: 3 }
    pts.push(later)
    w.push(later)
    close(w.line(), fitLine(pts))
  })

  it('costs the same per reading whether the window holds 100 readings or 10,000 (printed, not asserted)', () => {
    const perReading = (held: number): number => {
      const w = new FitWindow()
      const step = 100
      let ts = 0
      for (let i = 0; i < held; i++) w.push({ metric: 'm', ts: (ts += step), value: i % 7 })
      const started = performance.now()
      const n = 20_000
      for (let i = 0; i < n; i++) {
        w.push({ metric: 'm', ts: (ts += step), value: i % 7 })
        w.dropThrough(ts - held * step)
        w.line()
      }
      return ((performance.now() - started) * 1000) / n
    }
    const small = perReading(100)
    const large = perReading(10_000)
    const full = (() => {
      const pts = Array.from({ length: 10_000 }, (_, i) => ({ ts: i * 100, value: i % 7 }))
      const started = performance.now()
      for (let i = 0; i < 200; i++) fitLine(pts)
      return ((performance.now() - started) * 1000) / 200
    })()
    console.log(`running fit: ${small.toFixed(2)} µs per reading with 100 held, ${large.toFixed(2)} µs with 10,000; a full fit of 10,000: ${full.toFixed(1)} µs`)
    expect(Number.isFinite(large)).toBe(true)
  })
})
