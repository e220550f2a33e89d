// `housing-brain up` without DATABASE_URL runs on the embedded PostgreSQL, a server child process
// with its cluster in DATA_DIR (core/db/embedded-postgres.ts). A `kill -9` of `up` gives it no
// chance to stop that server: the next `up` on the same directory must find it, stop it, start
// its own and hold every reading acknowledged before; a clean stop leaves no server behind;
// a second `up` while the first still runs must not take its database away; and a DATA_DIR with
// the PGlite database of an earlier version starts anew beside it, with an admin token that works.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { eventually } from '../helpers/services.ts'
import { registerElevators, startUp, storedTimestamps, type UpProcess } from '../helpers/up-process.ts'

const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

/** Pids of PostgreSQL servers (postmasters) running on `dir`, from /proc. */
async function serversOn(dir: string): Promise<number[]> {
  const pids = new Map<number, number>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0')
    if (!argv[0]?.endsWith('/postgres') || argv[argv.indexOf('-D') + 1] !== dir) continue
    // The parent's pid (field 4 of stat, after the parenthesised name).
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
    pids.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
  }
  // A backend just forked keeps the server's command line until it renames itself: count servers only.
  return [...pids.keys()].filter((pid) => !pids.has(pids.get(pid) ?? 0))
}

const METRIC = 'car_load_kg'
const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')

/** Publishes `count` readings (QoS 1: each PUBACK means committed) one millisecond apart from `fromTs`. */
async function publish(up: UpProcess, id: string, secret: string, fromTs: number, count: number): Promise<void> {
  const client = await up.connect(id, secret)
  for (let i = 0; i < count; i++) {
    await client.publishAsync(topics.deviceTelemetry(id), JSON.stringify({ ts: fromTs + i, values: { [METRIC]: 100 + i } }), { qos: 1 })
  }
  await client.endAsync()
}

describe('housing-brain up on the embedded PostgreSQL', () => {
  it('after a kill -9 the next up stops the server left behind and keeps the data; Ctrl-C leaves no server', { timeout: 240_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'hb-embedded-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const cluster = path.join(dataDir, 'postgres')
    const track = (up: UpProcess) => {
      cleanups.push(() => up.kill9())
      return up
    }

    const first = track(await startUp(dataDir))
    expect(first.output()).toContain('embedded PostgreSQL')
    const id = 'el-embedded-1'
    const secret = (await registerElevators(first, [id])).get(id) ?? ''
    const fromTs = Date.now() - 60_000
    await publish(first, id, secret, fromTs, 20)
    expect(await storedTimestamps(first, id, METRIC, fromTs, fromTs + 20)).toHaveLength(20)

    // A second `up` on the same directory while the first runs is refused, and harms nothing.
    const second = await startUp(dataDir).then(
      (up) => up,
      (err: unknown) => err as Error,
    )
    expect(second).toBeInstanceOf(Error)
    expect((second as Error).message).toContain('in use by process')
    expect((await first.api('GET', '/health')).body).toMatchObject({ status: 'ok', engine: 'postgres' })
    // A short command beside it, as the README shows (`housing-brain users add`), uses its server
    // instead of being refused; the token it prints works on the running API at once.
    const added = await promisify(execFile)(process.execPath, [BIN, 'users', 'add', '--name', 'desk-2', '--role', 'operator'], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      timeout: 60_000,
    })
    const token = added.stdout.trim()
    expect(token).toMatch(/^hb_/)
    const me = await fetch(`http://127.0.0.1:${first.httpPort}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })
    expect(await me.json()).toMatchObject({ name: 'desk-2', role: 'operator' })
    expect(await serversOn(cluster)).toHaveLength(1)

    const [leftBehind] = await serversOn(cluster)
    expect(leftBehind).toBeDefined()
    await first.kill9()
    // Nothing stops it but the next start: the server outlives its killed parent.
    expect(await serversOn(cluster)).toEqual([leftBehind])

    const third = track(await startUp(dataDir))
    expect(third.output()).toContain('stopping the embedded PostgreSQL an earlier run left behind')
    const now = await serversOn(cluster)
    expect(now).toHaveLength(1)
    expect(now).not.toContain(leftBehind)
    // The readings acknowledged before the kill are there, and new ones are taken.
    expect(await storedTimestamps(third, id, METRIC, fromTs, fromTs + 20)).toHaveLength(20)
    await publish(third, id, secret, fromTs + 20, 5)
    expect(await storedTimestamps(third, id, METRIC, fromTs, fromTs + 25)).toHaveLength(25)

    expect(await third.interrupt()).toBe(0)
    // The server stopped with it (the check before the exit code returns may still see it exiting).
    await eventually(async () => ((await serversOn(cluster)).length === 0 ? true : undefined), 10_000, 'the embedded server to stop')
  })

  it('a DATA_DIR whose PGlite data predates the embedded server: it starts anew beside it, says so, and issues an admin token that works', { timeout: 240_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'hb-embedded-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const old = await startUp(dataDir, { EMBEDDED_DB: 'pglite' })
    cleanups.push(() => old.kill9())
    const oldToken = old.token
    expect(await old.interrupt()).toBe(0)

    const now = await startUp(dataDir)
    cleanups.push(() => now.kill9())
    expect(now.output()).toContain('holds the PGlite database of an earlier version')
    // The old token names a user of the other database: a new one is issued, shown, and works.
    expect(now.token).not.toBe(oldToken)
    expect(now.output()).toContain(now.token)
    expect((await now.api('GET', '/api/v1/devices?limit=1')).status).toBe(200)
    expect(await now.interrupt()).toBe(0)
  })
})
