// A TCP proxy between the code under test and a real service, to cut the network path on demand:
// `cut()` destroys every open connection (both sides see a reset, mid-query if one is running)
// and refuses new ones until `restore()`. This is what a database restart, a failover or a broken
// network path looks like to a client — unlike ending idle connections from the server side.
import net from 'node:net'

export interface TcpProxy {
  /** Listens on a free port of 127.0.0.1 and resolves with it. */
  start(): Promise<number>
  /** Drops every connection now and refuses new ones. */
  cut(): void
  /** Accepts connections again. */
  restore(): void
  /** Closes the listener and every connection. */
  stop(): Promise<void>
  /** Connections currently open through the proxy. */
  readonly open: number
}

/** A proxy to `target`, by default the PostgreSQL server of the tests. */
export function tcpProxy(target: { host: string; port: number } = { host: '127.0.0.1', port: 5432 }): TcpProxy {
  const sockets = new Set<net.Socket>()
  let down = false
  const track = (s: net.Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
    // A reset is the expected end of a cut connection; nothing to report.
    s.on('error', () => undefined)
  }
  const server = net.createServer((client) => {
    track(client)
    if (down) {
      client.destroy()
      return
    }
    const upstream = net.connect(target)
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
  })
  const dropAll = () => {
    for (const s of sockets) s.resetAndDestroy()
    sockets.clear()
  }
  return {
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => {
          const addr = server.address()
          resolve(typeof addr === 'object' && addr !== null ? addr.port : 0)
        })
      }),
    cut() {
      down = true
      dropAll()
    },
    restore() {
      down = false
    },
    stop: () =>
      new Promise((resolve) => {
        dropAll()
        server.close(() => resolve())
      }),
    get open() {
      return sockets.size
    },
  }
}
