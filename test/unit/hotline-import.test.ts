// Reading a hotline export without a database: times as the hotline writes them (China Standard
// Time unless an offset says otherwise, dates the calendar does not have refused) and the header.
import { describe, expect, it } from 'vitest'
import { parseCaseTime, readHotlineCsv } from '../../api/hotline/import.ts'

describe('hotline import', () => {
  it('reads local times as China Standard Time and honours an explicit offset', () => {
    expect(parseCaseTime('2026-11-03 14:05')?.toISOString()).toBe('2026-11-03T06:05:00.000Z')
    expect(parseCaseTime('2026/1/3 0:05:09')?.toISOString()).toBe('2026-01-02T16:05:09.000Z')
    expect(parseCaseTime('2026-11-03T14:05:00+08:00')?.toISOString()).toBe('2026-11-03T06:05:00.000Z')
    // ISO without an offset is local too.
    expect(parseCaseTime('2026-11-03T14:05:00')?.toISOString()).toBe('2026-11-03T06:05:00.000Z')
    expect(parseCaseTime('2026-11-03T06:05:00Z')?.toISOString()).toBe('2026-11-03T06:05:00.000Z')
  })

  it('refuses what is not a time or not on the calendar', () => {
    for (const bad of ['2026-02-30 09:00', '2026-11-03', '2026-11-03 24:00', '0099-01-01 00:00', 'yesterday', '2026-11-03 14:05+8']) {
      expect(parseCaseTime(bad), bad).toBeUndefined()
    }
  })

  it('checks the header: required columns, unknown ones named with the list', () => {
    expect(readHotlineCsv('case_no,community,colour\nHL-1,cm-a,red').problems.map((p) => [p.column, p.code])).toEqual([
      ['colour', 'unknown_column'],
      ['received_at', 'column_required'],
    ])
    expect(readHotlineCsv('case_no,received_at,community\n').problems.map((p) => p.code)).toEqual(['no_cases'])
  })
})
