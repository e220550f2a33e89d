// The evaluator factory: one stateful evaluator per (rule, device), with the device's parameter
// overrides applied and, when the rule asks for it, flapping detection around it.
import { paramsFor, type RuleDefinition } from '../definitions.ts'
import { withFlapping } from './flapping.ts'
import { CountEvaluator } from './count.ts'
import { ForecastEvaluator } from './forecast.ts'
import { NodataEvaluator } from './nodata.ts'
import { RateEvaluator } from './rate.ts'
import type { Evaluator, EvaluatorContext } from './shared.ts'
import { ThresholdEvaluator } from './threshold.ts'

export type { Evaluator, EvaluatorContext, Outcome, OutcomeDetail, Sample } from './shared.ts'

export function createEvaluator(rule: RuleDefinition, deviceId: string, ctx: EvaluatorContext): Evaluator {
  const inner = build(rule, deviceId, ctx)
  return rule.flapping === undefined ? inner : withFlapping(inner, rule.flapping)
}

function build(rule: RuleDefinition, deviceId: string, ctx: EvaluatorContext): Evaluator {
  switch (rule.type) {
    case 'threshold':
      return new ThresholdEvaluator(rule.id, deviceId, paramsFor(rule, deviceId))
    case 'count':
      return new CountEvaluator(rule.id, deviceId, paramsFor(rule, deviceId))
    case 'rate':
      return new RateEvaluator(rule.id, deviceId, paramsFor(rule, deviceId))
    case 'nodata':
      return new NodataEvaluator(rule.id, deviceId, paramsFor(rule, deviceId), ctx)
    case 'forecast':
      return new ForecastEvaluator(rule.id, deviceId, paramsFor(rule, deviceId))
  }
}
