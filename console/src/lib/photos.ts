// Photos of an alert. Uploads send the file itself as the body (the API reads its type from the
// bytes). Images need the bearer token, which <img src> cannot send: they are fetched as blobs and
// shown through object URLs, which their users revoke when they go.
import { ApiError, authHeaders } from './api.ts'

export async function uploadPhoto(alertId: number, file: Blob): Promise<void> {
  const res = await fetch(`/api/v1/alerts/${alertId}/photos`, {
    method: 'POST',
    headers: { ...authHeaders('POST'), 'content-type': file.type || 'application/octet-stream' },
    body: file,
  })
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { code?: string; message?: string } | null
    throw new ApiError(res.status, body?.code ?? 'http_error', body?.message ?? `HTTP ${res.status}`)
  }
}

/** Uploads each file in turn; the first refusal stops the rest and is thrown. */
export async function uploadPhotos(alertId: number, files: readonly Blob[]): Promise<void> {
  for (const f of files) await uploadPhoto(alertId, f)
}

export const photoUrl = (alertId: number, photoId: number) => `/api/v1/alerts/${alertId}/photos/${photoId}`

/** An object URL of the image at `url`; revoke it with URL.revokeObjectURL when done. */
export async function photoObjectUrl(url: string, signal?: AbortSignal): Promise<string> {
  const res = await fetch(url, { headers: authHeaders(), ...(signal ? { signal } : {}) })
  if (!res.ok) throw new ApiError(res.status, 'http_error', `HTTP ${res.status}`)
  return URL.createObjectURL(await res.blob())
}
