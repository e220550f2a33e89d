// The composite score and the rank. Each component is a share between 0 and 1 (1 is best); the
// score is 100 × the weighted mean of the components a company has data for (weights of missing
// components are left out, so a company is not punished for a quiet period). See the README,
// "Evaluation".
import type { CompanyFigures } from '../core/repos/evaluation.ts'

export const COMPONENTS = ['ack', 'resolve', 'speed', 'quality', 'satisfaction'] as const
export type Component = (typeof COMPONENTS)[number]
export type Weights = Record<Component, number>

export const DEFAULT_WEIGHTS: Weights = { ack: 0.25, resolve: 0.25, speed: 0.15, quality: 0.15, satisfaction: 0.2 }

/**
 * The 12345 hotline's components (api/hotline/figures.ts): scored only when a weights version
 * gives them a weight (alerts/weights.ts); the built-in version gives them none, so today's
 * scores stay as they were.
 */
export const HOTLINE_COMPONENTS = ['hotlineOnTime', 'hotlineSatisfaction'] as const
export type HotlineComponent = (typeof HOTLINE_COMPONENTS)[number]
/** Every component a weights version may weigh. */
export const SCORE_COMPONENTS = [...COMPONENTS, ...HOTLINE_COMPONENTS] as const
export type ScoreComponent = (typeof SCORE_COMPONENTS)[number]
export type ScoreWeights = Record<ScoreComponent, number>

/** The hotline figures a component is built from: on time ÷ due, and the citizens' mean rating. */
export interface HotlineInputs {
  due: number
  onTime: number
  satisfactionMean: number | null
}

export function hotlineComponents(h: HotlineInputs | undefined): Record<HotlineComponent, number | null> {
  return {
    /** Cases handled within HOTLINE_HANDLE_DEADLINE, of those due. */
    hotlineOnTime: h && h.due > 0 ? h.onTime / h.due : null,
    /** The citizens' mean rating mapped from 1..5 to 0..1, as residents' satisfaction is. */
    hotlineSatisfaction: h?.satisfactionMean == null ? null : (h.satisfactionMean - 1) / 4,
  }
}

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

/** A component a version does not name weighs 0 (EVAL_WEIGHTS names only the alert components). */
export function score(f: CompanyFigures, weights: Partial<ScoreWeights>, hotline?: HotlineInputs): number | null {
  const c: Record<ScoreComponent, number | null> = { ...components(f), ...hotlineComponents(hotline) }
  let sum = 0
  let total = 0
  for (const k of SCORE_COMPONENTS) {
    const w = weights[k] ?? 0
    const v = c[k]
    if (v === null || w <= 0) continue
    sum += w * v
    total += w
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
