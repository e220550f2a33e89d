// The composite score and the rank. Each component is a share between 0 and 1 (1 is best); the
// score is 100 × the weighted mean of the components a company has data for (weights of missing
// components are left out, so a company is not punished for a quiet period). See the README,
// "Evaluation".
import type { CompanyFigures } from '../core/repos/evaluation.ts'

export const COMPONENTS = ['ack', 'resolve', 'speed', 'quality', 'satisfaction'] as const
export type Component = (typeof COMPONENTS)[number]
export type Weights = Record<Component, number>

export const DEFAULT_WEIGHTS: Weights = { ack: 0.25, resolve: 0.25, speed: 0.15, quality: 0.15, satisfaction: 0.2 }

export function components(f: CompanyFigures): Record<Component, number | null> {
  return {
    /** Acknowledged by a person within the deadline, of those due (see core/repos/evaluation.ts). */
    ack: f.ackDue > 0 ? f.ackMet / f.ackDue : null,
    /** Resolved by a person within the deadline, of those due. */
    resolve: f.resolveDue > 0 ? f.resolveMet / f.resolveDue : null,
    /** 1 − the median share of the resolve window used (resolving at once scores 1, at the deadline 0). */
    speed: f.resolveWindowUsedMedian === null ? null : Math.max(0, 1 - Math.min(1, f.resolveWindowUsedMedian)),
    /** 1 − the share of alerts a person resolved that had to be raised again. */
    quality: f.resolved > 0 ? 1 - f.reopened / f.resolved : null,
    /** Mean rating mapped from 1..5 to 0..1. */
    satisfaction: f.satisfactionMean === null ? null : (f.satisfactionMean - 1) / 4,
  }
}

export function score(f: CompanyFigures, weights: Weights): number | null {
  const c = components(f)
  let sum = 0
  let total = 0
  for (const k of COMPONENTS) {
    const v = c[k]
    if (v === null || weights[k] <= 0) continue
    sum += weights[k] * v
    total += weights[k]
  }
  return total === 0 ? null : Math.round((1000 * sum) / total) / 10
}

/** Standard competition ranking (1, 2, 2, 4) by score; companies without a score come last, unranked. */
export function rank<T extends { companyId: string; score: number | null }>(rows: readonly T[]): (T & { rank: number | null })[] {
  const sorted = [...rows].sort((a, b) => (b.score ?? -1) - (a.score ?? -1) || a.companyId.localeCompare(b.companyId))
  let previous: number | null = null
  let previousRank = 0
  return sorted.map((r, i) => {
    if (r.score === null) return { ...r, rank: null }
    const rankHere: number = r.score === previous ? previousRank : i + 1
    previous = r.score
    previousRank = rankHere
    return { ...r, rank: rankHere }
  })
}
