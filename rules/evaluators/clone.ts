// A deep copy of an evaluator's state that keeps each object's class, so the copy behaves like the
// original (structuredClone drops prototypes). Evaluators hold numbers, strings, arrays, Maps, Sets
// and objects of their own classes; functions (none carry state here) are shared, not copied.
export function cloneState<T>(value: T): T {
  return copy(value, new Map()) as T
}

function copy(v: unknown, seen: Map<object, unknown>): unknown {
  if (typeof v !== 'object' || v === null) return v
  const known = seen.get(v)
  if (known !== undefined) return known
  if (Array.isArray(v)) {
    const out: unknown[] = new Array<unknown>(v.length)
    seen.set(v, out)
    for (let i = 0; i < v.length; i++) out[i] = copy(v[i], seen)
    return out
  }
  if (v instanceof Map) {
    const out = new Map<unknown, unknown>()
    seen.set(v, out)
    for (const [k, x] of v) out.set(k, copy(x, seen))
    return out
  }
  if (v instanceof Set) {
    const out = new Set<unknown>()
    seen.set(v, out)
    for (const x of v) out.add(copy(x, seen))
    return out
  }
  if (v instanceof Date) return new Date(v.getTime())
  const out = Object.create(Object.getPrototypeOf(v) as object | null) as Record<string, unknown>
  seen.set(v, out)
  for (const k of Object.keys(v)) out[k] = copy((v as Record<string, unknown>)[k], seen)
  return out
}
