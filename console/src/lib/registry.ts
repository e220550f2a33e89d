// Names instead of ids: the companies, communities and devices the user may see, loaded once per
// sign-in (a few thousand rows at most in a district) and looked up by id everywhere.
import { placeText } from '../../../shared/place.ts'
import { lang, localName } from '../i18n/index.ts'
import { all, api } from './api.ts'
import { store } from './store.ts'
import type { Community, Company, Device, Me, Rule, Street } from './types.ts'

export interface Registry {
  companies: Map<string, Company>
  communities: Map<string, Community>
  devices: Map<string, Device>
  rules: Map<string, Rule>
  streets: Map<string, Street>
}

const empty = (): Registry => ({ companies: new Map(), communities: new Map(), devices: new Map(), rules: new Map(), streets: new Map() })
export const registry = store<Registry>(empty())

const byId = <T extends { id: string }>(items: T[]) => new Map(items.map((x) => [x.id, x]))
const orEmpty = async <T>(p: Promise<T[]>): Promise<T[]> => p.catch(() => [])

export async function loadRegistry(me: Me): Promise<void> {
  const office = me.role === 'admin' || me.role === 'operator' || me.role === 'crew'
  // A street officer reads their street's companies, communities, devices and the street itself.
  const street = me.role === 'street_officer'
  const [companies, communities, devices, rules, streets] = await Promise.all([
    office || street ? orEmpty(api<{ items: Company[] }>('/api/v1/companies').then((r) => r.items)) : [],
    orEmpty(api<{ items: Community[] }>('/api/v1/communities').then((r) => r.items)),
    office || street ? orEmpty(all<Device>('/api/v1/devices')) : [],
    office ? orEmpty(api<{ items: Rule[] }>('/api/v1/rules').then((r) => r.items)) : [],
    (office && me.role !== 'crew') || street ? orEmpty(api<{ items: Street[] }>('/api/v1/streets').then((r) => r.items)) : [],
  ])
  registry.set({ companies: byId(companies), communities: byId(communities), devices: byId(devices), rules: byId(rules), streets: byId(streets) })
}

export function clearRegistry(): void {
  registry.set(empty())
}

/** A row's name in the reader's language (i18n localName), else its id. */
export const named = (x: { id: string; name: string | null } | undefined, id = x?.id ?? ''): string => (x?.name == null ? id : localName(x.name))
export const companyName = (id: string | null): string => (id === null ? '' : named(registry.get().companies.get(id), id))
export const communityName = (id: string | null): string => (id === null ? '' : named(registry.get().communities.get(id), id))
export const deviceName = (id: string | null): string => (id === null ? '' : named(registry.get().devices.get(id), id))
export const streetName = (id: string | null): string => (id === null ? '' : named(registry.get().streets.get(id), id))

/**
 * Where a device is, from the registry, in the current language (shared/place.ts): "community ·
 * 3号楼 2单元 12层 · position · device". A null community leaves it out, `named: false` the
 * device's name (a list that shows it in a column of its own).
 */
export function placeOf(communityId: string | null, deviceId: string | null, { named = true } = {}): string {
  const d = deviceId === null ? undefined : registry.get().devices.get(deviceId)
  return placeText(lang.get(), { community: communityName(communityId), building: d?.building, unit: d?.unit, floor: d?.floor, location: d?.location, device: named ? deviceName(deviceId) : null })
}

/** `[id, name]` pairs for a select, by name. */
export const choices = (m: Map<string, { id: string; name: string | null }>): [string, string][] => byName(m).map((x) => [x.id, named(x)])

/** The rows of a name table, by name in the current language's order. */
export const byName = <T extends { id: string; name: string | null }>(m: Map<string, T>): T[] => [...m.values()].sort((a, b) => named(a).localeCompare(named(b)))
