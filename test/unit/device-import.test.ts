// Reading an import file as a spreadsheet user writes one (api/devices/import.ts): Excel's BOM and
// CRLF, quoted commas, headers in any case and order, and the mistakes that stop a file being read
// at all, each with its row. And the secrets handed out in the import's CSV: none that a spreadsheet
// or a shell would take for something else.
import { describe, expect, it } from 'vitest'
import { readCsv } from '../../api/devices/import.ts'
import { generateSecret } from '../../core/secrets.ts'

describe('reading a device import file', () => {
  it('reads cells by column name whatever the order, case, BOM, line ends and quoting', () => {
    const { rows, problems } = readCsv('\uFEFFKind, ID ,Community,Name\r\nmanhole,mh-1,cm-a,"Cover 1, east gate"\r\n\r\nelevator,el-1,cm-a,\r\n')
    expect(problems).toEqual([])
    expect(rows).toEqual([
      { line: 2, cells: { kind: 'manhole', id: 'mh-1', community: 'cm-a', name: 'Cover 1, east gate' } },
      { line: 4, cells: { kind: 'elevator', id: 'el-1', community: 'cm-a' } },
    ])
  })

  it('names the row of an unclosed quote and of a row with more cells than the header', () => {
    // The row where the quote opens.
    expect(readCsv('id,kind,community\nmh-1,manhole,"cm-a\n').problems).toEqual([{ row: 2, column: '', code: 'csv_invalid', params: expect.anything() as object, message: expect.stringContaining('the file is not valid CSV') as string }])
    expect(readCsv('id,kind,community,name\nmh-1,manhole,cm-a,Cover 1, east gate\n').problems).toEqual([
      { row: 2, column: '', code: 'cell_count', params: { cells: 5, columns: 4 }, message: 'the row has 5 cells, the header 4 (a comma in a name needs the name in double quotes)' },
    ])
  })

  it('refuses an empty file and a header without a device', () => {
    expect(readCsv('').problems[0]?.message).toContain('the file is empty')
    expect(readCsv('id,kind,community\n').problems).toEqual([{ row: 2, column: '', code: 'no_devices', params: {}, message: 'the file names the columns but lists no device' }])
  })
})

describe('device secrets', () => {
  it('start with a letter or digit, never a dash a shell or spreadsheet would misread', () => {
    const firsts = new Set(Array.from({ length: 5000 }, () => generateSecret()[0]))
    expect([...firsts].filter((c) => !/[A-Za-z0-9]/.test(c ?? ''))).toEqual([])
    // Still drawn from the whole alphabet otherwise.
    expect(firsts.size).toBeGreaterThan(50)
  })
})
