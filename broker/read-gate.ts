// Reads from a connection only while none of its packets is still being handled.
//
// Aedes 1.2 (lib/client.js, `nextBatch`) counts the packets of a read that are still being handled
// (`_parsingBatch`) and reads the socket again only when that count is back to zero: our
// `authorizePublish` holds each publication until its batch has committed, so a device whose
// publications wait is no longer read and TCP pushes back on it. But Aedes attaches the same
// `nextBatch` to the socket's 'readable' event, and every 'readable' decrements the count as if a
// packet had finished. A publication larger than one read (anything over the socket's chunk, e.g.
// a 256 KiB batch) makes more data arrive while it waits, the next 'readable' brings the count to
// zero, and the broker goes on reading and holding payloads in memory without bound — the chaos
// suite saw 274 → 650 MiB during a database outage, test/integration/broker-backpressure.test.ts
// 80 MiB taken from one device whose commits were held.
//
// The gate replaces that listener with one that asks for the next read only when no packet of the
// connection is in flight; the handler that finishes last reads on (Aedes calls `nextBatch` itself
// then). Aedes is pinned to an exact version because this reaches into its client.
import type { Duplex } from 'node:stream'

/** The two members of Aedes' Client this relies on (lib/client.js in aedes 1.2.0). */
interface AedesReadState {
  _parsingBatch: number
  _nextBatch: (err?: Error) => void
}

export function gateReads(stream: Duplex, client: unknown): void {
  const c = client as Partial<AedesReadState>
  const next = c._nextBatch
  if (typeof next !== 'function' || typeof c._parsingBatch !== 'number') {
    // Another Aedes version: leave its own flow control as it is rather than break reading.
    return
  }
  stream.off('readable', next)
  // Aedes starts the count at 1 for the first read, which its first 'readable' takes back.
  let first = true
  stream.on('readable', () => {
    if (first || (c._parsingBatch ?? 0) <= 0) {
      first = false
      next()
    }
  })
}
