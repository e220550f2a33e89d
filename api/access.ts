// Who may see and do what: every visibility and role check of the API, in one place.
//
// The rule throughout: the office (admin, operator) sees the whole district; a crew member sees
// their own company's things; a resident their own community's (and of a hazard report, only
// their own); a service (the rules engine, Node-RED) reports and reads telemetry. Something the
// caller may not see is reported as not found, not forbidden, so its existence does not leak; a
// role that has no business with a route at all gets 403.
import type { FastifyRequest } from 'fastify'
import type { Queryable } from '../core/db/client.ts'
import { AppError } from '../core/errors.ts'
import type { Alert } from '../core/repos/alerts.ts'
import { isCompanyManager } from '../core/repos/notify-setup.ts'
import { communityInStreet, companyInStreet } from '../core/repos/streets.ts'
import type { Role } from '../shared/domain.ts'
import type { Principal } from '../core/repos/tokens.ts'

/** Roles that see the whole district (everything, every company). */
export const OFFICE: readonly Role[] = ['admin', 'operator']

/** The principal of an authenticated request (the auth hook guarantees one under /api). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('unauthorized')
  return req.principal
}

/** Throws `forbidden` unless the caller has one of the roles. */
export function requireRole(req: FastifyRequest, ...roles: Role[]): Principal {
  const p = principalOf(req)
  if (!roles.includes(p.role)) throw new AppError('forbidden', `This action needs the role ${roles.join(' or ')}; you are ${p.role}`)
  return p
}

/** The company a caller is confined to: a crew member's own; undefined for everyone else. */
export function companyScope(p: Principal): string | undefined {
  return p.role === 'crew' ? (p.companyId ?? '') : undefined
}

/** The street a caller is confined to: a street officer's own; undefined for everyone else. */
export function streetScope(p: Principal): string | undefined {
  return p.role === 'street_officer' ? (p.streetId ?? '') : undefined
}

/** Throws `notFound` when a street officer asks about a community outside their street (everyone else passes). */
export async function mustBeInStreet(db: Queryable, p: Principal, communityId: string | null, notFound: AppError): Promise<void> {
  const street = streetScope(p)
  if (street !== undefined && (communityId === null || !(await communityInStreet(db, communityId, street)))) throw notFound
}

/** Throws `notFound` when a street officer asks about a company looking after no community of their street. */
export async function mustBeCompanyOfStreet(db: Queryable, p: Principal, companyId: string, notFound: AppError): Promise<void> {
  const street = streetScope(p)
  if (street !== undefined && !(await companyInStreet(db, companyId, street))) throw notFound
}

/**
 * Visibility of something that belongs to a company: the office and services see everything, a
 * crew member only their own company's; anyone else's is `notFound`, a role not in `roles` 403.
 */
export function mustSeeCompany(p: Principal, companyId: string | null, notFound: AppError, roles: readonly Role[] = ['admin', 'operator', 'crew', 'service']): void {
  if (!roles.includes(p.role)) throw new AppError('forbidden', `This needs the role ${roles.join(' or ')}; you are ${p.role}`)
  if (p.role === 'crew' && companyId !== p.companyId) throw notFound
}

/** A device, if the caller may see it; another company's device is "not found" to a crew member. */
export function mustSeeDevice<D extends { companyId: string | null }>(p: Principal, d: D | undefined, id: string): D {
  const notFound = new AppError('device_not_found', `No device "${id}"`)
  if (!d) throw notFound
  mustSeeCompany(p, d.companyId, notFound)
  return d
}

/** A device as mustSeeDevice has it, and to a street officer only one of their street's communities. */
export async function mustSeeDeviceOfStreet<D extends { companyId: string | null; communityId: string }>(db: Queryable, p: Principal, d: D | undefined, id: string): Promise<D> {
  if (p.role !== 'street_officer') return mustSeeDevice(p, d, id)
  const notFound = new AppError('device_not_found', `No device "${id}"`)
  if (!d) throw notFound
  await mustBeInStreet(db, p, d.communityId, notFound)
  return d
}

/** An alert as mustSeeAlert has it, and to a street officer only one of their street's communities. */
export async function mustSeeAlertOfStreet(db: Queryable, p: Principal, alert: Alert | undefined, id: number): Promise<Alert> {
  const a = mustSeeAlert(p, alert, id)
  await mustBeInStreet(db, p, a.communityId, new AppError('not_found', `No alert ${id}`))
  return a
}

/** An alert, if the caller may see it: a crew member their company's, a resident their community's. */
export function mustSeeAlert(p: Principal, alert: Alert | undefined, id: number): Alert {
  const scope = companyScope(p)
  // A resident sees their own reports and what the office made public for their community.
  const hiddenFromResident = p.role === 'resident' && (alert?.communityId !== p.communityId || !(alert.public || ownReport(p, alert)))
  if (!alert || (scope !== undefined && alert.companyId !== scope) || hiddenFromResident) {
    throw new AppError('not_found', `No alert ${id}`)
  }
  return alert
}

/**
 * What an alert list is confined to: a crew member's company, a street officer's street, a resident's own reports and the
 * public alerts of their community (the office and services: what the query names). Null when the query names another company or community
 * than the caller's own: nothing there is theirs to see, so the list is empty.
 */
export function alertListScope(
  p: Principal,
  q: { company?: string | undefined; community?: string | undefined },
): { companyId: string | undefined; communityId: string | undefined; residentView: string | undefined; streetId: string | undefined } | null {
  const scope = companyScope(p)
  if (scope !== undefined && q.company !== undefined && q.company !== scope) return null
  if (p.role === 'resident' && q.community !== undefined && q.community !== p.communityId) return null
  const resident = p.role === 'resident'
  return { companyId: scope ?? q.company, communityId: resident ? (p.communityId ?? '') : q.community, residentView: resident ? p.name : undefined, streetId: streetScope(p) }
}

/** A resident's own hazard report: the one alert whose private parts (where, photos) are theirs. */
export function ownReport(p: Principal, a: Alert): boolean {
  return a.reportedBy !== null && a.reportedBy === p.name
}

/**
 * The photos of an alert: whoever sees the alert, except that a resident sees only those of
 * their own report (another resident's picture is theirs).
 */
export function mustSeePhotos(p: Principal, alert: Alert | undefined, id: number): Alert {
  const a = mustSeeAlert(p, alert, id)
  if (p.role === 'resident' && !ownReport(p, a)) throw new AppError('not_found', `No photos of alert ${id}`)
  return a
}

/** A property company's own record: the office sees every company, a crew member only their own. */
export function mustSeeCompanyRecord<C>(p: Principal, c: C | undefined, id: string): C {
  if (!c || (p.role === 'crew' && p.companyId !== id)) throw new AppError('not_found', `No company "${id}"`)
  return c
}

/** A community a resident speaks for (feedback, a hazard report): their own; the office any. */
export function mustSpeakFor<C extends { id: string }>(p: Principal, c: C | undefined, id: string): C {
  if (!c || (p.role === 'resident' && c.id !== p.communityId)) throw new AppError('not_found', `No community "${id}"`)
  return c
}

/** Who may see a community: the office, a crew of the company looking after it, a resident of it, an officer of its street. */
export function mustSeeCommunity<C extends { id: string; companyId: string | null; streetId?: string | null }>(p: Principal, c: C | undefined, id: string): C {
  const notFound = new AppError('not_found', `No community "${id}"`)
  if (!c) throw notFound
  if (p.role === 'service') throw new AppError('forbidden', 'Services do not read the registry')
  if (p.role === 'street_officer' && c.streetId !== p.streetId) throw notFound
  if ((p.role === 'crew' && c.companyId !== p.companyId) || (p.role === 'resident' && c.id !== p.communityId)) throw notFound
  return c
}

// ---- Notification setup ----------------------------------------------------------------------
// The office changes any owner's; a company's manager — a crew member on that company's manager
// rota — only their own company's.

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
