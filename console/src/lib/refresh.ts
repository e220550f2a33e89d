// After a change in the registry or the rules, the shared name tables are reloaded so every view
// (board, map, lists) shows the new names at once.
import { loadRegistry } from './registry.ts'
import { me } from './session.ts'

export async function refreshRegistry(): Promise<void> {
  const user = me.get()
  if (user) await loadRegistry(user)
}
