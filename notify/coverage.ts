// Coverage: whether a page for a company's rota reaches a person now. A company without a crew or
// manager rota, a rota with nobody on call (no members, or before its first hand-over), or an
// on-call person no enabled channel reaches would page nobody; such a company's pages go to the
// housing office's duty officer at once instead, until it is covered (notify/outbox.ts), and the
// office sees the gap (GET /api/v1/rotas/coverage, hb_notify_uncovered_companies).
import type { Queryable } from '../core/db/client.ts'
import { overridesBetween, reachableContacts, rotaOf } from '../core/repos/notify-setup.ts'
import { listCompanies } from '../core/repos/registry.ts'
import type { RotaRole } from './policy.ts'
import { onCallAt } from './rota.ts'

export type CoverageGap = 'no_rota' | 'nobody_on_call' | 'no_contact'

export interface Cover {
  /** The person on call, when there is one. */
  userId?: string
  /** Their most preferred contact point an enabled channel reaches. */
  contact?: { channelId: string; address: string; locale: 'zh-CN' | 'en' }
  /** Why a page would reach nobody; undefined when it reaches `contact`. */
  gap?: CoverageGap
}

/** Who a page of `owner`'s `role` rota reaches at `at` (overrides included), or why nobody. */
export async function coverOf(db: Queryable, owner: string | null, role: RotaRole, at: Date): Promise<Cover> {
  const rota = await rotaOf(db, owner, role)
  if (!rota) return { gap: 'no_rota' }
  const shift = onCallAt(rota, await overridesBetween(db, rota.id, at, new Date(at.getTime() + 1)), at)
  if (!shift) return { gap: 'nobody_on_call' }
  const [first] = await reachableContacts(db, shift.userId)
  if (!first) return { userId: shift.userId, gap: 'no_contact' }
  return { userId: shift.userId, contact: { channelId: first.channelId, address: first.address, locale: first.locale } }
}

/** The company rotas a policy pages (the office's duty rota is the fall-back itself). */
export const COMPANY_ROLES = ['crew', 'manager'] as const satisfies readonly RotaRole[]

export interface CompanyCoverage {
  companyId: string
  companyName: string
  roles: Record<(typeof COMPANY_ROLES)[number], Cover>
  /** Some company rota would page nobody: its pages go to the office's duty officer. */
  uncovered: boolean
}

/** Every company's coverage at `at` (one company with `companyId`), uncovered ones first. */
export async function companyCoverage(db: Queryable, at: Date, companyId?: string): Promise<CompanyCoverage[]> {
  const out: CompanyCoverage[] = []
  for (const company of await listCompanies(db, companyId)) {
    const [crew, manager] = await Promise.all(COMPANY_ROLES.map((role) => coverOf(db, company.id, role, at)))
    const roles = { crew: crew ?? { gap: 'no_rota' as const }, manager: manager ?? { gap: 'no_rota' as const } }
    out.push({ companyId: company.id, companyName: company.name, roles, uncovered: COMPANY_ROLES.some((r) => roles[r].gap !== undefined) })
  }
  return out.sort((a, b) => Number(b.uncovered) - Number(a.uncovered) || a.companyName.localeCompare(b.companyName))
}
