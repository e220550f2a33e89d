// The one CSV writer of the API: the ranking, the import's device secrets and the alert and audit
// exports all leave through `sendCsv`, so every file a user opens is written the same way.
//
// - UTF-8 with a byte-order mark (U+FEFF) first. Excel on a Chinese Windows opens a CSV without
//   one in the system code page (GBK), and every company and community name comes out as
//   mojibake; with it, Excel, WPS, LibreOffice and Numbers all read UTF-8. Our own import reads
//   it back (csv-parse `bom: true`).
// - RFC 4180: CRLF line ends; a field holding a comma, quote or line break is quoted, its quotes
//   doubled.
// - OWASP "CSV Injection": a text a spreadsheet would run as a formula gets a leading apostrophe.
// - `Content-Disposition: attachment` with an ASCII filename, plus `filename*` (RFC 6266 §4.3,
//   RFC 5987 encoding) when the name is not ASCII.
// - Rows may come from an async iterable (an export paging through its repository): they are
//   written as they come, in chunks of about CHUNK_CHARS, so a large file never sits in memory.
import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { toLocal } from '../notify/rota.ts'

export type CsvCell = string | number | null

/** The byte-order mark every file starts with. */
export const BOM = '\uFEFF'

/** Characters collected before a chunk goes out (a few hundred rows). */
const CHUNK_CHARS = 64 * 1024

/**
 * RFC 4180: quote fields holding a comma, quote or line break; double inner quotes. A text that
 * a spreadsheet would run as a formula (starting with = + - @, tab or carriage return; OWASP,
 * "CSV Injection") gets a leading apostrophe, so a company named `=HYPERLINK(...)` stays text.
 * Numbers are written as they are (a negative number is a number, not a formula).
 */
export function csvField(v: CsvCell): string {
  if (v === null) return ''
  const s = typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : String(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/**
 * ISO 8601 to the second with the offset of `timeZone` ("2026-11-03T14:05:09+08:00"), or UTC
 * ("…Z") without one: a reader in the office sees its own wall clock and the instant stays exact.
 */
export function isoTime(at: Date | null, timeZone: string | undefined): string | null {
  if (at === null) return null
  const t = at.getTime()
  if (timeZone === undefined) return `${new Date(t).toISOString().slice(0, 19)}Z`
  const offset = toLocal(timeZone, t) - t
  const minutes = Math.round(Math.abs(offset) / 60_000)
  const sign = offset < 0 ? '-' : '+'
  const hhmm = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
  return `${new Date(t + offset).toISOString().slice(0, 19)}${sign}${hhmm}`
}

export const csvLine = (cells: readonly CsvCell[]): string => `${cells.map(csvField).join(',')}\r\n`

/** `attachment; filename="…"`, with `filename*` (UTF-8, percent-encoded) for a name that is not ASCII. */
export function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_')
  if (ascii === filename) return `attachment; filename="${filename}"`
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

async function* chunks(header: readonly string[], rows: Iterable<readonly CsvCell[]> | AsyncIterable<readonly CsvCell[]>): AsyncGenerator<string> {
  let out = BOM + csvLine(header)
  for await (const row of rows) {
    out += csvLine(row)
    if (out.length >= CHUNK_CHARS) {
      yield out
      out = ''
    }
  }
  if (out !== '') yield out
}

export interface CsvOptions {
  /** Default 200; the import answers 201. */
  status?: number
  /** `cache-control: no-store`, for a file holding secrets. */
  noStore?: boolean
}

/**
 * Sends a CSV file: BOM, header row, rows. A failure while rows are still coming (the database
 * gone mid-export) aborts the response, so the download fails rather than ending as a file that
 * looks complete.
 */
export function sendCsv(
  reply: FastifyReply,
  filename: string,
  header: readonly string[],
  rows: Iterable<readonly CsvCell[]> | AsyncIterable<readonly CsvCell[]>,
  opts: CsvOptions = {},
): FastifyReply {
  reply.code(opts.status ?? 200).type('text/csv; charset=utf-8').header('content-disposition', attachment(filename))
  if (opts.noStore) reply.header('cache-control', 'no-store')
  return reply.send(Readable.from(chunks(header, rows), { objectMode: false }))
}
