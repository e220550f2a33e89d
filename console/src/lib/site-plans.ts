// A community's site plan: uploading the image as it is (the API reads its type from the bytes),
// deleting it, placing devices on it at fractions of the image, and fetching the image with the
// credential an <img> cannot send (shown through an object URL its user revokes).
import { api, ApiError, authHeaders } from './api.ts'

const planPath = (communityId: string) => `/api/v1/communities/${encodeURIComponent(communityId)}/site-plan`

async function refusal(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { code?: string; message?: string } | null
  return new ApiError(res.status, body?.code ?? 'http_error', body?.message ?? `HTTP ${res.status}`)
}

export async function uploadPlan(communityId: string, file: Blob): Promise<void> {
  const res = await fetch(planPath(communityId), {
    method: 'PUT',
    credentials: 'same-origin',
    headers: { ...authHeaders('PUT'), 'content-type': file.type || 'application/octet-stream' },
    body: file,
  })
  if (!res.ok) throw await refusal(res)
}

export const deletePlan = (communityId: string) => api<null>(planPath(communityId), { method: 'DELETE' })

/** Places a device at fractions of its plan (x from the left, y from the top), or takes it off (null). */
export function placeDevice(deviceId: string, at: { x: number; y: number } | null): Promise<unknown> {
  const path = `/api/v1/devices/${encodeURIComponent(deviceId)}/plan-position`
  return at === null ? api(path, { method: 'DELETE' }) : api(path, { method: 'PUT', body: at })
}

/** An object URL of the plan's image; revoke it with URL.revokeObjectURL when done. */
export async function planObjectUrl(url: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(url, { credentials: 'same-origin', headers: authHeaders(), signal })
  if (!res.ok) throw await refusal(res)
  return URL.createObjectURL(await res.blob())
}
