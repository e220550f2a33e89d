// Light or dark (issue 21): the system's choice (prefers-color-scheme) until the person picks one
// with the switch, which is remembered in this browser. The colours are CSS custom properties
// (style.css); this only sets `data-theme` on <html> when a choice overrides the system's.
import { store } from './store.ts'

export type ThemeChoice = 'system' | 'light' | 'dark'
const KEY = 'hb-theme'

function stored(): ThemeChoice {
  const v = localStorage.getItem(KEY)
  return v === 'light' || v === 'dark' ? v : 'system'
}

export const theme = store<ThemeChoice>(stored())

const systemDark = () => window.matchMedia('(prefers-color-scheme: dark)').matches

/** The theme in effect: the choice, or the system's. */
export function effectiveTheme(choice: ThemeChoice = theme.get()): 'light' | 'dark' {
  return choice === 'system' ? (systemDark() ? 'dark' : 'light') : choice
}

function apply(choice: ThemeChoice): void {
  if (choice === 'system') delete document.documentElement.dataset.theme
  else document.documentElement.dataset.theme = choice
}

/** Switches to the other theme than the one in effect; picking what the system shows returns to following it. */
export function toggleTheme(): void {
  const next = effectiveTheme() === 'dark' ? 'light' : 'dark'
  const choice: ThemeChoice = next === (systemDark() ? 'dark' : 'light') ? 'system' : next
  if (choice === 'system') localStorage.removeItem(KEY)
  else localStorage.setItem(KEY, choice)
  apply(choice)
  theme.set(choice)
}

apply(theme.get())
// Charts draw with the colours of the theme in effect: they re-render when the system's changes too.
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => theme.set(theme.get()))
