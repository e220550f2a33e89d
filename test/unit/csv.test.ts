// The one CSV writer (api/csv.ts): fields quoted as RFC 4180 says and formulas neutralised, a
// filename that is not ASCII given as RFC 5987 `filename*` beside an ASCII one, and times with the
// offset of the office's zone (or UTC), exact to the second.
import { parse } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { attachment, csvField, csvLine, isoTime } from '../../api/csv.ts'

describe('CSV writer', () => {
  it('quotes what RFC 4180 requires and writes formulas as text, numbers as they are', () => {
    expect(csvField(null)).toBe('')
    expect(csvField(-3.5)).toBe('-3.5')
    expect(csvField('plain 物业')).toBe('plain 物业')
    expect(csvField('a, "b"\r\nc')).toBe('"a, ""b""\r\nc"')
    for (const start of ['=', '+', '-', '@', '\t']) expect(csvField(`${start}SUM(A1)`)).toBe(`'${start}SUM(A1)`)
    expect(csvField('\rSUM(A1)')).toBe(`"'\rSUM(A1)"`)
    const line = csvLine(['=HYPERLINK("x")', '北苑, "东区"', 7, null])
    expect(parse(line)).toEqual([[`'=HYPERLINK("x")`, '北苑, "东区"', '7', '']])
  })

  it('names the file in ASCII, and in UTF-8 too when the name is not ASCII', () => {
    expect(attachment('alerts-2026-10-01-2026-11-01.csv')).toBe('attachment; filename="alerts-2026-10-01-2026-11-01.csv"')
    expect(attachment('告警 10月.csv')).toBe(`attachment; filename="__ 10_.csv"; filename*=UTF-8''${encodeURIComponent('告警 10月.csv')}`)
  })

  it("writes times with the office's offset, or in UTC", () => {
    const at = new Date('2026-10-03T16:05:09.750Z')
    expect(isoTime(at, 'Asia/Shanghai')).toBe('2026-10-04T00:05:09+08:00')
    expect(isoTime(at, undefined)).toBe('2026-10-03T16:05:09Z')
    expect(isoTime(at, 'America/New_York')).toBe('2026-10-03T12:05:09-04:00')
    expect(isoTime(at, 'Asia/Kolkata')).toBe('2026-10-03T21:35:09+05:30')
    expect(isoTime(null, 'Asia/Shanghai')).toBeNull()
  })
})
