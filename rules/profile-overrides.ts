// A device profile's rule overrides (core/profiles/schema.ts `ruleOverrides`: the manufacturer's
// tilt alarm angle, …) applied to the devices of that profile. Precedence, most specific first:
// the rule's own override for the device, then the profile's, then the rule's params. A profile
// override that does not fit the rule (a field the rule type lacks, a bad value) is logged once
// per load and ignored, so a wrong profile never stops the rule from watching its devices.
//
// The expected report interval needs nothing here: a device given a profile takes the profile's
// interval as its own expected interval (api/routes/device-admin.ts), which the no-data rules read.
import type { StoredProfile } from '../core/repos/profiles.ts'
import { profileSchema } from '../core/profiles/schema.ts'
import type { Logger } from '../core/log.ts'
import { ruleDefinitionSchema, type RuleDefinition } from './definitions.ts'

/** The placeholder device id under which a profile's override is validated as a rule override. */
const CHECKED_AS = 'profile'

export class ProfileOverrides {
  /** profile id → rule id → the validated override (durations in ms). */
  private byProfile = new Map<string, Map<string, Record<string, unknown>>>()
  /** profile id → rule id → its text, for noticing a change. */
  private text = new Map<string, Map<string, string>>()

  constructor(private readonly log: Logger) {}

  load(profiles: readonly StoredProfile[], rules: readonly RuleDefinition[]): void {
    const byId = new Map(rules.map((r) => [r.id, r]))
    const byProfile = new Map<string, Map<string, Record<string, unknown>>>()
    const text = new Map<string, Map<string, string>>()
    for (const stored of profiles) {
      const parsed = profileSchema.safeParse(stored.definition)
      if (!parsed.success) continue
      const checked = new Map<string, Record<string, unknown>>()
      const texts = new Map<string, string>()
      for (const [ruleId, override] of Object.entries(parsed.data.ruleOverrides)) {
        const rule = byId.get(ruleId)
        if (!rule) continue
        const candidate = ruleDefinitionSchema.safeParse({ ...rule, overrides: { [CHECKED_AS]: override } })
        const valid = candidate.success ? candidate.data.overrides?.[CHECKED_AS] : undefined
        if (!valid) {
          const issues = candidate.success ? [] : candidate.error.issues.slice(0, 3).map((i) => i.message)
          this.log.warn({ profileId: stored.id, ruleId, issues }, "a profile's rule override does not fit the rule; ignored")
          continue
        }
        checked.set(ruleId, valid)
        texts.set(ruleId, JSON.stringify(valid))
      }
      byProfile.set(stored.id, checked)
      text.set(stored.id, texts)
    }
    this.byProfile = byProfile
    this.text = text
  }

  /** What the profile changes in the rule, as text ('' for nothing). */
  signature(profileId: string | null, ruleId: string): string {
    return profileId === null ? '' : (this.text.get(profileId)?.get(ruleId) ?? '')
  }

  /** The rule as it applies to this device: the profile's override under the device's own. */
  apply(rule: RuleDefinition, device: { id: string; profileId: string | null }): RuleDefinition {
    const fromProfile = device.profileId === null ? undefined : this.byProfile.get(device.profileId)?.get(rule.id)
    if (!fromProfile) return rule
    const own: object = rule.overrides?.[device.id] ?? {}
    // Same rule type on both sides: the override was validated against this very rule.
    return { ...rule, overrides: { ...rule.overrides, [device.id]: { ...fromProfile, ...own } } } as RuleDefinition
  }
}
