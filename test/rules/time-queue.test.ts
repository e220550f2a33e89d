// The evaluators' time-ordered queue (rules/evaluators/shared.ts): items stay in time order
// whatever order they come in, the cap drops the oldest, and dropping from the front keeps order
// across the internal compaction.
import { describe, expect, it } from 'vitest'
import { TimeQueue } from '../../rules/evaluators/shared.ts'

const q = (cap?: number) => new TimeQueue<{ t: number; n: number }>((x) => x.t, cap)

describe('TimeQueue', () => {
  it('keeps items in time order, a late one slotted in after those of its time', () => {
    const tq = q()
    for (const [t, n] of [[10, 1], [30, 2], [20, 3], [30, 4], [5, 5]] as const) tq.push({ t, n })
    expect(tq.all.map((x) => x.n)).toEqual([5, 1, 3, 2, 4])
    expect([tq.first?.n, tq.last?.n, tq.at(2)?.n, tq.at(-1), tq.at(5)]).toEqual([5, 4, 3, undefined, undefined])
  })

  it('drops the oldest beyond its cap and returns it', () => {
    const tq = q(3)
    expect([1, 2, 3].map((t) => tq.push({ t, n: t }))).toEqual([undefined, undefined, undefined])
    expect(tq.push({ t: 4, n: 4 })).toEqual({ t: 1, n: 1 })
    expect(tq.all.map((x) => x.t)).toEqual([2, 3, 4])
  })

  it('stays in order through many pushes and drops from the front (the compaction included)', () => {
    const tq = q()
    const kept: number[] = []
    for (let t = 0; t < 10_000; t++) {
      tq.push({ t, n: t })
      kept.push(t)
      if (t % 3 === 0) {
        tq.dropThrough(t - 500)
        while ((kept[0] ?? Infinity) <= t - 500) kept.shift()
      }
    }
    expect(tq.size).toBe(kept.length)
    expect(tq.all.map((x) => x.t)).toEqual(kept)
    while (tq.size > 0) tq.shift()
    expect([tq.first, tq.last, tq.shift()]).toEqual([undefined, undefined, undefined])
  })
})
