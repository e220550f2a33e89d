// The API client: the signed-in user's bearer token on every request; API errors keep their code
// and message so forms can show them next to the field they concern.
import { store } from './store.ts'

const TOKEN_KEY = 'hb-token'
export const token = store<string | null>(localStorage.getItem(TOKEN_KEY))

export function setToken(t: string | null): void {
  if (t === null) localStorage.removeItem(TOKEN_KEY)
  else localStorage.setItem(TOKEN_KEY, t)
  token.set(t)
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

export function authHeaders(): Record<string, string> {
  const t = token.get()
  return t ? { authorization: `Bearer ${t}` } : {}
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...authHeaders(), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? null : JSON.stringify(init.body),
  })
  const body = (res.status === 204 ? null : await res.json().catch(() => null)) as { code?: string; message?: string } | null
  if (!res.ok) {
    if (res.status === 401) setToken(null)
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
  const res = await fetch(path, { method: 'POST', headers: { ...authHeaders(), 'content-type': type }, body: file })
  const bytes = await res.arrayBuffer()
  // TextDecoder drops a leading byte-order mark, as res.text() would.
  const text = new TextDecoder().decode(bytes)
  const contentType = res.headers.get('content-type') ?? ''
  let json: unknown = null
  if (contentType.includes('json')) json = JSON.parse(text) as unknown
  if (!res.ok) {
    if (res.status === 401) setToken(null)
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
  const res = await fetch(path, { headers: authHeaders() })
  if (!res.ok) {
    if (res.status === 401) setToken(null)
    const body = (await res.json().catch(() => null)) as { code?: string; message?: string; details?: unknown } | null
    throw new ApiError(res.status, body?.code ?? 'http_error', body?.message ?? `HTTP ${res.status}`, body?.details)
  }
  const a = document.createElement('a')
  a.href = URL.createObjectURL(await res.blob())
  a.download = fileName(res) ?? fallbackName
  a.click()
  URL.revokeObjectURL(a.href)
}
