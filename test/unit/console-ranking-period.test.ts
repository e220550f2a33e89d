// The ranking's period picker (console/src/views/ranking-period.ts): each choice as the evaluation
// API's from/to, in the browser's calendar (here the test process's zone).
import { describe, expect, it } from 'vitest'
import { periodQuery, type PeriodChoice } from '../../console/src/views/ranking-period.ts'

const now = new Date(2026, 2, 15, 10, 30) // 15 March 2026, 10:30 local
const range = (c: Partial<PeriodChoice> & Pick<PeriodChoice, 'kind'>) => {
  const q = periodQuery({ from: '', to: '', ...c }, now)
  if (q === null || q === '') return q
  const p = new URLSearchParams(q.slice(1))
  return { from: new Date(p.get('from') ?? ''), to: new Date(p.get('to') ?? '') }
}

describe('ranking periods', () => {
  it('the last 30 days is the API default; months run from the 1st at midnight', () => {
    expect(range({ kind: 'last30' })).toBe('')
    expect(range({ kind: 'thisMonth' })).toEqual({ from: new Date(2026, 2, 1), to: now })
    expect(range({ kind: 'lastMonth' })).toEqual({ from: new Date(2026, 1, 1), to: new Date(2026, 2, 1) })
    expect(range({ kind: 'last3Months' })).toEqual({ from: new Date(2025, 11, 15, 10, 30), to: now })
  })

  it('a custom range includes its last day; an unfinished one is the default, a reversed one refused', () => {
    expect(range({ kind: 'custom', from: '2026-01-05', to: '2026-01-05' })).toEqual({ from: new Date(2026, 0, 5), to: new Date(2026, 0, 6) })
    expect(range({ kind: 'custom', from: '2026-01-05' })).toBe('')
    expect(range({ kind: 'custom', from: '2026-01-06', to: '2026-01-05' })).toBeNull()
  })
})
