// The API client: the signed-in user's bearer token on every request, or, signed in with a
// password, the session cookie (HttpOnly: the browser sends it, the page never sees it) and the
// session's CSRF value on every request that changes something. API errors keep their code and
// message so forms can show them next to the field they concern.
import { store } from './store.ts'

const TOKEN_KEY = 'hb-token'
export const token = store<string | null>(localStorage.getItem(TOKEN_KEY))

export function setToken(t: string | null): void {
  if (t === null) localStorage.removeItem(TOKEN_KEY)
  else localStorage.setItem(TOKEN_KEY, t)
  token.set(t)
}

/** Set while signed in with a password: a reload asks GET /me whether the cookie still works. */
const SESSION_KEY = 'hb-session'
export const session = store<boolean>(localStorage.getItem(SESSION_KEY) === '1')
/** The session's CSRF value (from the sign-in or GET /me), kept in memory only. */
let csrf: string | null = null

export function setSession(value: { csrf: string } | null): void {
  if (value === null) localStorage.removeItem(SESSION_KEY)
  else localStorage.setItem(SESSION_KEY, '1')
  csrf = value?.csrf ?? null
  session.set(value !== null)
}

/** Signed out by the server (401): neither the token nor the session works any more. */
function signedOut(): void {
  setToken(null)
  if (session.get()) setSession(null)
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** What the API adds to some refusals (an import's list of problems). */
    readonly details?: unknown,
  ) {
    super(message)
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The credential of a request: the bearer token, or (with the cookie) the CSRF value when `method` changes something. */
export function authHeaders(method = 'GET'): Record<string, string> {
  const t = token.get()
  if (t) return { authorization: `Bearer ${t}` }
  return csrf !== null && !SAFE.has(method.toUpperCase()) ? { 'x-hb-csrf': csrf } : {}
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST')
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { ...authHeaders(method), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? null : JSON.stringify(init.body),
  })
  const body = (res.status === 204 ? null : await res.json().catch(() => null)) as { code?: string; message?: string } | null
  if (!res.ok) {
    if (res.status === 401) signedOut()
    throw new ApiError(res.status, body?.code ?? 'http_error', body?.message ?? `HTTP ${res.status}`)
  }
  return body as T
}

/** Every page of a cursor-paginated list, up to `max` items. */
export async function all<T>(path: string, max = 5000): Promise<T[]> {
  const out: T[] = []
  let cursor: string | number | null = null
  const sep = path.includes('?') ? '&' : '?'
  do {
    const page: { items: T[]; nextCursor: string | number | null } = await api(`${path}${sep}limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    out.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null && out.length < max)
  return out
}

/** The file name a response's Content-Disposition gives. */
const fileName = (res: Response): string | undefined => /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1]

/**
 * Sends a file as it is (a CSV import), so the server judges its encoding; answers the response
 * text, the response itself as a file (a CSV download: its bytes as sent, byte-order mark
 * included, which the text drops) and, for JSON answers, the parsed body.
 */
export async function sendFile(path: string, file: Blob, type: string): Promise<{ status: number; text: string; json: unknown; file: Blob; name: string | undefined }> {
  const res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { ...authHeaders('POST'), 'content-type': type }, body: file })
  const bytes = await res.arrayBuffer()
  // TextDecoder drops a leading byte-order mark, as res.text() would.
  const text = new TextDecoder().decode(bytes)
  const contentType = res.headers.get('content-type') ?? ''
  let json: unknown = null
  if (contentType.includes('json')) json = JSON.parse(text) as unknown
  if (!res.ok) {
    if (res.status === 401) signedOut()
    const body = json as { code?: string; message?: string; details?: unknown } | null
    throw new ApiError(res.status, body?.code ?? 'http_error', body?.message ?? `HTTP ${res.status}`, body?.details)
  }
  return { status: res.status, text, json, file: new Blob([bytes], { type: contentType }), name: fileName(res) }
}

/**
 * Downloads what `path` answers as a file (a CSV export). A link cannot carry the bearer token,
 * so the file is fetched with it and handed to the browser; a refusal (an export too large)
 * throws with the API's code, for the caller to say why.
 */
export async function download(path: string, fallbackName: string): Promise<void> {
  const res = await fetch(path, { credentials: 'same-origin', headers: authHeaders() })
  if (!res.ok) {
    if (res.status === 401) signedOut()
    const body = (await res.json().catch(() => null)) as { code?: string; message?: string; details?: unknown } | null
    throw new ApiError(res.status, body?.code ?? 'http_error', body?.message ?? `HTTP ${res.status}`, body?.details)
  }
  const a = document.createElement('a')
  a.href = URL.createObjectURL(await res.blob())
  a.download = fileName(res) ?? fallbackName
  a.click()
  URL.revokeObjectURL(a.href)
}
