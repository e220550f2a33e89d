// Who is on call at an instant: weekly rotations handed over at a local wall-clock time in the
// rota's timezone (Asia/Shanghai by default, which has no daylight saving; elsewhere a hand-over
// follows the local clock across a DST change), with overrides on top. Pure: the repository
// loads the rota and its overrides, this decides.

export interface RotaSpec {
  timezone: string
  /** `YYYY-MM-DD`: the date of the first hand-over, to members[0]. */
  startsOn: string
  /** `HH:MM` local time of every hand-over. */
  handoverTime: string
  members: readonly string[]
}

export interface Override {
  userId: string
  startsAt: Date
  endsAt: Date
  /** Later overrides win where they overlap. */
  createdAt: Date
}

export interface Shift {
  userId: string
  /** The hand-over that began this shift and the one that ends it (overrides cut them shorter). */
  from: Date
  to: Date
  override: boolean
}

const WEEK = 7 * 86_400_000

// Building an Intl formatter costs far more than using one, and an export converts every time of
// 50,000 rows: one formatter per zone, kept (there are only a few; the map is capped).
const FORMATS = new Map<string, Intl.DateTimeFormat>()

function formatIn(timezone: string): Intl.DateTimeFormat {
  let f = FORMATS.get(timezone)
  if (f === undefined) {
    if (FORMATS.size >= 16) FORMATS.clear()
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    FORMATS.set(timezone, f)
  }
  return f
}

/** Milliseconds the zone's wall clock is ahead of UTC at `t`. */
function offsetMs(timezone: string, t: number): number {
  const parts = formatIn(timezone).formatToParts(new Date(t))
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(t / 1000) * 1000
}

export function fromLocal(timezone: string, wallMs: number): number {
  const first = wallMs - offsetMs(timezone, wallMs)
  // A second pass settles the offset on the right side of a DST change.
  return wallMs - offsetMs(timezone, first)
}

export function toLocal(timezone: string, t: number): number {
  return t + offsetMs(timezone, t)
}

export function isTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/** The scheduled shift (no overrides) that contains `at`; before the first hand-over, none. */
export function scheduledShift(rota: RotaSpec, at: Date): Shift | undefined {
  const startWall = startWallOf(rota)
  const k = Math.floor((toLocal(rota.timezone, at.getTime()) - startWall) / WEEK)
  if (k < 0 || rota.members.length === 0) return undefined
  const userId = rota.members[k % rota.members.length]
  if (userId === undefined) return undefined
  return {
    userId,
    from: new Date(fromLocal(rota.timezone, startWall + k * WEEK)),
    to: new Date(fromLocal(rota.timezone, startWall + (k + 1) * WEEK)),
    override: false,
  }
}

/** Who is on call at `at`: the newest override covering it, else the scheduled member. */
export function onCallAt(rota: RotaSpec, overrides: readonly Override[], at: Date): Shift | undefined {
  const t = at.getTime()
  const covering = overrides
    .filter((o) => o.startsAt.getTime() <= t && t < o.endsAt.getTime())
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0]
  if (covering) return { userId: covering.userId, from: covering.startsAt, to: covering.endsAt, override: true }
  return scheduledShift(rota, at)
}

/**
 * Who is on call over [from, to): the shifts one after the other, overrides cut in, a gap where
 * nobody is (before the first hand-over). Cut at every hand-over and every override's start and
 * end, then runs of the same person merged: the set-up screen's timeline.
 */
export function shiftsBetween(rota: RotaSpec, overrides: readonly Override[], from: Date, to: Date): Shift[] {
  const cuts = new Set<number>([from.getTime(), to.getTime()])
  for (let t = from.getTime(), n = 0; t < to.getTime() && n < 1000; n++) {
    const s = scheduledShift(rota, new Date(t))
    // Before the first hand-over: the next cut is the first hand-over itself.
    const next = s ? s.to.getTime() : scheduledStart(rota)
    if (next <= t) break
    cuts.add(next)
    t = next
  }
  for (const o of overrides) cuts.add(o.startsAt.getTime()).add(o.endsAt.getTime())
  const points = [...cuts].filter((t) => t >= from.getTime() && t <= to.getTime()).sort((a, b) => a - b)
  const out: Shift[] = []
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i] as number
    const b = points[i + 1] as number
    const s = onCallAt(rota, overrides, new Date(a))
    if (!s) continue
    const last = out[out.length - 1]
    if (last && last.userId === s.userId && last.override === s.override && last.to.getTime() === a) last.to = new Date(b)
    else out.push({ userId: s.userId, from: new Date(a), to: new Date(b), override: s.override })
  }
  return out
}

/** The first hand-over on the rota's wall clock (ms as if UTC). */
function startWallOf(rota: RotaSpec): number {
  const [h, m] = rota.handoverTime.split(':').map(Number)
  return Date.parse(`${rota.startsOn}T00:00:00Z`) + ((h ?? 0) * 60 + (m ?? 0)) * 60_000
}

/** The instant of the first hand-over. */
function scheduledStart(rota: RotaSpec): number {
  return fromLocal(rota.timezone, startWallOf(rota))
}
