// The live alert stream: Server-Sent Events read through fetch, because EventSource cannot send
// the bearer token. Like EventSource, it reconnects after a drop and sends Last-Event-ID, so the
// API replays what was missed from the database before the live events (api/routes/alert-stream.ts).
import { authHeaders } from './api.ts'
import { store } from './store.ts'
import type { Alert, AlertEvent } from './types.ts'

export interface LiveEvent extends AlertEvent {
  alert: Alert
}

export const connected = store(false)
const RETRY_MS = 2000

/**
 * Streams until `signal` aborts; calls `onEvent` for every event, in order. A reconnect before any
 * event arrived has no id to resume from: `onGap` is called so the caller reloads instead.
 */
export async function follow(onEvent: (e: LiveEvent) => void, signal: AbortSignal, onGap: () => void): Promise<void> {
  let lastId: string | undefined
  let first = true
  while (!signal.aborted) {
    try {
      if (!first && lastId === undefined) onGap()
      first = false
      const headers: Record<string, string> = { ...authHeaders(), accept: 'text/event-stream' }
      if (lastId !== undefined) headers['last-event-id'] = lastId
      const res = await fetch('/api/v1/alerts/stream', { headers, signal })
      if (res.status === 401 || res.status === 403) return
      if (!res.ok || !res.body) throw new Error(`alert stream: HTTP ${res.status}`)
      connected.set(true)
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        const frames = buffer.split('\n\n')
        buffer = frames.pop() ?? ''
        for (const frame of frames) {
          const id = /^id: (\d+)$/m.exec(frame)?.[1]
          const data = /^data: (.*)$/m.exec(frame)?.[1]
          if (id === undefined || data === undefined) continue
          lastId = id
          onEvent(JSON.parse(data) as LiveEvent)
        }
      }
    } catch {
      // Dropped or refused: retry below, resuming from lastId.
    }
    connected.set(false)
    await new Promise((r) => setTimeout(r, RETRY_MS))
  }
}
