// Chaos: `kill -9` of the all-in-one process (`housing-brain up`, on PostgreSQL) while devices
// push over the three HTTP paths — the device API, OneNET's signed push and CTWing's subscription
// push — each reading with a timestamp of its own (its sequence number). The receivers answer 200
// only after the commit, so whatever was answered 200 must be stored, exactly once, when `up` is
// started again; what was pushed but not answered is the platform's to resend.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { pushRequests, sendPush, type HttpTarget, type HttpVia } from '../../simulators/index.ts'
import { createTestDatabase, eventually, hasPostgres } from '../helpers/services.ts'
import { DEMO_COMMUNITY, startUp, storedTimestamps, type UpProcess } from '../helpers/up-process.ts'

const pgUp = await hasPostgres()
const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

const ONENET = 'chaos-onenet-token'
const CTWING = 'chaos-ctwing-token'
const METRIC = 'water_level_m'
/** Pushes answered 200 per pusher before the kill, so it lands while requests are in flight. */
const ANSWERED_BEFORE_KILL = 30

/** One device pushing readings with ts = baseTs + seq, one request at a time, until stopped. */
class Pusher {
  readonly answered = new Set<number>()
  sent = 0
  private running = true
  private loop: Promise<void> | undefined

  constructor(
    readonly via: HttpVia,
    readonly id: string,
    private readonly secret: string,
    private readonly target: HttpTarget,
    private readonly baseTs: number,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        const seq = this.sent++
        const [req] = pushRequests(this.target, this.id, this.secret, [{ ts: this.baseTs + seq, values: { [METRIC]: (seq % 3000) / 100 } }])
        if (!req) return
        const status = await sendPush(req, 10_000)
        if (status === 200) this.answered.add(seq)
        else if (status === 0) return // The server is gone: the connection died with it.
      }
    })()
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
  }
}

describe('chaos: kill -9 of housing-brain up while devices push over HTTP', () => {
  it.skipIf(!pgUp)('on PostgreSQL: every push answered 200 on the device API, OneNET and CTWing is stored exactly once after the restart', { timeout: 180_000 }, async () => {
    const tdb = await createTestDatabase()
    cleanups.push(tdb.drop)
    const dataDir = await mkdtemp(path.join(tmpdir(), 'hb-chaos-http-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const env = { DATABASE_URL: tdb.url, ONENET_PUSH_TOKEN: ONENET, CTWING_PUSH_TOKEN: CTWING }
    const track = (up: UpProcess) => {
      cleanups.push(() => up.kill9())
      return up
    }
    const first = track(await startUp(dataDir, env))
    const target = (via: HttpVia): HttpTarget => ({ via, baseUrl: `http://127.0.0.1:${first.httpPort}`, onenetToken: ONENET, ctwingToken: CTWING })
    const baseTs = Date.now() - 10 * 60_000
    const pushers: Pusher[] = []
    for (const via of ['http', 'onenet', 'ctwing'] as const) {
      for (let n = 1; n <= 2; n++) {
        const id = `chaos-${via}-${n}`
        // The simulated platforms name the device by id (no IMEI), which it must allow.
        const res = await first.api('POST', '/api/v1/devices', { id, kind: 'fire_tank', communityId: DEMO_COMMUNITY, platformIdFallback: via !== 'http' })
        const secret = (res.body as { secret?: string }).secret
        if (res.status !== 201 || !secret) throw new Error(`registering ${id}: HTTP ${res.status} ${JSON.stringify(res.body)}`)
        pushers.push(new Pusher(via, id, secret, target(via), baseTs))
      }
    }
    for (const p of pushers) p.start()
    await eventually(() => (pushers.every((p) => p.answered.size >= ANSWERED_BEFORE_KILL) ? true : undefined), 60_000, 'every pusher to be answered')
    await first.kill9()
    for (const p of pushers) await p.stop()

    const second = track(await startUp(dataDir, env))
    const problems: string[] = []
    for (const p of pushers) {
      const stored = await storedTimestamps(second, p.id, METRIC, baseTs, baseTs + p.sent + 1)
      const seqs = stored.map((ts) => ts - baseTs)
      const unique = new Set(seqs)
      const missing = [...p.answered].filter((s) => !unique.has(s))
      const foreign = seqs.filter((s) => s < 0 || s >= p.sent)
      console.log(`chaos kill -9 over ${p.via} (${p.id}): pushed ${p.sent}, answered 200 ${p.answered.size}, stored ${stored.length} (${p.answered.size - missing.length} of the answered, ${stored.length - (p.answered.size - missing.length)} unanswered but committed)`)
      if (missing.length > 0) problems.push(`${p.id}: ${missing.length} pushes answered 200 are missing (seq ${missing.slice(0, 10).join(', ')})`)
      if (unique.size !== seqs.length) problems.push(`${p.id}: ${seqs.length - unique.size} readings stored more than once`)
      if (foreign.length > 0) problems.push(`${p.id}: rows no push explains: seq ${foreign.slice(0, 10).join(', ')}`)
    }
    expect(problems).toEqual([])
    expect(await second.interrupt()).toBe(0)
  })
})
