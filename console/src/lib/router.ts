// Hash routes (#/board, #/alert/12, #/device/el-1 …): the API serves one index.html, and a
// bookmarked or shared link opens the same view.
import { store } from './store.ts'

export const route = store<string[]>(parse())

function parse(): string[] {
  return location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent)
}

addEventListener('hashchange', () => route.set(parse()))

export function href(...parts: (string | number)[]): string {
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`
}

export function go(...parts: (string | number)[]): void {
  location.hash = href(...parts)
}
