// A company's 12345 hotline figures as the API reports them (the evaluation and the company's case
// list): part of the score only when the weights version in force weighs them (alerts/weights.ts) —
// docs/operators.md "Hotline cases" states each formula, the schema's descriptions say the same.
import { z } from 'zod'
import type { HotlineFigures } from '../../core/repos/hotline.ts'

export const hotlineSchema = z
  .object({
    cases: z.number().int().describe('12345 cases received in the period in the communities the company looked after when each was received'),
    communities: z.number().int().describe('Communities the company looks after now'),
    perCommunity: z.number().nullable().describe('cases ÷ communities; null without communities'),
    perThousandHouseholds: z.number().nullable().describe('cases × 1,000 ÷ households; null while the registry records no household counts (it does not yet)'),
    handled: z.number().int().describe('Cases with a time handled'),
    due: z.number().int().describe('Cases handled, or whose handling deadline (HOTLINE_HANDLE_DEADLINE from receipt) has passed'),
    onTime: z.number().int().describe('Cases handled within the deadline'),
    onTimeShare: z.number().nullable().describe('onTime ÷ due, 0–1; null when nothing is due'),
    deadlineS: z.number().describe('The handling deadline in seconds (HOTLINE_HANDLE_DEADLINE)'),
    satisfaction: z.object({
      mean: z.number().nullable().describe("Mean of the citizens' ratings (1–5) of the rated cases; null without one"),
      raters: z.number().int().describe('Cases the citizen rated: one citizen a case'),
    }),
  })
  .describe('12345 hotline cases received in the period; part of the score when the weights version in force weighs hotlineOnTime or hotlineSatisfaction')

export type HotlineFiguresOut = z.infer<typeof hotlineSchema>

const NONE: Omit<HotlineFigures, 'companyId'> = { cases: 0, communities: 0, handled: 0, due: 0, onTime: 0, satisfactionMean: null, rated: 0 }

export function shapeHotline(f: Omit<HotlineFigures, 'companyId'> | undefined, deadlineMs: number): HotlineFiguresOut {
  const h = f ?? NONE
  return {
    cases: h.cases,
    communities: h.communities,
    perCommunity: h.communities > 0 ? h.cases / h.communities : null,
    perThousandHouseholds: null,
    handled: h.handled,
    due: h.due,
    onTime: h.onTime,
    onTimeShare: h.due > 0 ? h.onTime / h.due : null,
    deadlineS: deadlineMs / 1000,
    satisfaction: { mean: h.satisfactionMean, raters: h.rated },
  }
}
