// A weights version as the API shows it (GET /api/v1/evaluation/weights, and the ranking's
// `scoring`): its weights and the formula in words.
import { z } from 'zod'
import { SCORE_COMPONENTS } from '../../alerts/score.ts'
import { formula, type WeightsVersion } from '../../alerts/weights.ts'
import { timestamp } from '../schemas.ts'

export const versionSchema = z.object({
  version: z.number().int().describe('0 is the built-in version (EVAL_WEIGHTS), in force until the first stored one'),
  effectiveFrom: timestamp,
  weights: z.object(Object.fromEntries(SCORE_COMPONENTS.map((c) => [c, z.number()])) as Record<(typeof SCORE_COMPONENTS)[number], z.ZodNumber>),
  formula: z.string().describe('The score of this version in words'),
  note: z.string(),
  createdBy: z.string().nullable(),
  createdAt: timestamp.nullable(),
})

export const shapeVersion = (v: WeightsVersion): z.infer<typeof versionSchema> => ({ ...v, formula: formula(v.weights) })

