// Whose set-up the on-call screens show: '' for the housing office, else a company's id; and the
// API's shapes they read.
import { api } from '../../lib/api.ts'
import { store } from '../../lib/store.ts'

export const owner = store<string>('')

/** The `companyId` query of a request about the owner ('' for the office). */
export const ownerQuery = (o: string, sep = '?'): string => (o === '' ? '' : `${sep}companyId=${encodeURIComponent(o)}`)

export interface Person {
  id: string
  name: string
  role: string
}

/** The people a rota or a contact point of the owner may name. */
export const peopleOf = (o: string): Promise<Person[]> => api<{ items: Person[] }>(`/api/v1/rotas/people${ownerQuery(o)}`).then((r) => r.items)

export interface Channel {
  id: string
  companyId: string | null
  kind: string
  name: string
  settings: Record<string, unknown>
  enabled: boolean
  hasSecrets: boolean
}

export interface Rota {
  id: string
  companyId: string | null
  role: 'crew' | 'manager' | 'duty'
  name: string
  timezone: string
  startsOn: string
  handoverTime: string
  members: string[]
}

export interface Shift {
  userId: string
  userName: string | null
  from: string
  to: string
  override: boolean
}

export interface Override {
  id: number
  userId: string
  kind: 'swap' | 'cover'
  startsAt: string
  endsAt: string
  note: string | null
}

export interface Handover {
  id: number
  at: string
  author: string
  note: string
}

export interface Step {
  rota: 'crew' | 'manager' | 'duty'
  bots: boolean
}

export interface PolicyView {
  severity: 'critical' | 'major' | 'minor' | 'warning'
  source: 'company' | 'office' | 'default'
  stored: boolean
  policy: { steps: Step[]; quietHours: { from: string; to: string; timezone: string } | null }
}
