// SQL for streets (街道/镇, issue 22): the level between the district and its communities, and
// what a street officer's scope reaches (communities of the street, the companies looking after them).
import type { Queryable } from '../db/client.ts'

export interface Street {
  id: string
  name: string
  district: string | null
  /** Communities that belong to it now. */
  communities: number
  createdAt: Date
}

const STREET_COLUMNS = `s.id, s.name, s.district, s.created_at AS "createdAt",
  (SELECT count(*)::int FROM communities c WHERE c.street_id = s.id) AS communities`

/** Streets by name; `streetId` confines the list to one (a street officer's). Bounded by `limit`. */
export async function listStreets(db: Queryable, limit: number, streetId?: string): Promise<Street[]> {
  return db.query<Street>(`SELECT ${STREET_COLUMNS} FROM streets s WHERE ($1::text IS NULL OR s.id = $1) ORDER BY s.name, s.id LIMIT $2`, [streetId ?? null, limit])
}

export async function getStreet(db: Queryable, id: string): Promise<Street | undefined> {
  const [row] = await db.query<Street>(`SELECT ${STREET_COLUMNS} FROM streets s WHERE s.id = $1`, [id])
  return row
}

export async function createStreet(db: Queryable, s: { id: string; name: string; district: string | null }): Promise<Street> {
  await db.query('INSERT INTO streets (id, name, district) VALUES ($1, $2, $3)', [s.id, s.name, s.district])
  const row = await getStreet(db, s.id)
  if (!row) throw new Error('insert returned no street')
  return row
}

export async function updateStreet(db: Queryable, id: string, s: { name?: string | undefined; district?: string | null | undefined }): Promise<Street | undefined> {
  const [row] = await db.query<{ id: string }>(
    `UPDATE streets SET name = COALESCE($2, name), district = CASE WHEN $4 THEN $3 ELSE district END WHERE id = $1 RETURNING id`,
    [id, s.name ?? null, s.district ?? null, s.district !== undefined],
  )
  return row ? getStreet(db, id) : undefined
}

export async function communityInStreet(db: Queryable, communityId: string, streetId: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM communities WHERE id = $1 AND street_id = $2', [communityId, streetId])
  return rows.length > 0
}

/** A company is of a street while it looks after one of the street's communities. */
export async function companyInStreet(db: Queryable, companyId: string, streetId: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM communities WHERE company_id = $1 AND street_id = $2 LIMIT 1', [companyId, streetId])
  return rows.length > 0
}
