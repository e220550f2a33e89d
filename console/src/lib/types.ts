// Wire shapes the console reads (the API's OpenAPI document at /docs is the reference). Type-only
// imports of the API's schemas bundle nothing; the words of the domain come from shared/ (bundled);
// the rest are the few fields the screens use.
import type { z } from 'zod'
import type { alertSchema, deliverySchema } from '../../../api/alerts/schemas.ts'
import { ALERT_STATES, SEVERITIES, type AlertState, type Role, type Severity } from '../../../shared/domain.ts'
import { DEVICE_KINDS, type DeviceKind as Kind } from '../../../shared/metric-catalogue.ts'
import type { DevicePlace } from '../../../shared/place.ts'
import type { User as StoredUser } from '../../../core/repos/tokens.ts'
import type { StoredAuditEntry } from '../../../core/repos/audit.ts'

export type { AlertState, Kind, Role, Severity }

export { SEVERITIES }
export const STATES: readonly AlertState[] = ALERT_STATES
export const KINDS: readonly Kind[] = DEVICE_KINDS

export interface Me {
  id: string
  name: string
  role: Role
  companyId: string | null
  communityId: string | null
  /** Signed in with a password: the session's CSRF value. */
  csrf?: string
  /** A password an admin set: only changing it works until it is changed. */
  mustChangePassword?: boolean
  /** One-time codes at sign-in: whether the role may set them up, whether they are on, and whether the set-up is owed (TOTP_REQUIRED). */
  totp?: { offered: boolean; enabled: boolean; mustEnrol: boolean }
}

/** The alert as the API sends it (its zod schema's input side: times as RFC 3339 strings). */
export type Alert = z.input<typeof alertSchema>

export interface AlertEvent {
  id: number
  at: string
  type: string
  actor: string
  note: string | null
  /** attachment: { photoId }; null for residents except on their own report. */
  data?: Record<string, unknown> | null
}

/** One notification of an alert as GET /api/v1/alerts/:id lists it (`notifications`; addresses masked). */
export type Delivery = z.input<typeof deliverySchema>

/** A device with where it is in words (shared/place.ts). */
export interface Device extends DevicePlace {
  id: string
  kind: Kind
  name: string | null
  communityId: string
  companyId: string | null
  gatewayId: string | null
  enabled: boolean
  expectedIntervalS: number
  /** Where it is (WGS 84), when known: the crew card's map link. */
  latitude: number | null
  longitude: number | null
  createdAt: string
}

export interface Community {
  id: string
  name: string
  district: string | null
  street: string | null
  /** The street (街道/镇) it belongs to. */
  streetId: string | null
  address: string | null
  lat: number | null
  lon: number | null
  companyId: string | null
}

export interface Street {
  id: string
  name: string
  district: string | null
  communities: number
}

export interface Company {
  id: string
  name: string
  contact: string | null
}

/** Which company looked after a community from when to when. */
export interface Assignment {
  id: number
  communityId: string
  companyId: string
  startsAt: string
  endsAt: string | null
  assignedBy: string
  note: string | null
}

export interface Rule {
  id: string
  enabled: boolean
  builtin: boolean
  definition: {
    type?: string
    name?: string
    severity?: Severity
    scope?: { kind?: Kind; deviceId?: string; communityId?: string }
    /** Durations in milliseconds, as the API stores them. */
    params?: { metric?: string; op?: string; value?: number; window?: number; horizon?: number; minSamples?: number; or?: { metric?: string }[] }
    overrides?: Record<string, { value?: number; window?: number; horizon?: number; minSamples?: number }>
  } & Record<string, unknown>
}

export interface Silence {
  id: number
  deviceId: string | null
  communityId: string | null
  ruleId: string | null
  startsAt: string
  endsAt: string
  reason: string
  createdBy: string
}

export interface DeadLetter {
  id: number
  receivedAt: string
  clientId: string | null
  topic: string
  deviceId: string | null
  reasonCode: string
  reason: string
  payloadExcerpt: string | null
}

/** An audit log entry as the API sends it (its time as an RFC 3339 string). */
/** `names`: the target's ids that are a user, device, company or community, with their names (GET /audit). */
export type AuditEntry = Omit<StoredAuditEntry, 'at'> & { at: string; names?: Record<string, string> }

/** A user as the API sends them (times as RFC 3339 strings). */
export type User = Omit<StoredUser, 'createdAt'> & { createdAt: string }

export interface TokenInfo {
  id: string
  label: string | null
  createdAt: string
  expiresAt: string | null
  revokedAt: string | null
  lastUsedAt: string | null
}

/** A token as issued: the secret is in this answer only. */
export interface Issued {
  id: string
  token: string
  expiresAt: string | null
}
