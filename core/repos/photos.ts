// SQL for the photos of an alert (migration 8: alert_photos). The bytes are read only when a
// photo is served; lists carry ids, types and sizes.
import type { Queryable } from '../db/client.ts'

export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const
export type PhotoType = (typeof PHOTO_TYPES)[number]

export interface PhotoInfo {
  id: number
  alertId: number
  contentType: PhotoType
  size: number
  uploadedBy: string
  uploadedAt: Date
}

const INFO_COLUMNS = `id, alert_id AS "alertId", content_type AS "contentType", size, uploaded_by AS "uploadedBy", uploaded_at AS "uploadedAt"`

/** How many photos an alert has; call it with the alert row locked, so two uploads cannot both pass the limit. */
export async function countPhotos(db: Queryable, alertId: number): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM alert_photos WHERE alert_id = $1', [alertId])
  return row?.n ?? 0
}

export async function insertPhoto(db: Queryable, p: { alertId: number; contentType: PhotoType; bytes: Buffer; uploadedBy: string; at: Date }): Promise<PhotoInfo> {
  const [row] = await db.query<PhotoInfo>(
    `INSERT INTO alert_photos (alert_id, content_type, size, bytes, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${INFO_COLUMNS}`,
    [p.alertId, p.contentType, p.bytes.length, p.bytes, p.uploadedBy, p.at],
  )
  if (!row) throw new Error('INSERT … RETURNING returned no row')
  return row
}

export async function listPhotos(db: Queryable, alertId: number): Promise<PhotoInfo[]> {
  return db.query<PhotoInfo>(`SELECT ${INFO_COLUMNS} FROM alert_photos WHERE alert_id = $1 ORDER BY id`, [alertId])
}

/** One photo with its bytes, if it belongs to `alertId`. */
export async function getPhoto(db: Queryable, alertId: number, id: number): Promise<(PhotoInfo & { bytes: Uint8Array }) | undefined> {
  const [row] = await db.query<PhotoInfo & { bytes: Uint8Array }>(`SELECT ${INFO_COLUMNS}, bytes FROM alert_photos WHERE alert_id = $1 AND id = $2`, [alertId, id])
  return row
}
