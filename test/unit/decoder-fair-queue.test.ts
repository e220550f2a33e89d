// The decoder sandbox's scheduling policy (core/decoders/fair-queue.ts) as pure state handed the
// time: profiles take turns, a looping one is served last and then suspended, and every queue
// refuses past its bound with a reason.
import { describe, expect, it } from 'vitest'
import { FairQueue, type FairQueueLimits, type QueuedRun } from '../../core/decoders/fair-queue.ts'

const LIMITS: FairQueueLimits = { maxQueued: 100, maxQueuedPerKey: 10, maxRunningPerKey: 1, suspendAfter: 3, suspendForMs: 60_000, maxTrackedKeys: 100 }
const T0 = Date.parse('2026-12-07T10:00:00Z')

interface Run extends QueuedRun {
  n: number
}
let n = 0
const run = (key: string, source = `src-${key}`): Run => ({ key, source, n: n++ })

function queueOf(limits: Partial<FairQueueLimits> = {}): FairQueue<Run> {
  return new FairQueue<Run>({ ...LIMITS, ...limits })
}

describe('the decoder fair queue', () => {
  it('lets profiles take turns, each on no more than its share of the workers', () => {
    const q = queueOf({ maxRunningPerKey: 1 })
    const [a1, a2, b1] = [run('a'), run('a'), run('b')]
    for (const r of [a1, a2, b1]) expect(q.offer(r, T0)).toBeUndefined()
    expect(q.take()).toBe(a1)
    // a already runs on its share: b goes next, and a's second waits for a's first to end.
    expect(q.take()).toBe(b1)
    expect(q.take()).toBeUndefined()
    q.done(a1, false, T0)
    expect(q.take()).toBe(a2)
    expect(q.size).toBe(0)
  })

  it('serves a profile whose last run used its whole budget only when no other waits', () => {
    const q = queueOf({ maxRunningPerKey: 2 })
    const loops = [run('loops'), run('loops'), run('loops')]
    for (const r of loops) q.offer(r, T0)
    const first = q.take()
    expect(first).toBe(loops[0])
    q.done(loops[0] as Run, true, T0)
    const good = run('good')
    q.offer(good, T0)
    expect(q.take()).toBe(good)
    expect(q.take()).toBe(loops[1])
  })

  it('suspends a profile after its runs used the whole budget 3 times in a row: its waiting runs fail at once, new ones are refused with the time, others go on', () => {
    const q = queueOf()
    const loops = Array.from({ length: 6 }, () => run('loops'))
    for (const r of loops) q.offer(r, T0)
    const other = run('other')
    q.offer(other, T0)
    for (let i = 0; i < 2; i++) {
      const r = q.take()
      expect(r?.key).toBe('loops')
      expect(q.done(r as Run, true, T0)).toBeUndefined()
      if (i === 0) expect(q.take()).toBe(other)
    }
    const third = q.take() as Run
    const suspended = q.done(third, true, T0 + 1000)
    const until = new Date(T0 + 1000 + 60_000).toISOString()
    expect(suspended?.reason).toBe(`decoder suspended until ${until}: it used its whole time budget 3 times in a row`)
    // The three that ran, and the three still waiting that fail: none lost.
    expect(suspended?.failed).toEqual(loops.slice(3))
    expect(q.size).toBe(0)
    expect(q.offer(run('loops'), T0 + 30_000)).toBe(`decoder suspended until ${until}: it used its whole time budget 3 times in a row`)
    expect(q.offer(run('other'), T0 + 30_000)).toBeUndefined()
  })

  it('tries a suspended profile again after the cool-off: over budget once more, suspended again; a run within budget clears it', () => {
    const q = queueOf({ maxRunningPerKey: 2 })
    for (let i = 0; i < 3; i++) {
      q.offer(run('loops'), T0)
      q.done(q.take() as Run, true, T0)
    }
    const later = T0 + 60_001
    expect(q.offer(run('loops'), later)).toBeUndefined()
    expect(q.done(q.take() as Run, true, later)?.reason).toMatch(/^decoder suspended until .*: it used its whole time budget 4 times in a row$/)
    const again = later + 60_001
    q.offer(run('loops'), again)
    expect(q.done(q.take() as Run, false, again)).toBeUndefined()
    q.offer(run('loops'), again)
    expect(q.done(q.take() as Run, true, again)).toBeUndefined()
  })

  it('does not hold an edited decoder to its predecessor’s suspension', () => {
    const q = queueOf()
    for (let i = 0; i < 3; i++) {
      q.offer(run('p', 'old'), T0)
      q.done(q.take() as Run, true, T0)
    }
    expect(q.offer(run('p', 'old'), T0)).toMatch(/^decoder suspended until/)
    expect(q.offer(run('p', 'fixed'), T0)).toBeUndefined()
  })

  it('refuses past its bounds, a profile’s own before the whole queue’s, with the reason', () => {
    const q = queueOf({ maxQueued: 5, maxQueuedPerKey: 3 })
    for (let i = 0; i < 3; i++) expect(q.offer(run('busy'), T0)).toBeUndefined()
    expect(q.offer(run('busy'), T0)).toBe('more than 3 payloads wait for this decoder')
    expect(q.offer(run('x'), T0)).toBeUndefined()
    expect(q.offer(run('y'), T0)).toBeUndefined()
    expect(q.offer(run('z'), T0)).toBe('more than 5 payloads wait for a decoder')
    expect(q.drain()).toHaveLength(5)
    expect(q.size).toBe(0)
  })

  it('remembers the over-budget runs of a bounded number of profiles, forgetting the oldest', () => {
    const q = queueOf({ maxTrackedKeys: 2, suspendAfter: 1 })
    for (const key of ['a', 'b', 'c']) {
      q.offer(run(key), T0)
      q.done(q.take() as Run, true, T0)
    }
    expect(q.offer(run('a'), T0)).toBeUndefined()
    expect(q.offer(run('c'), T0)).toMatch(/^decoder suspended until/)
  })
})
