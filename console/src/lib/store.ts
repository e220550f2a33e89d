// A value that components subscribe to: the smallest shared state that re-renders its readers.
import { useEffect, useState } from 'preact/hooks'

export interface Store<T> {
  get(): T
  set(next: T): void
  subscribe(fn: (v: T) => void): () => void
}

export function store<T>(initial: T): Store<T> {
  let value = initial
  const subs = new Set<(v: T) => void>()
  return {
    get: () => value,
    set(next) {
      value = next
      for (const fn of subs) fn(value)
    },
    subscribe(fn) {
      subs.add(fn)
      return () => subs.delete(fn)
    },
  }
}

/** The store's current value; the component re-renders when it changes. */
export function useStore<T>(s: Store<T>): T {
  const [, tick] = useState(0)
  const seen = s.get()
  useEffect(() => {
    const unsubscribe = s.subscribe(() => tick((n) => n + 1))
    // A change between this render and the subscription would otherwise be missed.
    if (s.get() !== seen) tick((n) => n + 1)
    return unsubscribe
  }, [s])
  return seen
}
