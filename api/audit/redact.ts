// What of a request the audit log keeps: the body and query as sent, with every secret taken out,
// bounded. Pure functions, so the rules are tested without a server (test/unit/audit-redact.test.ts).
//
// - A key that names a secret — matching secret, password, token, key, authorization or hash, in
//   any case, at any depth (`secrets`, `apiKey`, `keys.p256dh`, `tokenHash`) — keeps its key and
//   loses its value: "[redacted]". The whole value goes, object or array, not only strings.
// - A URL in a string loses its password (`https://user:[redacted]@host`) and the values of query
//   parameters whose names match the same pattern (a WeCom bot URL carries its key as `?key=`).
// - A non-JSON body (a CSV file, an image) is summed up as its content type and size: the rows of
//   a device import are devices, not a change anyone reads back from here.
// - Bounded: nesting past MAX_DEPTH becomes "[too deep]", each string is cut to MAX_STRING
//   characters (NUL and lone surrogates escaped: jsonb refuses them), and a body whose JSON is
//   longer than MAX_BODY_CHARS is stored as { truncated: true, chars, excerpt }, the excerpt cut
//   from the already-redacted JSON, so no cut can expose what redaction removed.

import { storableText } from '../../core/text.ts'

/** Keys whose values are never stored. */
export const SECRET_KEY = /secret|password|token|key|authorization|hash/i
export const REDACTED = '[redacted]'
/** Characters of redacted JSON kept per body (a rule or a policy fits; a 300-row import does not). */
export const MAX_BODY_CHARS = 4096
const MAX_DEPTH = 16
const MAX_STRING = 1000

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i

function scrubUrl(s: string): string {
  let url: URL
  try {
    url = new URL(s)
  } catch {
    return s
  }
  let changed = false
  if (url.password) {
    url.password = REDACTED
    changed = true
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_KEY.test(name)) {
      url.searchParams.set(name, REDACTED)
      changed = true
    }
  }
  return changed ? url.toString() : s
}

function cleanString(s: string): string {
  const safe = storableText(s, MAX_STRING)
  return URL_LIKE.test(safe) ? scrubUrl(safe) : safe
}

/** `value` with every secret replaced by "[redacted]" (see the header), as plain JSON data. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cleanString(value)
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value
  if (value instanceof Date) return value.toISOString()
  if (typeof value !== 'object') return null
  if (depth >= MAX_DEPTH) return '[too deep]'
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[cleanString(k)] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1)
  return out
}

/** What the audit log stores of a request body; null when there was none. */
export function auditBody(body: unknown, contentType: string | undefined): unknown {
  if (body === undefined || body === null) return null
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() || 'application/octet-stream'
    return { contentType: type, bytes: typeof body === 'string' ? Buffer.byteLength(body) : body.length }
  }
  const clean = redact(body)
  const json = JSON.stringify(clean)
  if (json.length <= MAX_BODY_CHARS) return clean
  return { truncated: true, chars: json.length, excerpt: storableText(json, MAX_BODY_CHARS) }
}

/** The query string's parameters, redacted; null when there are none. */
export function auditQuery(query: unknown): Record<string, unknown> | null {
  if (query === null || typeof query !== 'object' || Object.keys(query).length === 0) return null
  return redact(query) as Record<string, unknown>
}
