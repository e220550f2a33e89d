// SQL for who is told and how: notification channels (credentials sealed, never selected for
// views), people's contact points, on-call rotas with overrides and hand-over notes, and the
// escalation policies per severity (the office's, and a company's own). The delivery queue itself
// is in notify-deliveries.ts.
import type { Queryable } from '../db/client.ts'

// ---- Channels ----------------------------------------------------------------------------------

export interface NotifyChannel {
  id: string
  companyId: string | null
  kind: string
  name: string
  settings: Record<string, unknown>
  enabled: boolean
  hasSecrets: boolean
  createdBy: string
  createdAt: Date
}

const CHANNEL_COLUMNS = `id, company_id AS "companyId", kind, name, settings, enabled, secrets IS NOT NULL AS "hasSecrets",
  created_by AS "createdBy", created_at AS "createdAt"`

export async function insertChannel(
  db: Queryable,
  c: { id: string; companyId: string | null; kind: string; name: string; settings: unknown; secrets: string | null; createdBy: string },
): Promise<NotifyChannel> {
  const [row] = await db.query<NotifyChannel>(
    `INSERT INTO notify_channels (id, company_id, kind, name, settings, secrets, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
     RETURNING ${CHANNEL_COLUMNS}`,
    [c.id, c.companyId, c.kind, c.name, JSON.stringify(c.settings), c.secrets, c.createdBy],
  )
  if (!row) throw new Error('insert returned no channel')
  return row
}

/** Channels of one owner (a company, or the office with null); every channel when `owner` is undefined. */
export async function listChannels(db: Queryable, owner?: string | null): Promise<NotifyChannel[]> {
  if (owner === undefined) return db.query<NotifyChannel>(`SELECT ${CHANNEL_COLUMNS} FROM notify_channels ORDER BY created_at`)
  return db.query<NotifyChannel>(`SELECT ${CHANNEL_COLUMNS} FROM notify_channels WHERE company_id IS NOT DISTINCT FROM $1 ORDER BY created_at`, [owner])
}

export async function getChannel(db: Queryable, id: string): Promise<NotifyChannel | undefined> {
  const [row] = await db.query<NotifyChannel>(`SELECT ${CHANNEL_COLUMNS} FROM notify_channels WHERE id = $1`, [id])
  return row
}

export async function setChannelEnabled(db: Queryable, id: string, enabled: boolean): Promise<NotifyChannel | undefined> {
  const [row] = await db.query<NotifyChannel>(`UPDATE notify_channels SET enabled = $2 WHERE id = $1 RETURNING ${CHANNEL_COLUMNS}`, [id, enabled])
  return row
}

/**
 * Replaces a channel's name and settings; `secrets` replaces the sealed credentials when given
 * (a form that leaves them blank keeps the stored ones, which are never shown).
 */
export async function updateChannel(db: Queryable, id: string, c: { name: string; settings: unknown; secrets?: string | undefined }): Promise<NotifyChannel | undefined> {
  const [row] = await db.query<NotifyChannel>(
    `UPDATE notify_channels SET name = $2, settings = $3, secrets = CASE WHEN $4::boolean THEN $5 ELSE secrets END WHERE id = $1 RETURNING ${CHANNEL_COLUMNS}`,
    [id, c.name, JSON.stringify(c.settings), c.secrets !== undefined, c.secrets ?? null],
  )
  return row
}

/** The sealed credentials of a channel (for sending through it), null when it has none. */
export async function channelSecrets(db: Queryable, id: string): Promise<string | null> {
  const [row] = await db.query<{ secrets: string | null }>('SELECT secrets FROM notify_channels WHERE id = $1', [id])
  return row?.secrets ?? null
}

export async function deleteChannel(db: Queryable, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM notify_channels WHERE id = $1 RETURNING 1', [id])).length > 0
}

// ---- Contact points ----------------------------------------------------------------------------

export const CONTACT_KINDS = ['phone', 'email', 'wecom', 'dingtalk', 'feishu', 'webpush'] as const
export type ContactKind = (typeof CONTACT_KINDS)[number]

export interface ContactPoint {
  id: number
  userId: string
  kind: ContactKind
  address: string
  locale: 'zh-CN' | 'en'
  position: number
}

const CONTACT_COLUMNS = `id::int AS id, user_id AS "userId", kind, address, locale, position`

export async function insertContact(db: Queryable, c: Omit<ContactPoint, 'id'>): Promise<ContactPoint> {
  const [row] = await db.query<ContactPoint>(
    `INSERT INTO contact_points (user_id, kind, address, locale, position) VALUES ($1, $2, $3, $4, $5) RETURNING ${CONTACT_COLUMNS}`,
    [c.userId, c.kind, c.address, c.locale, c.position],
  )
  if (!row) throw new Error('insert returned no contact point')
  return row
}

export async function listContacts(db: Queryable, userId: string): Promise<ContactPoint[]> {
  return db.query<ContactPoint>(`SELECT ${CONTACT_COLUMNS} FROM contact_points WHERE user_id = $1 ORDER BY position, id`, [userId])
}

export async function deleteContact(db: Queryable, userId: string, id: number): Promise<boolean> {
  return (await db.query('DELETE FROM contact_points WHERE user_id = $1 AND id = $2 RETURNING 1', [userId, id])).length > 0
}

/**
 * The channel that reaches each of a user's contact points, most preferred first: a contact's
 * kind maps to channel kinds (a phone to any SMS channel), and the user's company's own channel
 * is preferred to the office's. Contact points no enabled channel can reach are left out.
 */
export async function reachableContacts(
  db: Queryable,
  userId: string,
): Promise<{ channelId: string; address: string; locale: 'zh-CN' | 'en'; kind: ContactKind }[]> {
  return db.query(
    `SELECT DISTINCT ON (cp.position, cp.id) ch.id AS "channelId", cp.address, cp.locale, cp.kind
     FROM contact_points cp JOIN users u ON u.id = cp.user_id
     JOIN notify_channels ch ON ch.enabled
       AND (ch.company_id = u.company_id OR ch.company_id IS NULL)
       AND ch.kind = ANY(CASE cp.kind WHEN 'phone' THEN ARRAY['sms_aliyun', 'sms_tencent', 'sms_http'] ELSE ARRAY[cp.kind] END)
     WHERE cp.user_id = $1
     ORDER BY cp.position, cp.id, (ch.company_id IS NULL), ch.created_at`,
    [userId],
  )
}

/** Group-chat bots of an owner (company, or the office with null). */
export async function botChannels(db: Queryable, owner: string | null): Promise<{ id: string }[]> {
  return db.query(
    `SELECT id FROM notify_channels WHERE enabled AND company_id IS NOT DISTINCT FROM $1 AND kind IN ('wecom', 'dingtalk', 'feishu') ORDER BY created_at`,
    [owner],
  )
}

// ---- Rotas -------------------------------------------------------------------------------------

export interface Rota {
  id: string
  companyId: string | null
  role: 'crew' | 'manager' | 'duty'
  name: string
  timezone: string
  startsOn: string
  handoverTime: string
  members: string[]
  createdBy: string
  createdAt: Date
}

const ROTA_COLUMNS = `id, company_id AS "companyId", role, name, timezone, to_char(starts_on, 'YYYY-MM-DD') AS "startsOn",
  handover_time AS "handoverTime", members, created_by AS "createdBy", created_at AS "createdAt"`

/** Creates the rota of an owner and role, or replaces its schedule (overrides and notes stay). */
export async function upsertRota(db: Queryable, r: Omit<Rota, 'createdAt'>): Promise<Rota> {
  const [row] = await db.query<Rota>(
    `INSERT INTO rotas (id, company_id, role, name, timezone, starts_on, handover_time, members, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET name = $4, timezone = $5, starts_on = $6, handover_time = $7, members = $8
     RETURNING ${ROTA_COLUMNS}`,
    [r.id, r.companyId, r.role, r.name, r.timezone, r.startsOn, r.handoverTime, r.members, r.createdBy],
  )
  if (!row) throw new Error('upsert returned no rota')
  return row
}

export async function getRota(db: Queryable, id: string): Promise<Rota | undefined> {
  const [row] = await db.query<Rota>(`SELECT ${ROTA_COLUMNS} FROM rotas WHERE id = $1`, [id])
  return row
}

export async function rotaOf(db: Queryable, owner: string | null, role: string): Promise<Rota | undefined> {
  const [row] = await db.query<Rota>(`SELECT ${ROTA_COLUMNS} FROM rotas WHERE company_id IS NOT DISTINCT FROM $1 AND role = $2`, [owner, role])
  return row
}

export async function listRotas(db: Queryable, owner?: string | null): Promise<Rota[]> {
  if (owner === undefined) return db.query<Rota>(`SELECT ${ROTA_COLUMNS} FROM rotas ORDER BY company_id NULLS FIRST, role`)
  return db.query<Rota>(`SELECT ${ROTA_COLUMNS} FROM rotas WHERE company_id IS NOT DISTINCT FROM $1 ORDER BY role`, [owner])
}

export async function deleteRota(db: Queryable, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM rotas WHERE id = $1 RETURNING 1', [id])).length > 0
}

export interface RotaOverride {
  id: number
  rotaId: string
  userId: string
  kind: 'swap' | 'cover'
  startsAt: Date
  endsAt: Date
  note: string | null
  createdBy: string
  createdAt: Date
}

const OVERRIDE_COLUMNS = `id::int AS id, rota_id AS "rotaId", user_id AS "userId", kind, starts_at AS "startsAt", ends_at AS "endsAt", note,
  created_by AS "createdBy", created_at AS "createdAt"`

export async function insertOverride(db: Queryable, o: Omit<RotaOverride, 'id' | 'createdAt'>): Promise<RotaOverride> {
  const [row] = await db.query<RotaOverride>(
    `INSERT INTO rota_overrides (rota_id, user_id, kind, starts_at, ends_at, note, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
     RETURNING ${OVERRIDE_COLUMNS}`,
    [o.rotaId, o.userId, o.kind, o.startsAt, o.endsAt, o.note, o.createdBy],
  )
  if (!row) throw new Error('insert returned no override')
  return row
}

/** Overrides overlapping [from, to), bounded: a rota has a handful a week. */
export async function overridesBetween(db: Queryable, rotaId: string, from: Date, to: Date): Promise<RotaOverride[]> {
  return db.query<RotaOverride>(
    `SELECT ${OVERRIDE_COLUMNS} FROM rota_overrides WHERE rota_id = $1 AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at LIMIT 500`,
    [rotaId, from, to],
  )
}

export async function deleteOverride(db: Queryable, rotaId: string, id: number): Promise<boolean> {
  return (await db.query('DELETE FROM rota_overrides WHERE rota_id = $1 AND id = $2 RETURNING 1', [rotaId, id])).length > 0
}

export interface Handover {
  id: number
  rotaId: string
  at: Date
  author: string
  note: string
}

export async function insertHandover(db: Queryable, h: { rotaId: string; at: Date; author: string; note: string }): Promise<Handover> {
  const [row] = await db.query<Handover>(
    `INSERT INTO rota_handovers (rota_id, at, author, note) VALUES ($1, $2, $3, $4) RETURNING id::int AS id, rota_id AS "rotaId", at, author, note`,
    [h.rotaId, h.at, h.author, h.note],
  )
  if (!row) throw new Error('insert returned no hand-over note')
  return row
}

export async function listHandovers(db: Queryable, rotaId: string, limit: number): Promise<Handover[]> {
  return db.query<Handover>(
    `SELECT id::int AS id, rota_id AS "rotaId", at, author, note FROM rota_handovers WHERE rota_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
    [rotaId, limit],
  )
}

// ---- Escalation policies -----------------------------------------------------------------------

export interface StoredPolicy {
  /** null: the housing office's policy, the one every company without its own follows. */
  companyId: string | null
  definition: unknown
}

/**
 * The stored policies that may apply to a company's alert of `severity`: the company's own first,
 * then the housing office's. `companyId` null asks for the office's alone.
 */
export async function storedPolicies(db: Queryable, severity: string, companyId: string | null): Promise<StoredPolicy[]> {
  return db.query<StoredPolicy>(
    `SELECT company_id AS "companyId", definition FROM escalation_policies
     WHERE severity = $1 AND (company_id IS NULL OR company_id = $2) ORDER BY company_id NULLS LAST`,
    [severity, companyId],
  )
}

export async function upsertPolicy(db: Queryable, owner: string | null, severity: string, definition: unknown, by: string): Promise<void> {
  await db.query(
    `INSERT INTO escalation_policies (company_id, severity, definition, updated_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT ((COALESCE(company_id, '')), severity) DO UPDATE SET definition = $3, updated_by = $4, updated_at = now()`,
    [owner, severity, JSON.stringify(definition), by],
  )
}

export async function deletePolicy(db: Queryable, owner: string | null, severity: string): Promise<boolean> {
  return (await db.query('DELETE FROM escalation_policies WHERE company_id IS NOT DISTINCT FROM $1 AND severity = $2 RETURNING 1', [owner, severity])).length > 0
}

/** A company's manager is whoever its manager rota lists (the notification setup's own notion). */
export async function isCompanyManager(db: Queryable, userId: string, companyId: string): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM rotas WHERE company_id = $1 AND role = 'manager' AND $2 = ANY(members)`, [companyId, userId])).length > 0
}
