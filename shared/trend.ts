// The linear trend the rate and forecast rules fit, and where a forecast rule's trend meets its
// value. Pure arithmetic that imports nothing: the console bundles this same module to draw a
// forecast rule's line on the device chart, so the line on screen is the one the engine judged.

/** A reading's time (epoch ms) and value; the evaluators' `Sample` is one. */
export interface Point {
  ts: number
  value: number
}

export interface Line {
  /** Units per ms. */
  slope: number
  /** The line passes through (tMean, vMean). */
  tMean: number
  vMean: number
}

/**
 * Least-squares line through the readings, or undefined when they do not span any time.
 * Times are taken relative to their mean: squared epoch milliseconds (~1e24) would lose the
 * precision the fit needs.
 */
export function fitLine(points: readonly Point[]): Line | undefined {
  const n = points.length
  if (n < 2) return undefined
  let tSum = 0
  let vSum = 0
  for (const p of points) {
    tSum += p.ts
    vSum += p.value
  }
  const tMean = tSum / n
  const vMean = vSum / n
  let sxx = 0
  let sxy = 0
  for (const p of points) {
    const dt = p.ts - tMean
    sxx += dt * dt
    sxy += dt * (p.value - vMean)
  }
  if (sxx === 0) return undefined
  return { slope: sxy / sxx, tMean, vMean }
}

/** The line's value at `ts`. */
export function lineAt(line: Line, ts: number): number {
  return line.vMean + (ts - line.tMean) * line.slope
}

/**
 * When the line reaches `value` heading across it in the direction `op` guards against (`<`: falling
 * to it, `>`: rising to it); undefined when the trend is flat or heads away.
 */
export function lineCrossing(line: Line, op: '<' | '>', value: number): number | undefined {
  const toward = op === '<' ? line.slope < 0 : line.slope > 0
  return toward ? line.tMean + (value - line.vMean) / line.slope : undefined
}

/**
 * Where a forecast rule stands on its fit: whether the newest reading is already past `value`, and
 * when the trend meets it. Once past, that is when the line crossed (no later than the reading);
 * before, when it will (no earlier than the reading: a line that says it already has means the
 * crossing is imminent, not in the past). Undefined when the trend heads away.
 */
export function predictCrossing(line: Line, last: Point, op: '<' | '>', value: number): { crossed: boolean; predictedAt: number | undefined } {
  const crossed = op === '<' ? last.value < value : last.value > value
  const at = lineCrossing(line, op, value)
  if (crossed) return { crossed, predictedAt: Math.min(at ?? last.ts, last.ts) }
  return { crossed, predictedAt: at === undefined ? undefined : Math.max(at, last.ts) }
}
