// A TCP load balancer for the topology test, as a deployment puts one in front of several brokers
// or API processes: each new connection goes to the next backend in turn, and to the one after
// when a backend refuses the connection (a killed process). Connections already open to a backend
// that dies end with it; their clients connect again and land on a live one.
import net from 'node:net'

export interface TcpBalancer {
  port: number
  stop(): Promise<void>
}

export async function tcpBalancer(ports: readonly number[]): Promise<TcpBalancer> {
  const sockets = new Set<net.Socket>()
  const track = (s: net.Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
    s.on('error', () => undefined)
  }
  let next = 0
  const server = net.createServer((client) => {
    track(client)
    client.pause()
    const first = next++ % ports.length
    const tryBackend = (attempt: number) => {
      if (attempt >= ports.length || client.destroyed) {
        client.destroy()
        return
      }
      const upstream = net.connect({ host: '127.0.0.1', port: ports[(first + attempt) % ports.length] ?? 0 })
      track(upstream)
      let connected = false
      // Refused (nothing listens there any more): the next backend. After the connection, an
      // error ends both sides through 'close'.
      upstream.once('error', () => {
        if (!connected) tryBackend(attempt + 1)
      })
      upstream.once('connect', () => {
        connected = true
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
        client.once('close', () => upstream.destroy())
        upstream.once('close', () => client.destroy())
      })
    }
    tryBackend(0)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const addr = server.address()
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
