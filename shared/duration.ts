// Durations as people write them: "250ms", "30s", "5m", "1.5h", "2d".
export const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text.trim())
  if (m === null) return undefined
  const [, amount, unit] = m
  if (amount === undefined || unit === undefined || !(unit in UNIT_MS)) return undefined
  return Math.round(Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS])
}

/** Milliseconds in the largest unit that states them exactly: 600000 → "10m", 90000 → "90s". */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`
  }
  return ms === 0 ? '0s' : `${ms}ms`
}
