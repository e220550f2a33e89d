// SQL for the registry: property companies, communities and which company looks after which
// community when (the assignment history).
import type { Queryable } from '../db/client.ts'

export interface Company {
  id: string
  name: string
  contact: string | null
  createdAt: Date
}

export interface Community extends CommunityFields {
  id: string
  streetId: string | null
  companyId: string | null
  createdAt: Date
}

export interface Assignment {
  id: number
  communityId: string
  companyId: string
  startsAt: Date
  endsAt: Date | null
  assignedBy: string
  note: string | null
}

const COMPANY_COLUMNS = `id, name, contact, created_at AS "createdAt"`
const COMMUNITY_COLUMNS = `id, name, district, street, street_id AS "streetId", address, lat, lon, company_id AS "companyId", created_at AS "createdAt"`
const ASSIGNMENT_COLUMNS = `id, community_id AS "communityId", company_id AS "companyId", starts_at AS "startsAt",
  ends_at AS "endsAt", assigned_by AS "assignedBy", note`

/** `companyId` confines the list to one company (a crew member's); `streetId` to those looking after a community of the street. */
export async function listCompanies(db: Queryable, companyId?: string, streetId?: string): Promise<Company[]> {
  return db.query<Company>(
    `SELECT ${COMPANY_COLUMNS} FROM property_companies p WHERE ($1::text IS NULL OR id = $1)
       AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM communities c WHERE c.company_id = p.id AND c.street_id = $2)) ORDER BY name`,
    [companyId ?? null, streetId ?? null],
  )
}

export async function getCompany(db: Queryable, id: string): Promise<Company | undefined> {
  const [row] = await db.query<Company>(`SELECT ${COMPANY_COLUMNS} FROM property_companies WHERE id = $1`, [id])
  return row
}

export async function createCompany(db: Queryable, c: { id: string; name: string; contact: string | null }): Promise<Company> {
  const [row] = await db.query<Company>(
    `INSERT INTO property_companies (id, name, contact) VALUES ($1, $2, $3) RETURNING ${COMPANY_COLUMNS}`,
    [c.id, c.name, c.contact],
  )
  if (!row) throw new Error('insert returned no company')
  return row
}

export async function updateCompany(db: Queryable, id: string, c: { name?: string | undefined; contact?: string | null | undefined }): Promise<Company | undefined> {
  const [row] = await db.query<Company>(
    `UPDATE property_companies SET name = COALESCE($2, name), contact = CASE WHEN $4 THEN $3 ELSE contact END
     WHERE id = $1 RETURNING ${COMPANY_COLUMNS}`,
    [id, c.name ?? null, c.contact ?? null, c.contact !== undefined],
  )
  return row
}

export async function listCommunities(db: Queryable, f: { companyId?: string | undefined; district?: string | undefined; streetId?: string | undefined }): Promise<Community[]> {
  return db.query<Community>(
    `SELECT ${COMMUNITY_COLUMNS} FROM communities
     WHERE ($1::text IS NULL OR company_id = $1) AND ($2::text IS NULL OR district = $2) AND ($3::text IS NULL OR street_id = $3) ORDER BY name`,
    [f.companyId ?? null, f.district ?? null, f.streetId ?? null],
  )
}

export async function getCommunity(db: Queryable, id: string): Promise<Community | undefined> {
  const [row] = await db.query<Community>(`SELECT ${COMMUNITY_COLUMNS} FROM communities WHERE id = $1`, [id])
  return row
}

export interface CommunityFields {
  name: string
  district: string | null
  street: string | null
  /** The street (街道/镇) it belongs to; null until the office sets it. */
  streetId?: string | null
  address: string | null
  lat: number | null
  lon: number | null
}

export async function createCommunity(db: Queryable, id: string, c: CommunityFields): Promise<Community> {
  const [row] = await db.query<Community>(
    `INSERT INTO communities (id, name, district, street, address, lat, lon, street_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     RETURNING ${COMMUNITY_COLUMNS}`,
    [id, c.name, c.district, c.street, c.address, c.lat, c.lon, c.streetId ?? null],
  )
  if (!row) throw new Error('insert returned no community')
  return row
}

export async function updateCommunity(db: Queryable, id: string, c: Partial<CommunityFields>): Promise<Community | undefined> {
  const current = await getCommunity(db, id)
  if (!current) return undefined
  const given: [string, unknown][] = Object.entries(c)
  const next = { ...current, ...Object.fromEntries(given.filter(([, v]) => v !== undefined)) }
  const [row] = await db.query<Community>(
    `UPDATE communities SET name = $2, district = $3, street = $4, address = $5, lat = $6, lon = $7, street_id = $8 WHERE id = $1
     RETURNING ${COMMUNITY_COLUMNS}`,
    [id, next.name, next.district, next.street, next.address, next.lat, next.lon, next.streetId ?? null],
  )
  return row
}

/**
 * Hands a community to a company from now on: the current assignment ends, a new one starts, and
 * the community's current company changes. Alerts already raised keep the company they were
 * dispatched to.
 */
export async function assignCommunity(db: Queryable, communityId: string, companyId: string, by: string, note: string | null): Promise<Assignment> {
  await db.query('UPDATE community_assignments SET ends_at = now() WHERE community_id = $1 AND ends_at IS NULL', [communityId])
  const [row] = await db.query<Assignment>(
    `INSERT INTO community_assignments (community_id, company_id, assigned_by, note) VALUES ($1, $2, $3, $4)
     RETURNING ${ASSIGNMENT_COLUMNS}`,
    [communityId, companyId, by, note],
  )
  await db.query('UPDATE communities SET company_id = $2 WHERE id = $1', [communityId, companyId])
  if (!row) throw new Error('insert returned no assignment')
  return row
}

export async function assignmentHistory(db: Queryable, communityId: string): Promise<Assignment[]> {
  return db.query<Assignment>(`SELECT ${ASSIGNMENT_COLUMNS} FROM community_assignments WHERE community_id = $1 ORDER BY starts_at, id`, [
    communityId,
  ])
}
