// The top-level members of a JSON object exactly as they stand in its text. A signature covers
// the characters a platform sent (OneNET signs the text of its push's `msg`), which
// JSON.stringify of the parsed value might not reproduce; and JSON.parse keeps the last of two
// equal keys where a scan for the signed text finds the first — the gap the duplicate-`msg`
// forgery of issue 18 went through. So a receiver reads the members here, refuses a duplicate,
// and processes the very text it verified.
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './telemetry.ts'

export interface JsonMember {
  /** The key, unescaped. */
  name: string
  /** The value's JSON text, trimmed, as sent. */
  raw: string
}

/** The index of the quote that closes the string opening at `i`. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++
    else if (text[j] === '"') return j
  }
  return text.length
}

/**
 * The members of the object `text` in their order, duplicates included. `text` must be valid JSON
 * whose top level is an object (check with parseJsonObject first).
 */
export function topLevelMembers(text: string): JsonMember[] {
  const out: JsonMember[] = []
  let depth = 0
  let key: string | undefined
  let valueStart = -1
  const close = (end: number) => {
    if (key !== undefined && valueStart >= 0) out.push({ name: JSON.parse(key) as string, raw: text.slice(valueStart, end).trim() })
    key = undefined
    valueStart = -1
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      const end = stringEnd(text, i)
      if (depth === 1 && valueStart < 0) key = text.slice(i, end + 1)
      i = end
    } else if (c === '{' || c === '[') {
      depth++
    } else if (c === '}' || c === ']') {
      if (depth === 1) close(i)
      depth--
    } else if (depth === 1 && c === ':' && valueStart < 0) {
      valueStart = i + 1
    } else if (depth === 1 && c === ',') {
      close(i)
    }
  }
  return out
}

/** The names that occur more than once among `members`. */
export function duplicateNames(members: readonly JsonMember[]): string[] {
  const seen = new Set<string>()
  const twice = new Set<string>()
  for (const m of members) (seen.has(m.name) ? twice : seen).add(m.name)
  return [...twice]
}

export type ParsedObject = { ok: true; text: string; value: Record<string, unknown> } | { ok: false; message: string }

/**
 * A request body that must be one JSON object: nesting bounded before parsing (10,000 levels once
 * answered 500), then parsed; null, arrays, numbers and strings refused with what was expected.
 */
export function parseJsonObject(bytes: Buffer, expected: string): ParsedObject {
  if (bytes.length === 0) return { ok: false, message: `body: empty; expected ${expected}` }
  if (jsonDepthExceeds(bytes, MAX_JSON_DEPTH)) return { ok: false, message: `body: nested deeper than ${MAX_JSON_DEPTH} levels; expected ${expected}` }
  const text = bytes.toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text) as unknown
  } catch {
    return { ok: false, message: `body: not JSON; expected ${expected}` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`
    return { ok: false, message: `body: ${got}; expected ${expected}` }
  }
  return { ok: true, text, value: value as Record<string, unknown> }
}
