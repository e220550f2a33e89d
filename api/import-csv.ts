// Reading a CSV import (devices, hotline cases): the header checked against the columns the import
// knows, each row's cells by column name, and every problem that stops the file being read at all,
// as coded row problems (shared/import-text.ts). What a row means is each import's own business.
//
// The file: UTF-8 (a BOM, as Excel writes one, is fine), a header row naming the columns in any
// order (case-insensitive), one record a row. Parsing is csv-parse's (RFC 4180 quoting, CRLF or
// LF). Row numbers are the file's line numbers, the header being row 1, as a spreadsheet numbers them.
import { parse, type CsvError } from 'csv-parse/sync'
import { importMessage, type Coded, type ImportProblemCode } from '../shared/import-text.ts'

export type RowProblem = {
  /** Line of the file (the header is row 1), or the 1-based index of a JSON array's item. */
  row: number
  /** The column (or JSON field) the problem is in, or empty for the whole row. */
  column: string
  /** The English text of `code` with `params`. */
  message: string
} & Coded<ImportProblemCode>

/** A problem at `row`, `column` (empty: the whole row), its text rendered from its code. */
export function rowProblem(row: number, column: string, coded: Coded<ImportProblemCode>): RowProblem {
  return { row, column, ...coded, message: importMessage('en', coded) }
}

export interface CsvRow<C extends string> {
  line: number
  cells: Partial<Record<C, string>>
}

export interface CsvSpec<C extends string> {
  columns: readonly C[]
  required: readonly C[]
  maxRows: number
  /** What to say of a header with no rows under it. */
  empty: Coded<ImportProblemCode>
  /** What to say of a file with more than maxRows rows. */
  tooMany: (rows: number, max: number) => Coded<ImportProblemCode>
}

/** The file's rows by column name, or the problems that stop it being read at all. */
export function readCsvTable<C extends string>(text: string, spec: CsvSpec<C>): { rows: CsvRow<C>[]; problems: RowProblem[] } {
  const columnsText = spec.columns.join(', ')
  let records: { record: string[]; info: { lines: number } }[]
  try {
    // With `info`, each record comes with where it ended in the file (the typings miss that shape).
    records = parse(text, { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true, max_record_size: 64 * 1024 }) as unknown as typeof records
  } catch (err) {
    const e = err as CsvError & { lines?: number }
    // csv-parse's code (CSV_QUOTE_NOT_CLOSED …) lets a client explain the mistake in its own words.
    const reason: unknown = e.code
    return { rows: [], problems: [rowProblem(e.lines ?? 0, '', { code: 'csv_invalid', params: { detail: e.message, reason: typeof reason === 'string' ? reason : '' } })] }
  }
  const [head, ...body] = records
  if (!head) return { rows: [], problems: [rowProblem(1, '', { code: 'file_empty', params: { columns: columnsText } })] }
  const problems: RowProblem[] = []
  const names = head.record.map((h) => h.toLowerCase())
  const seen = new Set<string>()
  for (const name of names) {
    if (!(spec.columns as readonly string[]).includes(name)) problems.push(rowProblem(1, name, { code: 'unknown_column', params: { column: name, columns: columnsText } }))
    else if (seen.has(name)) problems.push(rowProblem(1, name, { code: 'column_twice', params: { column: name } }))
    seen.add(name)
  }
  for (const name of spec.required) if (!seen.has(name)) problems.push(rowProblem(1, name, { code: 'column_required', params: { column: name, required: spec.required.join(', ') } }))
  if (problems.length > 0) return { rows: [], problems }
  if (body.length === 0) return { rows: [], problems: [rowProblem(2, '', spec.empty)] }
  if (body.length > spec.maxRows) return { rows: [], problems: [rowProblem(spec.maxRows + 2, '', spec.tooMany(body.length, spec.maxRows))] }
  const rows = body.map(({ record, info }): CsvRow<C> => {
    const cells: Partial<Record<C, string>> = {}
    names.forEach((name, i) => {
      const v = record[i]
      if (v !== undefined && v !== '') cells[name as C] = v
    })
    if (record.length > names.length) problems.push(rowProblem(info.lines, '', { code: 'cell_count', params: { cells: record.length, columns: names.length } }))
    return { line: info.lines, cells }
  })
  return { rows, problems }
}
