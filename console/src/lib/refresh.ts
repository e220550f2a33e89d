// After a change in the registry or the rules, the shared name tables are reloaded so every view
// (board, map, lists) shows the new names at once.
import { api } from './api.ts'
import { loadRegistry } from './registry.ts'
import { me } from './session.ts'

export async function refreshRegistry(): Promise<void> {
  const user = me.get()
  if (user) await loadRegistry(user)
}

/** Changes a registry row (PATCH `base/id`) or registers a new one (POST `base`), then reloads the names. */
export async function saveRow(base: string, editingId: string | null, change: object, create: object): Promise<void> {
  if (editingId !== null) await api(`${base}/${encodeURIComponent(editingId)}`, { method: 'PATCH', body: change })
  else await api(base, { body: create })
  await refreshRegistry()
}
