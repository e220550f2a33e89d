// Listening on ports, with the errors a person can act on.
import { createConnection, type Server } from 'node:net'

export class PortInUseError extends Error {
  constructor(
    readonly variable: string,
    readonly port: number,
    readonly host: string,
  ) {
    super(`${variable}: port ${port} on ${host} is already in use; stop what holds it or set ${variable} to a free port`)
    this.name = 'PortInUseError'
  }
}

/** Listens and resolves with the bound port (useful with port 0). `variable` names the setting. */
export function listen(server: Server, port: number, host: string, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      if (err.code === 'EADDRINUSE') reject(new PortInUseError(variable, port, host))
      else if (err.code === 'EACCES') reject(new Error(`${variable}: no permission to listen on port ${port}; use a port above 1023`))
      else reject(err)
    }
    const onListening = () => {
      server.off('error', onError)
      const addr = server.address()
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

/** Closes a server, resolving when every connection has ended or after `timeoutMs`. */
export function closeServer(server: Server, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs)
    server.close(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Whether something accepts TCP connections on host:port within `timeoutMs`. */
export function isReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    socket.setTimeout(timeoutMs)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

/** `listen` for a Fastify app (its own listen runs the onReady hooks): the bound port, or the same errors. */
export async function listenOn(app: { listen(opts: { port: number; host: string }): Promise<string>; server: Server }, variable: string, port: number, host: string): Promise<number> {
  try {
    await app.listen({ port, host })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(variable, port, host)
    throw err
  }
  const addr = app.server.address()
  return typeof addr === 'object' && addr !== null ? addr.port : port
}
