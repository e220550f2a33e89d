// SQL for communities' site plans and where devices stand on them (migration 23). The image's
// bytes are read only when it is served; everything else reads its size and ETag.
import type { Queryable } from '../db/client.ts'
import type { PhotoType } from './photos.ts'

export interface SitePlanInfo {
  communityId: string
  contentType: PhotoType
  width: number
  height: number
  size: number
  /** SHA-256 of the bytes, hex: the image's ETag. */
  sha256: string
  uploadedBy: string
  uploadedAt: Date
}

const INFO_COLUMNS = `community_id AS "communityId", content_type AS "contentType", width, height, size, sha256, uploaded_by AS "uploadedBy", uploaded_at AS "uploadedAt"`

/** The plans of the communities given (all when `communityIds` is undefined), without their bytes. */
export async function listSitePlans(db: Queryable, communityIds?: readonly string[]): Promise<SitePlanInfo[]> {
  return db.query<SitePlanInfo>(`SELECT ${INFO_COLUMNS} FROM site_plans WHERE ($1::text[] IS NULL OR community_id = ANY($1::text[]))`, [communityIds ?? null])
}

export async function getSitePlan(db: Queryable, communityId: string): Promise<(SitePlanInfo & { bytes: Uint8Array }) | undefined> {
  const [row] = await db.query<SitePlanInfo & { bytes: Uint8Array }>(`SELECT ${INFO_COLUMNS}, bytes FROM site_plans WHERE community_id = $1`, [communityId])
  return row
}

/** Stores a community's plan, replacing the one it had; devices keep their fractions. */
export async function putSitePlan(db: Queryable, p: Omit<SitePlanInfo, 'size'> & { bytes: Buffer }): Promise<SitePlanInfo> {
  const [row] = await db.query<SitePlanInfo>(
    `INSERT INTO site_plans (community_id, content_type, width, height, size, sha256, bytes, uploaded_by, uploaded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (community_id) DO UPDATE SET content_type = EXCLUDED.content_type, width = EXCLUDED.width, height = EXCLUDED.height,
       size = EXCLUDED.size, sha256 = EXCLUDED.sha256, bytes = EXCLUDED.bytes, uploaded_by = EXCLUDED.uploaded_by, uploaded_at = EXCLUDED.uploaded_at
     RETURNING ${INFO_COLUMNS}`,
    [p.communityId, p.contentType, p.width, p.height, p.bytes.length, p.sha256, p.bytes, p.uploadedBy, p.uploadedAt],
  )
  if (!row) throw new Error('INSERT … RETURNING returned no row')
  return row
}

/** Whether there was a plan to delete. */
export async function deleteSitePlan(db: Queryable, communityId: string): Promise<boolean> {
  return (await db.query('DELETE FROM site_plans WHERE community_id = $1 RETURNING community_id', [communityId])).length > 0
}

/** Places a device at fractions (0..1) of its community's plan, or takes it off (null). */
export async function setPlanPosition(db: Queryable, deviceId: string, at: { x: number; y: number } | null): Promise<void> {
  await db.query('UPDATE devices SET plan_x = $2, plan_y = $3 WHERE id = $1', [deviceId, at?.x ?? null, at?.y ?? null])
}
