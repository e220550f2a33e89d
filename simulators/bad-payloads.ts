// Deliberately wrong payloads, one of each kind the ingest must dead-letter with a reason
// (see REJECT_REASONS in core/contract.ts), so that path gets exercised end to end.
import { METRICS, type DeviceKind, type MetricSpec, type TelemetryEntry } from '../core/contract.ts'
import type { Rng } from './rng.ts'

export const BAD_VARIANTS = ['malformed_json', 'out_of_range', 'unknown_metric'] as const
export type BadVariant = (typeof BAD_VARIANTS)[number]

/** A metric name no catalogue has. */
export const UNKNOWN_METRIC = 'bogus_metric'

type Values = TelemetryEntry['values']

/** `values` with one metric pushed outside its physical range, or with an unknown metric added. */
export function corruptValues(kind: DeviceKind, values: Values, variant: Exclude<BadVariant, 'malformed_json'>, rng: Rng): Values {
  if (variant === 'unknown_metric') return { ...values, [UNKNOWN_METRIC]: rng.int(0, 100) }
  const specs: Record<string, MetricSpec> = METRICS[kind]
  const numeric = Object.entries(specs).filter(([, spec]) => spec.boolean !== true)
  const [metric, spec] = rng.pick(numeric)
  // A full range beyond either end: no rounding or tolerance can bring it back in.
  const span = spec.max - spec.min
  const value = rng.chance(0.5) ? spec.max + span + 1 : spec.min - span - 1
  return { ...values, [metric]: value }
}

/** A device telemetry payload that the ingest must reject, of a randomly chosen variant. */
export function badDevicePayload(kind: DeviceKind, entry: TelemetryEntry, rng: Rng): { payload: string; variant: BadVariant } {
  const variant = rng.pick(BAD_VARIANTS)
  if (variant === 'malformed_json') return { payload: truncate(JSON.stringify(entry)), variant }
  return { payload: JSON.stringify({ ...entry, values: corruptValues(kind, entry.values, variant, rng) }), variant }
}

/** Cut in the middle: an object missing its closing brace is never valid JSON. */
export function truncate(json: string): string {
  return json.slice(0, Math.max(1, Math.floor(json.length / 2)))
}
