// Who is signed in: the token's user, and the views their role may open.
import { startAlerts, stopAlerts } from './alerts.ts'
import { api, setToken } from './api.ts'
import { clearRegistry, loadRegistry } from './registry.ts'
import { store } from './store.ts'
import type { Me, Role } from './types.ts'

export type View = 'board' | 'map' | 'devices' | 'ranking' | 'registry' | 'rules' | 'silences' | 'deadletters' | 'audit' | 'users' | 'crew' | 'resident'

/** The office's desk; users and tokens are the administrator's alone (the API refuses others). */
const DESK: View[] = ['board', 'map', 'devices', 'ranking', 'registry', 'rules', 'silences', 'deadletters', 'audit']

export const NAV: Record<Role, View[]> = {
  admin: [...DESK, 'users'],
  operator: DESK,
  crew: ['crew', 'board', 'map'],
  resident: ['resident'],
  service: [],
}

export const me = store<Me | null>(null)

export async function signIn(token: string): Promise<Me> {
  setToken(token)
  const user = await api<Me>('/api/v1/me')
  await loadRegistry(user)
  me.set(user)
  if (user.role !== 'resident' && user.role !== 'service') void startAlerts(true).catch(() => undefined)
  return user
}

export function signOut(): void {
  stopAlerts()
  clearRegistry()
  setToken(null)
  me.set(null)
}
