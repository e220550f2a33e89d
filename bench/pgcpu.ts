// CPU time of the PostgreSQL processes serving the bench (its backends plus the shared background
// writers), read from /proc. Only possible when the server runs on this machine; otherwise the
// report shows "–" and the remainder is counted as "other".
import { readFile } from 'node:fs/promises'
import type { Db } from '../core/db/client.ts'

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every mainstream Linux build. */
const TICK_MS = 10

export interface PgCpuSample {
  /** CPU ms per pid. */
  byPid: Map<number, number>
}

/** The bench database's backends and the background processes (datname NULL), minus other databases' backends. */
async function pids(db: Db): Promise<number[]> {
  const rows = await db.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR datname IS NULL',
  )
  return rows.map((r) => r.pid)
}

async function cpuMsOf(pid: number): Promise<number | undefined> {
  try {
    // A server in a container reports pids of another namespace: only count real postgres processes.
    if (!(await readFile(`/proc/${pid}/comm`, 'utf8')).startsWith('postgres')) return undefined
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return undefined
  }
}

/** Undefined when the server is not local (or not PostgreSQL): its processes are not visible here. */
export async function samplePgCpu(db: Db, local: boolean): Promise<PgCpuSample | undefined> {
  if (!local || db.engine !== 'postgres' || process.platform !== 'linux') return undefined
  const byPid = new Map<number, number>()
  for (const pid of await pids(db)) {
    const ms = await cpuMsOf(pid)
    if (ms !== undefined) byPid.set(pid, ms)
  }
  return byPid.size > 0 ? { byPid } : undefined
}

/** CPU ms used between two samples; a process that appeared in between counts from zero. */
export function pgCpuMsBetween(a: PgCpuSample | undefined, b: PgCpuSample | undefined): number | undefined {
  if (!a || !b) return undefined
  let ms = 0
  for (const [pid, t] of b.byPid) ms += t - (a.byPid.get(pid) ?? 0)
  return ms
}
