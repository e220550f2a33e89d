// Weights as data (issue 22): the score's components and their weights are a versioned
// configuration. Versions are immutable and each takes effect from a date; a period is scored by the
// version in force at the period's start, so a period never mixes two formulas and a change of
// weights never re-scores a period that began before it. Version 0 is built in: the weights of
// EVAL_WEIGHTS (default 0.25/0.25/0.15/0.15/0.20, no hotline weight), in force until the first
// stored version, so a district that never stores one keeps exactly today's scores.
import { z } from 'zod'
import { SCORE_COMPONENTS, type ScoreComponent, type ScoreWeights, type Weights } from './score.ts'

/** How far a sum of weights may stray from 1 (decimal fractions such as 0.1 + 0.2 do not add up exactly). */
const SUM_TOLERANCE = 1e-6

const weight = z.number().min(0, 'must be 0 or more').max(1, 'must be 1 or less')

/** The weights of a new version: known components only, each 0–1, summing to 1. */
export const weightsSchema = z
  .record(z.string(), z.unknown())
  .superRefine((w, ctx) => {
    for (const [k, v] of Object.entries(w)) {
      if (!(SCORE_COMPONENTS as readonly string[]).includes(k)) {
        ctx.addIssue({ code: 'custom', path: [k], message: `not a component; the components are ${SCORE_COMPONENTS.join(', ')}` })
        continue
      }
      const parsed = weight.safeParse(v)
      if (!parsed.success) ctx.addIssue({ code: 'custom', path: [k], message: typeof v === 'number' ? (parsed.error.issues[0]?.message ?? 'invalid') : 'must be a number from 0 to 1' })
    }
  })
  .transform((w, ctx) => {
    const out = Object.fromEntries(SCORE_COMPONENTS.map((k) => [k, typeof w[k] === 'number' ? w[k] : 0])) as ScoreWeights
    const sum = SCORE_COMPONENTS.reduce((s, k) => s + out[k], 0)
    if (Math.abs(sum - 1) > SUM_TOLERANCE) {
      ctx.addIssue({ code: 'custom', message: `the weights must add up to 1; these add up to ${Math.round(sum * 1e6) / 1e6} (a component not named weighs 0)` })
      return z.NEVER
    }
    return out
  })

export const newVersionSchema = z.object({
  effectiveFrom: z.iso
    .datetime({ offset: true, error: 'expected a time with its offset, e.g. 2026-07-01T00:00:00+08:00' })
    .refine((t) => Date.parse(t) >= 0, 'must not be before 1970')
    .transform((t) => new Date(t))
    .describe('When the version takes effect: it scores every period that starts then or later, until a later version takes effect'),
  weights: weightsSchema,
  note: z.string().trim().min(1).max(500).describe('Why the weights change, e.g. the assessment notice it follows'),
})

/** The body's problems as one message, each with the field to fix (the rules' wording). */
export function weightsProblems(input: unknown): { ok: true; value: z.infer<typeof newVersionSchema> } | { ok: false; message: string } {
  const parsed = newVersionSchema.safeParse(input)
  if (parsed.success) return { ok: true, value: parsed.data }
  // The rules' wording (rules/definitions.ts describeIssues): the field, then what to fix.
  return { ok: false, message: parsed.error.issues.map((i) => `body${i.path.map((k) => `.${String(k)}`).join('')}: ${i.message}`).join('; ') }
}

export interface WeightsVersion {
  version: number
  effectiveFrom: Date
  weights: ScoreWeights
  note: string
  createdBy: string | null
  createdAt: Date | null
}

/** A stored version, its weights filled out: a component added after it was made weighs 0 in it. */
export function fromStored(v: Omit<WeightsVersion, 'weights'> & { weights: Record<string, number> }): WeightsVersion {
  return { ...v, weights: Object.fromEntries(SCORE_COMPONENTS.map((k) => [k, v.weights[k] ?? 0])) as ScoreWeights }
}

/** Version 0: EVAL_WEIGHTS (or the defaults), no hotline weight, in force from the beginning. */
export function builtInVersion(weights: Weights): WeightsVersion {
  const all = Object.fromEntries(SCORE_COMPONENTS.map((k) => [k, (weights as Partial<ScoreWeights>)[k] ?? 0])) as ScoreWeights
  return { version: 0, effectiveFrom: new Date(0), weights: all, note: 'built in (EVAL_WEIGHTS)', createdBy: null, createdAt: null }
}

/** The version in force at `at`: the newest whose effectiveFrom is not after it. `versions` newest first. */
export function versionAt(versions: readonly WeightsVersion[], builtIn: WeightsVersion, at: Date): WeightsVersion {
  return versions.find((v) => v.effectiveFrom.getTime() <= at.getTime()) ?? builtIn
}

/**
 * The formula in words, as the API and the console state it: 100 × Σ wᵢ·cᵢ ÷ Σ wᵢ over the
 * components with a weight that the company has data for, rounded to 0.1.
 */
export function formula(weights: ScoreWeights): string {
  const terms = SCORE_COMPONENTS.filter((k) => weights[k] > 0).map((k) => `${weights[k]}·${k}`)
  return `score = 100 × (${terms.join(' + ')}) ÷ (sum of the weights of the components with data), rounded to 0.1`
}

export type { ScoreComponent }
