// Escalation policies as data, one per severity — the housing office's, and a company's own where
// it set one (that wins for its alerts) — validated like rules are. A policy's steps are
// paged in turn: step 1 when the alert is raised (or leaves a maintenance window), step 2 when its
// acknowledge deadline passes, step 3 at the next escalation (the first reminder), and every
// further reminder pages the last step again until someone acknowledges — acknowledging stops
// the chain (pending pages are cancelled). A missed resolve deadline pages nobody more: an
// unacknowledged alert is already being chased by its reminders, an acknowledged one is in hand.
//
// Quiet hours hold minor and warning pages until they end (held, never dropped); a critical
// policy cannot have quiet hours at all — the schema refuses it.
import { z } from 'zod'
import type { Severity } from '../shared/domain.ts'
import { fromLocal, isTimezone, toLocal } from './rota.ts'

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24 h)')
const timezone = z.string().refine(isTimezone, 'expected an IANA time zone such as Asia/Shanghai')

export const ROTA_ROLES = ['crew', 'manager', 'duty'] as const
export type RotaRole = (typeof ROTA_ROLES)[number]

export const stepSchema = z.object({
  /** Whose on-call person: the dispatched company's crew or manager rota, or the office's duty rota. */
  rota: z.enum(ROTA_ROLES),
  /** Also post to the owner's group-chat bots (WeCom, DingTalk, Feishu channels). */
  bots: z.boolean().default(false),
})

export const policySchema = z.object({
  steps: z.array(stepSchema).min(1).max(5),
  quietHours: z.object({ from: hhmm, to: hhmm, timezone: timezone.default('Asia/Shanghai') }).nullable().default(null),
})
export type Policy = z.infer<typeof policySchema>

/**
 * Validates a policy for a severity. `owner` is the company whose own policy it is, or null for the
 * housing office's. A company's policy may reorder or drop its own steps and move its quiet hours,
 * but must still reach the housing office's duty officer: the office supervises the companies, and
 * an alert nobody acknowledges must not stay inside the company that is not acknowledging it.
 */
export function parsePolicy(severity: Severity, definition: unknown, owner: string | null = null): Policy {
  const policy = policySchema.parse(definition)
  const refuse = (path: string, message: string, input: unknown) => new z.ZodError([{ code: 'custom', path: [path], message, input }])
  if (severity === 'critical' && policy.quietHours) throw refuse('quietHours', 'a critical alert is never held back: quiet hours are not allowed', policy.quietHours)
  if (owner !== null && !policy.steps.some((s) => s.rota === 'duty')) {
    throw refuse('steps', "a company's policy must keep a step with rota \"duty\" (the housing office's duty officer)", policy.steps)
  }
  return policy
}

const LADDER: Policy['steps'] = [
  { rota: 'crew', bots: true },
  { rota: 'manager', bots: false },
  { rota: 'duty', bots: false },
]

export const DEFAULT_POLICIES: Record<Severity, Policy> = {
  critical: { steps: LADDER, quietHours: null },
  major: { steps: LADDER, quietHours: null },
  minor: { steps: LADDER, quietHours: { from: '22:00', to: '07:00', timezone: 'Asia/Shanghai' } },
  warning: { steps: LADDER, quietHours: { from: '22:00', to: '07:00', timezone: 'Asia/Shanghai' } },
}

/** Step index (0-based) an alert event pages, or undefined when the event pages nobody. */
export function stepFor(type: string, deadline: unknown, reminders: number, steps: number): number | undefined {
  switch (type) {
    case 'raised':
    case 'unsilenced':
      return 0
    case 'escalated':
      return deadline === 'acknowledge' ? Math.min(1, steps - 1) : undefined
    case 'reminded':
      // The first reminder is step 3; later ones repeat the last step.
      return Math.min(1 + reminders, steps - 1)
    default:
      return undefined
  }
}

/** When quiet hours hold a page sent at `at`: their end, else undefined (send now). */
export function quietUntil(policy: Policy, at: Date): Date | undefined {
  const q = policy.quietHours
  if (!q) return undefined
  const minutes = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3))
  const local = toLocal(q.timezone, at.getTime())
  const dayStart = local - (((local % 86_400_000) + 86_400_000) % 86_400_000)
  const now = (local - dayStart) / 60_000
  const from = minutes(q.from)
  const to = minutes(q.to)
  const inside = from <= to ? now >= from && now < to : now >= from || now < to
  if (!inside) return undefined
  // The end is today's `to` when it is still ahead, else tomorrow's.
  const end = dayStart + to * 60_000 + (now < to ? 0 : 86_400_000)
  return new Date(fromLocal(q.timezone, end))
}
