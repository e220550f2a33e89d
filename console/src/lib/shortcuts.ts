// Keyboard shortcuts of the alert desk (issue 21), as data and pure functions: which key does
// what, when a key press is the page's to take (not while typing in a field, not with Ctrl, Alt or
// Meta, which belong to the browser), and where the cursor moves. The board's component
// (components/BoardShortcuts.tsx) listens and acts; the help dialog (`?`) lists this table.

export type Command = 'down' | 'up' | 'open' | 'ack' | 'resolve' | 'filter' | 'help' | 'close'

/** The keys, in the order the help lists them; `label` is what the help shows for the key. */
export const SHORTCUTS: readonly { key: string; label: string; command: Command }[] = [
  { key: 'j', label: 'j', command: 'down' },
  { key: 'k', label: 'k', command: 'up' },
  { key: 'Enter', label: 'Enter', command: 'open' },
  { key: 'a', label: 'a', command: 'ack' },
  { key: 'r', label: 'r', command: 'resolve' },
  { key: '/', label: '/', command: 'filter' },
  { key: '?', label: '?', command: 'help' },
  { key: 'Escape', label: 'Esc', command: 'close' },
]

interface KeyPress {
  key: string
  ctrlKey: boolean
  altKey: boolean
  metaKey: boolean
  target: EventTarget | null
}

/** Whether focus is in something a person types into: their keys are text, not commands. */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)
}

/** The command of a key press, or undefined when the page should leave it alone. Escape works everywhere. */
export function commandOf(e: KeyPress): Command | undefined {
  if (e.ctrlKey || e.altKey || e.metaKey) return undefined
  const hit = SHORTCUTS.find((s) => s.key === e.key)
  if (hit === undefined || (hit.command !== 'close' && typing(e.target))) return undefined
  return hit.command
}

/** The id `step` rows from `current` in `ids` (the first row when there is no cursor yet), held at the ends. */
export function moveCursor(ids: readonly number[], current: number | null, step: 1 | -1): number | null {
  if (ids.length === 0) return null
  const at = current === null ? -1 : ids.indexOf(current)
  if (at === -1) return ids[step === 1 ? 0 : ids.length - 1] ?? null
  return ids[Math.min(Math.max(at + step, 0), ids.length - 1)] ?? null
}
