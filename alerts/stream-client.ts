// A small client of the live alert stream (SSE over HTTP with a bearer token), for Node programs:
// the tests and the alerts benchmark use it to see events as an operator console does.
import http from 'node:http'

export interface StreamEvent {
  id: number
  type: string
  data: {
    id: number
    type: string
    note: string | null
    data: Record<string, unknown> | null
    alert: { id: number; ruleId: string; deviceId: string | null; severity: string; state: string; condition: string; ackDeadline: string; raisedAt: string; predictedAt: string | null; reraiseOf: number | null; lastValue: number | null }
  }
  receivedAt: number
}

export interface StreamClient {
  events: StreamEvent[]
  close(): void
}

export function openStream(port: number, token: string, lastEventId?: number): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const events: StreamEvent[] = []
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId)
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/alerts/stream', headers }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream answered ${res.statusCode}`))
        return
      }
      let buf = ''
      // A server that dies ends the stream; the events so far stay readable.
      res.on('error', () => undefined)
      res.on('data', (d: Buffer) => {
        buf += d.toString()
        const frames = buf.split('\n\n')
        buf = frames.pop() ?? ''
        for (const f of frames) {
          const id = /^id: (\d+)$/m.exec(f)?.[1]
          const type = /^event: (\S+)$/m.exec(f)?.[1]
          const data = /^data: (.*)$/m.exec(f)?.[1]
          if (id && type && data) events.push({ id: Number(id), type, data: JSON.parse(data) as StreamEvent['data'], receivedAt: Date.now() })
        }
      })
      resolve({ events, close: () => req.destroy() })
    })
    req.on('error', reject)
  })
}
