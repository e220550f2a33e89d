// Closing the database of the all-in-one mode (core/db/client.ts): the pool's connections end,
// then the embedded server stops. pg-pool's end() asks each idle client to end without waiting
// for it, so a server stopped right after terminated backends that had not read their client's
// Terminate yet, and each such client reported "terminating connection due to administrator
// command" with a stack trace — at every Ctrl-C of `npm start` that had idle connections (issue 16).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { openDb } from '../../core/db/client.ts'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe('closing the embedded database', () => {
  it('ends every connection before the server stops: nothing is reported lost', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hb-close-'))
    dirs.push(dir)
    const lines: string[] = []
    const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) })
    for (let round = 0; round < 3; round++) {
      const db = await openDb({ dataDir: path.join(dir, 'postgres'), log })
      // Several connections, idle in the pool when it closes.
      await Promise.all(Array.from({ length: 8 }, () => db.query('SELECT pg_sleep(0.05)')))
      await db.close()
    }
    expect(lines.filter((l) => /connection lost|"stack"/.test(l))).toEqual([])
  })
})
