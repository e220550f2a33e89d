// Who may change the notification setup of an owner: the housing office (admin, operator) any
// owner's; a company's manager — a crew member on that company's manager rota — only their own
// company's. Everything else of another company is reported as not found, as alerts are.
import type { Queryable } from '../core/db/client.ts'
import { AppError } from '../core/errors.ts'
import { isCompanyManager } from '../core/repos/notify-setup.ts'
import type { Principal } from '../core/repos/tokens.ts'

const OFFICE = ['admin', 'operator']

/** Throws unless `p` manages `owner` (a company id, or null for the housing office). */
export async function mustManage(db: Queryable, p: Principal, owner: string | null, what: string): Promise<void> {
  if (OFFICE.includes(p.role)) return
  if (p.role !== 'crew') throw new AppError('forbidden', `Managing ${what} needs the role admin or operator, or a company manager; you are ${p.role}`)
  if (owner !== p.companyId) throw new AppError('not_found', `No ${what} here`)
  if (!p.companyId || !(await isCompanyManager(db, p.userId, p.companyId))) {
    throw new AppError('forbidden', `Only your company's managers (its manager rota) manage its ${what}`)
  }
}

/** Throws unless `p` may read what belongs to `owner`: the office everything, crew their own company's and the office's. */
export function mustRead(p: Principal, owner: string | null, what: string): void {
  if (OFFICE.includes(p.role) || p.role === 'service') return
  if (p.role !== 'crew') throw new AppError('forbidden', `Reading ${what} needs the role admin, operator or crew; you are ${p.role}`)
  if (owner !== null && owner !== p.companyId) throw new AppError('not_found', `No ${what} here`)
}
