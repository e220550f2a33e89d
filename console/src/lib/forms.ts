// Forms against the API: its validation errors name the field (`body.params.value: 500 is outside
// …`, see api/plugins/errors.ts), so each message is shown next to the input it concerns and the
// rest above the form. The messages stay the API's own words: they say what to fix.
import { useState } from 'preact/hooks'
import { ApiError } from './api.ts'

export interface Problems {
  /** Field path (as the API names it, without `body.`) → message. */
  fields: Record<string, string>
  /** What names no field on this form. */
  general: string
}

export const NO_PROBLEMS: Problems = { fields: {}, general: '' }

/** One problem of a validation message: `body.a.b: text` or `body.a must …`. */
const FIELD = /^body\.([A-Za-z0-9_.-]+?)(?::\s*|\s+(?=must|is|should))(.*)$/s

/**
 * Splits an API error over the form's fields. `known` lists the fields the form shows; a message
 * for another path (an override, a nested clause) goes to `general` with its path kept.
 * A conflict (the id is taken) is the id field's problem, or the field its message names.
 */
export function problemsOf(err: unknown, known: readonly string[]): Problems {
  if (!(err instanceof ApiError)) return { fields: {}, general: String(err) }
  if (err.code === 'conflict') {
    // A conflict that names its field (`body.wecomUserId: … linked to another user`) is that field's.
    const named = FIELD.exec(err.message)
    if (named?.[1] !== undefined && known.includes(named[1])) return { fields: { [named[1]]: named[2] ?? err.message }, general: '' }
    if (known.includes('id')) return { fields: { id: err.message }, general: '' }
  }
  // The egress guard's refusal names the field too (`body.settings.url: the address of … is loopback`).
  if (err.code !== 'validation_failed' && err.code !== 'destination_denied') return { fields: {}, general: err.message }
  const fields: Record<string, string> = {}
  const rest: string[] = []
  // A refusal of the guard is one sentence with a semicolon in it, not a list of problems.
  for (const part of err.code === 'destination_denied' ? [err.message] : err.message.split('; ')) {
    const m = FIELD.exec(part)
    const path = m?.[1]
    if (path !== undefined && known.includes(path)) {
      const text = m?.[2] ?? part
      fields[path] = fields[path] ? `${fields[path]}; ${text}` : text
    } else rest.push(part)
  }
  return { fields, general: rest.join('; ') }
}

/** A form's submit: clears the problems, runs the request, and spreads its error over the fields. */
export function useSubmit(known: readonly string[]): { problems: Problems; busy: boolean; run: (fn: () => Promise<void>) => Promise<boolean> } {
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS)
  const [busy, setBusy] = useState(false)
  const run = async (fn: () => Promise<void>): Promise<boolean> => {
    setProblems(NO_PROBLEMS)
    setBusy(true)
    try {
      await fn()
      return true
    } catch (err) {
      setProblems(problemsOf(err, known))
      return false
    } finally {
      setBusy(false)
    }
  }
  return { problems, busy, run }
}

/** Trimmed text, or undefined when empty (the API's optional fields). */
export const opt = (s: string): string | undefined => (s.trim() === '' ? undefined : s.trim())
/** A number from an input, or undefined when empty; NaN stays so the API names the field. */
export const optNum = (s: string): number | undefined => (s.trim() === '' ? undefined : Number(s))

/** `set('name')` → an input/select handler writing that field of the form state. */
export function setter<F extends Record<string, string>>(f: F, setF: (next: F) => void): (k: keyof F) => (e: Event) => void {
  return (k) => (e) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value })
}

/** The message of a failed request, for a line above the list. */
export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** A create/edit form's submit: runs `save`, and on success calls `onDone`. */
export function useSave(known: readonly string[], save: () => Promise<void>, onDone: () => void): { problems: Problems; busy: boolean; submit: (e: Event) => void } {
  const { problems, busy, run } = useSubmit(known)
  const submit = (e: Event) => {
    e.preventDefault()
    void run(save).then((ok) => ok && onDone())
  }
  return { problems, busy, submit }
}
