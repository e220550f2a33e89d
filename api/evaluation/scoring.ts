// Scoring a period by the weights version in force at its start (alerts/weights.ts): the ranking,
// its history and the overview's standing all score through here, so they agree.
import { HOTLINE_COMPONENTS, score, type ScoreWeights, type Weights } from '../../alerts/score.ts'
import { builtInVersion, fromStored, versionAt, type WeightsVersion } from '../../alerts/weights.ts'
import type { Db } from '../../core/db/client.ts'
import { companyFigures } from '../../core/repos/evaluation.ts'
import { hotlineFigures } from '../../core/repos/hotline.ts'
import { listWeightsVersions } from '../../core/repos/score-weights.ts'

/** The versions to score with: each period by the one in force at its start (alerts/weights.ts). */
export type Scoring = { versions: WeightsVersion[]; builtIn: WeightsVersion; hotlineDeadlineMs: number }

const weighsHotline = (w: ScoreWeights): boolean => HOTLINE_COMPONENTS.some((c) => w[c] > 0)

/**
 * Scores of one period (of a street's communities, given one) by the version in force at its
 * start; its hotline figures are read only when that version weighs them.
 */
export async function periodScores(db: Db, from: Date, to: Date, now: Date, s: Scoring, streetId?: string): Promise<{ companyId: string; name: string; alerts: number; score: number | null }[]> {
  const { weights } = versionAt(s.versions, s.builtIn, from)
  const [figs, hotline] = await Promise.all([
    companyFigures(db, from, to, now, undefined, streetId),
    weighsHotline(weights) ? hotlineFigures(db, from, to, now, s.hotlineDeadlineMs, undefined, streetId) : Promise.resolve([]),
  ])
  const cases = new Map(hotline.map((h) => [h.companyId, h]))
  return figs.map((f) => {
    const h = cases.get(f.companyId)
    return { companyId: f.companyId, name: f.name, alerts: f.alerts, score: score(f, weights, h && { due: h.due, onTime: h.onTime, satisfactionMean: h.satisfactionMean }) }
  })
}

/** The stored versions and the built-in one, read once per request. */
export async function scoringOf(db: Db, settings: { weights: Weights; hotlineDeadlineMs: number }): Promise<Scoring> {
  return { versions: (await listWeightsVersions(db)).map(fromStored), builtIn: builtInVersion(settings.weights), hotlineDeadlineMs: settings.hotlineDeadlineMs }
}
