// A list read from a keyset-paginated route (`{ items, nextCursor }`, newest first): the first page
// on demand (on load, on a filter change), older pages with "load more", at most `maxRows` kept in
// the page so a long session does not grow without bound. Dead letters and the audit log use it.
import { useState } from 'preact/hooks'
import { api } from './api.ts'
import { messageOf } from './forms.ts'

export interface Pages<T> {
  items: T[]
  /** The cursor of the next older page; null when there is none (or maxRows is reached). */
  cursor: number | null
  error: string
  loading: boolean
  /** Reads the first page (more = false) or the next older one. */
  load: (more: boolean) => Promise<void>
}

/** `url(cursor)` names the route with the current filters and the cursor (null: the first page). */
export function usePages<T>(url: (cursor: number | null) => string, maxRows = 2000): Pages<T> {
  const [items, setItems] = useState<T[]>([])
  const [cursor, setCursor] = useState<number | null>(null)
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(false)
  const load = async (more: boolean) => {
    setError('')
    setLoading(true)
    try {
      const page = await api<{ items: T[]; nextCursor: number | null }>(url(more ? cursor : null))
      const next = more ? [...items, ...page.items] : page.items
      setItems(next.slice(0, maxRows))
      setCursor(next.length >= maxRows ? null : page.nextCursor)
    } catch (err) {
      setError(messageOf(err))
    } finally {
      setLoading(false)
    }
  }
  return { items, cursor, error, loading, load }
}
