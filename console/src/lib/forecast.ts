// A forecast rule's line on the device chart: the least-squares trend the rules engine fits over the
// rule's window (ending at the newest reading), extended to where it meets the rule's value. The
// fit and the crossing come from the engine's own module (shared/trend.ts), so the line
// drawn is the one the engine judged, not a second regression.
import { fitLine, lineAt, lineCrossing, predictCrossing, type Point } from '../../../shared/trend.ts'

export interface ForecastParams {
  op: '<' | '>'
  value: number
  /** Milliseconds of readings the trend is fitted over. */
  window: number
  /** Milliseconds ahead a predicted crossing raises. */
  horizon: number
  minSamples: number
}

export interface ForecastLine {
  /** Start and end of the drawn segment: epoch ms and value. */
  from: Point
  to: Point
  /** When the engine predicts the crossing (epoch ms), as its alert would say. */
  predictedAt: number
  /** The segment ends on the rule's value (false: the crossing lies beyond the horizon). */
  reaches: boolean
}

/**
 * The line for readings in time order, or undefined where the engine would have no prediction: too
 * few readings in the window, or a trend that is flat or heads away from the value. Once the trend
 * has crossed already, the segment spans the window only.
 */
export function forecastLine(points: readonly Point[], p: ForecastParams): ForecastLine | undefined {
  const last = points.at(-1)
  if (last === undefined) return undefined
  // As the engine's window: readings after (newest − window), the newest included.
  const window = points.filter((x) => x.ts > last.ts - p.window)
  const first = window[0]
  const line = window.length >= p.minSamples ? fitLine(window) : undefined
  if (line === undefined || first === undefined) return undefined
  const { predictedAt } = predictCrossing(line, last, p.op, p.value)
  const meets = lineCrossing(line, p.op, p.value)
  if (predictedAt === undefined || meets === undefined) return undefined
  const end = meets <= last.ts ? last.ts : Math.min(meets, last.ts + p.horizon)
  return { from: { ts: first.ts, value: lineAt(line, first.ts) }, to: { ts: end, value: end === meets ? p.value : lineAt(line, end) }, predictedAt, reaches: end === meets }
}
