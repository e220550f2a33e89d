// Finding a free port for the all-in-one demo when a default one is taken (e.g. 1883 by Mosquitto).
import net from 'node:net'

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })
}

/** `preferred` if free, else the next free one among the following `tries` ports. */
export async function firstFreePort(host: string, preferred: number, tries = 20): Promise<number | undefined> {
  for (let port = preferred; port < preferred + tries; port++) {
    if (await isFree(host, port)) return port
  }
  return undefined
}
