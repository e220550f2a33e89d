// A real local webhook receiver for the tests of deadline escalations across several API
// processes: it counts every delivery by its event id (x-hb-event-id), so a delivery made twice
// shows, and keeps which deadline (acknowledge, resolve) each escalation was for, by alert.
import http from 'node:http'

export interface EscalationReceiver {
  /** The webhook URL to register. */
  url: string
  /** Deliveries received, by event id. */
  received: Map<string, number>
  /** Every delivery in the order it came. */
  escalations: { alertId: number; deadline: unknown }[]
  close(): void
}

export async function startEscalationReceiver(): Promise<EscalationReceiver> {
  const received = new Map<string, number>()
  const escalations: { alertId: number; deadline: unknown }[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => {
      const id = String(req.headers['x-hb-event-id'])
      received.set(id, (received.get(id) ?? 0) + 1)
      const event = JSON.parse(body) as { data: { deadline?: unknown } | null; alert: { id: number } }
      escalations.push({ alertId: event.alert.id, deadline: event.data?.deadline })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`,
    received,
    escalations,
    close: () => server.close(),
  }
}
