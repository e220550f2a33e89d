// Wire shapes the console reads (the API's OpenAPI document at /docs is the reference). Type-only
// imports of the API's schemas bundle nothing; the rest are the few fields the screens use.
import type { z } from 'zod'
import type { alertSchema } from '../../../api/alerts/schemas.ts'
export type Role = 'admin' | 'operator' | 'crew' | 'service' | 'resident'
import type { AlertState, Severity } from '../../../core/repos/alerts.ts'
import type { DeviceKind as Kind } from '../../../core/metric-catalogue.ts'

export type { AlertState, Kind, Severity }

export const SEVERITIES: readonly Severity[] = ['critical', 'major', 'minor', 'warning']
export const STATES: readonly AlertState[] = ['open', 'acknowledged', 'in_progress', 'resolved']
export const KINDS: readonly Kind[] = ['manhole', 'fire_tank', 'elevator', 'gateway']

export interface Me {
  id: string
  name: string
  role: Role
  companyId: string | null
  communityId: string | null
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

export interface Device {
  id: string
  kind: Kind
  name: string | null
  communityId: string
  companyId: string | null
  enabled: boolean
  expectedIntervalS: number
}

export interface Community {
  id: string
  name: string
  district: string | null
  street: string | null
  lat: number | null
  lon: number | null
  companyId: string | null
}

export interface Company {
  id: string
  name: string
}

export interface Rule {
  id: string
  enabled: boolean
  definition: {
    type?: string
    scope?: { kind?: Kind; deviceId?: string }
    params?: { metric?: string; op?: string; value?: number }
    overrides?: Record<string, { value?: number }>
  }
}
