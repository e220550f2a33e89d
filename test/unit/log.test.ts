// CountedLog (core/log.ts): expected, handled events in bursts are one line per kind and interval
// with a count, without a stack trace; a flush writes what is open; the kinds held are bounded.
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CountedLog } from '../../core/log.ts'

let lines: Record<string, unknown>[] = []
const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) })

beforeEach(() => {
  lines = []
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('CountedLog', () => {
  it('writes a burst as one line with its count when the interval ends, at the level asked, without a stack', () => {
    const counted = new CountedLog(log, { level: 'warn', intervalMs: 10_000 })
    for (let i = 1; i <= 13; i++) counted.note('MQTT login refused: too many password checks at once', { clientId: `el-${i}`, err: undefined })
    vi.advanceTimersByTime(9_999)
    expect(lines).toEqual([])
    vi.advanceTimersByTime(1)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 40, count: 13, seconds: 10, clientId: 'el-13', msg: 'MQTT login refused: too many password checks at once (13× in 10 s)' })
    expect(JSON.stringify(lines[0])).not.toContain('stack')

    // The next event opens a new interval.
    counted.note('MQTT login refused: too many password checks at once')
    vi.advanceTimersByTime(10_000)
    expect(lines.map((l) => l.count)).toEqual([13, 1])
  })

  it('counts each kind apart, and flush() writes what is open at once', () => {
    const counted = new CountedLog(log, { level: 'info', intervalMs: 60_000 })
    counted.note('a')
    counted.note('b')
    counted.note('a')
    vi.advanceTimersByTime(3_000)
    counted.flush()
    expect(lines.map((l) => [l.msg, l.level])).toEqual([
      ['a (2× in 3 s)', 30],
      ['b (1× in 3 s)', 30],
    ])
    vi.advanceTimersByTime(60_000)
    expect(lines).toHaveLength(2)
  })

  it('holds at most maxKinds kinds; the rest are counted as "other events"', () => {
    const counted = new CountedLog(log, { level: 'info', intervalMs: 1_000, maxKinds: 2 })
    for (const kind of ['a', 'b', 'c', 'd', 'a']) counted.note(kind)
    vi.advanceTimersByTime(1_000)
    expect(lines.map((l) => [l.msg, l.count])).toEqual([
      ['a (2× in 1 s)', 2],
      ['b (1× in 1 s)', 1],
      ['other events (2× in 1 s)', 2],
    ])
  })
})
