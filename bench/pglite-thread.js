// The worker-thread side of bench/pglite-worker.ts: one PGlite on disk, its statements run here so
// that their CPU is off the broker's event loop. Plain JavaScript: a worker thread does not inherit
// the tsx loader the main thread registered.
import { Blob } from 'node:buffer'
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'

const lite = await PGlite.create(workerData.dataDir)
const port = parentPort
const unlisten = new Map()

async function handle(msg) {
  switch (msg.op) {
    case 'query':
      return (await lite.query(msg.sql, msg.params)).rows
    case 'exec':
      await lite.exec(msg.sql)
      return undefined
    case 'copy':
      // PGlite has no COPY protocol stream: it reads COPY input from a Blob at /dev/blob.
      return (await lite.query(msg.sql, [], { blob: new Blob([msg.data]) })).affectedRows ?? 0
    case 'listen':
      unlisten.set(msg.channel, await lite.listen(msg.channel, (payload) => port.postMessage({ notify: msg.channel, payload })))
      return undefined
    case 'unlisten':
      await unlisten.get(msg.channel)?.()
      unlisten.delete(msg.channel)
      return undefined
    case 'close':
      await lite.close()
      return undefined
    default:
      throw new Error(`unknown operation ${msg.op}`)
  }
}

port.on('message', (msg) => {
  handle(msg).then(
    (result) => port.postMessage({ id: msg.id, result }),
    (err) => port.postMessage({ id: msg.id, error: { message: err?.message ?? String(err), code: err?.code } }),
  )
})
port.postMessage({ ready: true })
