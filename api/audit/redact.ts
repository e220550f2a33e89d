// What of a request the audit log keeps: the body and query as sent, every secret taken out,
// bounded. Pure functions, tested without a server (test/unit/audit-redact*.test.ts).
// Secrets go by documented lists (README, "Audit log"; issue 18 found `pwd=`, `sig=`, `X-Auth`,
// `Cookie`, `credentials` kept in clear): a key or header name naming a secret (SECRET_FRAGMENTS
// in its letters, or SECRET_WORDS among its words) loses its whole value, wherever it is a key,
// the name of a `{ name, value }` entry or `[name, value]` pair, or a `Name: value` line; URLs
// anywhere in text lose their userinfo password, secret-named query and fragment parameters and
// the path after a `hook(s)` segment; `Bearer …` credentials go. A non-JSON body is kept as its
// type and size. Bounds: MAX_DEPTH, MAX_STRING (NUL and lone surrogates escaped for jsonb), and a
// body past MAX_BODY_CHARS becomes { truncated, chars, excerpt } cut from the redacted JSON.

import { storableText } from '../../shared/text.ts'

export const SECRET_FRAGMENTS = ['password', 'passwd', 'passphrase', 'secret', 'token', 'key', 'hash', 'authorization', 'credential', 'signature', 'cookie'] as const
export const SECRET_WORDS = ['pwd', 'pw', 'pass', 'auth', 'sig', 'sign', 'otp'] as const
export const REDACTED = '[redacted]'
/** Characters of redacted JSON kept per body (a rule or a policy fits; a 300-row import does not). */
export const MAX_BODY_CHARS = 4096
const MAX_DEPTH = 16
const MAX_STRING = 1000

const WORDS: ReadonlySet<string> = new Set(SECRET_WORDS)

/** Whether a key, header or parameter name names a secret (see the header for the lists). */
export function isSecretName(name: string): boolean {
  const compact = name.toLowerCase().replace(/[^a-z0-9]/g, '')
  if (SECRET_FRAGMENTS.some((f) => compact.includes(f))) return true
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/)
  return words.some((w) => WORDS.has(w))
}

const HOOK_SEGMENTS = new Set(['hook', 'hooks', 'webhooks'])

/** `params` with the values of secret-named parameters replaced; whether any was. */
function scrubParams(params: URLSearchParams): boolean {
  let changed = false
  for (const name of [...params.keys()]) {
    if (isSecretName(name)) {
      params.set(name, REDACTED)
      changed = true
    }
  }
  return changed
}

function scrubUrl(s: string, base?: string): string {
  let url: URL
  try {
    url = new URL(s, base)
  } catch {
    return s
  }
  let changed = false
  if (url.password) {
    url.password = REDACTED
    changed = true
  }
  if (scrubParams(url.searchParams)) changed = true
  if (url.hash.includes('=')) {
    const fragment = new URLSearchParams(url.hash.slice(1))
    if (scrubParams(fragment)) {
      url.hash = fragment.toString()
      changed = true
    }
  }
  const segments = url.pathname.split('/')
  const hook = segments.findIndex((p) => HOOK_SEGMENTS.has(p.toLowerCase()))
  if (hook >= 0 && hook < segments.length - 1 && segments.slice(hook + 1).some(Boolean)) {
    url.pathname = [...segments.slice(0, hook + 1), REDACTED].join('/')
    changed = true
  }
  if (!changed) return s
  // A path given without an origin comes back without one.
  return base === undefined ? url.toString() : url.toString().slice(url.origin.length)
}

const EMBEDDED_URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi
const RELATIVE_WITH_QUERY = /^\/[^\s?]*\?\S*$/
const SCHEME_CREDENTIALS = /\b(Bearer|Basic|Digest)\s+[\w~+/=.-]+/gi
const HEADER_LINE = /^([A-Za-z][\w-]*)([ \t]*:[ \t]*)(.+)$/gm

function scrubText(s: string): string {
  let out = s.replace(EMBEDDED_URL, (u) => scrubUrl(u))
  if (RELATIVE_WITH_QUERY.test(out)) out = scrubUrl(out, 'http://relative.invalid')
  out = out.replace(SCHEME_CREDENTIALS, (_m, scheme: string) => `${scheme} ${REDACTED}`)
  return out.replace(HEADER_LINE, (line, name: string, sep: string) => (isSecretName(name) ? `${name}${sep}${REDACTED}` : line))
}

function cleanString(s: string): string {
  return scrubText(storableText(s, MAX_STRING))
}

/** A `{ name: "X-Auth", value }` header entry: the name given under one of these keys. */
const ENTRY_NAME_KEYS = ['name', 'key', 'header'] as const

function entryNamesSecret(o: Record<string, unknown>): boolean {
  return ENTRY_NAME_KEYS.some((k) => typeof o[k] === 'string' && isSecretName(o[k]))
}

/** `value` with every secret replaced by "[redacted]" (see the header), as plain JSON data. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cleanString(value)
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value
  if (value instanceof Date) return value.toISOString()
  if (typeof value !== 'object') return null
  if (depth >= MAX_DEPTH) return '[too deep]'
  if (Array.isArray(value)) {
    // A ["Cookie", "sid=…"] pair: the name stays, the value goes.
    if (value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && isSecretName(value[0])) return [cleanString(value[0]), REDACTED]
    return value.map((v) => redact(v, depth + 1))
  }
  const entry = value as Record<string, unknown>
  const secretEntry = entryNamesSecret(entry)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(entry)) out[cleanString(k)] = isSecretName(k) || (secretEntry && k === 'value') ? REDACTED : redact(v, depth + 1)
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
