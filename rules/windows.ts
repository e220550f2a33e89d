// How much recent history a rule needs replayed after a restart to rebuild its state.
import type { RuleDefinition } from './definitions.ts'

/** Replay never reaches further back than this, whatever a rule asks. */
const MAX_REPLAY_MS = 6 * 3_600_000
/** A little more than the rule's own span, so the first sample of the span is included. */
const MARGIN_MS = 60_000

export function replayWindowMs(rule: RuleDefinition): number {
  const span = (() => {
    switch (rule.type) {
      case 'threshold':
        return rule.params.for + (rule.params.clear?.for ?? 0)
      case 'count':
      case 'rate':
      case 'forecast':
        return rule.params.window
      case 'nodata':
        // No-data rules start from each device's last report (the latest table), not a replay.
        return 0
    }
  })()
  const flapping = rule.flapping?.window ?? 0
  return Math.min(Math.max(span, flapping) + MARGIN_MS, MAX_REPLAY_MS)
}
