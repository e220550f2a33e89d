// The forecast line the device chart draws: the engine's fit over the rule's window, ending where
// it meets the rule's value, or nowhere the engine would predict nothing.
import { describe, expect, it } from 'vitest'
import { forecastLine, type ForecastParams } from '../../console/src/lib/forecast.ts'

const MIN = 60_000
const RESERVE: ForecastParams = { op: '<', value: 1.5, window: 10 * MIN, horizon: 120 * MIN, minSamples: 5 }
/** One reading a minute for `n` minutes, starting at `start` m and changing by `perMin`. */
const readings = (n: number, start: number, perMin: number) => Array.from({ length: n }, (_, i) => ({ ts: i * MIN, value: start + perMin * i }))

describe('forecast line', () => {
  it('fits the window ending at the newest reading and ends on the value at the crossing', () => {
    // Flat for 10 min, then falling 1 cm/min: only the fall is in the window.
    const flat = readings(10, 2, 0)
    const fall = readings(11, 2, -0.01).map((r) => ({ ts: r.ts + 10 * MIN, value: r.value }))
    const line = forecastLine([...flat, ...fall.slice(1)], RESERVE)
    expect(line?.from.ts).toBe(11 * MIN)
    expect(line?.from.value).toBeCloseTo(1.99, 9)
    expect(line?.reaches).toBe(true)
    expect(line?.to.value).toBe(1.5)
    expect(line?.to.ts).toBeCloseTo(60 * MIN, 3)
    expect(line?.predictedAt).toBeCloseTo(60 * MIN, 3)
  })

  it('stops at the horizon when the crossing lies beyond it', () => {
    const line = forecastLine(readings(10, 3, -0.001), RESERVE)
    expect(line?.reaches).toBe(false)
    expect(line?.to.ts).toBe(9 * MIN + RESERVE.horizon)
  })

  it('draws nothing for a trend heading away, a flat one or too few readings', () => {
    expect(forecastLine(readings(10, 2, 0.01), RESERVE)).toBeUndefined()
    expect(forecastLine(readings(10, 2, 0), RESERVE)).toBeUndefined()
    expect(forecastLine(readings(4, 2, -0.01), RESERVE)).toBeUndefined()
    expect(forecastLine([], RESERVE)).toBeUndefined()
  })
})
