// How every import answers a refusal (api/routes/device-import.ts, api/routes/hotline.ts): 422
// import_rejected with each problem of each row (row, column, code, params, message), or a request
// refused whole with the catalogue's code and the import's own in `details` — both from the codes
// of shared/import-text.ts, so the console can word them in the operator's language.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { AppError } from '../core/errors.ts'
import { IMPORT_PROBLEM_CODES, IMPORT_REFUSAL_CODES, importMessage, type Coded, type ImportRefusalCode } from '../shared/import-text.ts'
import { errorBody } from './schemas.ts'
import type { RowProblem } from './import-csv.ts'

/** Problems listed in one answer; past it the message says how many more there are. */
export const IMPORT_MAX_REPORTED = 1000

export const kb = (n: number) => `${Math.round(n / 1024)} KB`

const params = z.record(z.string(), z.union([z.string(), z.number()])).describe('The values the text of the code interpolates, by name')

const rowProblem = z.object({
  row: z.number().int().describe('Line of the file; the header is row 1'),
  column: z.string().describe('The column, or empty for the whole row'),
  code: z.enum(IMPORT_PROBLEM_CODES).describe('What is wrong, as a stable code: clients render their own text from it and params'),
  params,
  message: z.string().describe('What is wrong and what to change, in English (rendered from code and params)'),
})

export const rejected = z.object({
  code: z.string(),
  message: z.string(),
  details: z.object({ problems: z.array(rowProblem), total: z.number().int().describe('Problems found; at most 1,000 are listed') }).optional(),
})

/** A whole file refused: the catalogue's `code`, and the import's own in `details`. */
export const refused = errorBody.extend({
  details: z.object({ code: z.enum(IMPORT_REFUSAL_CODES).describe('Why the file was refused, as a stable code'), params }).optional(),
}).describe('Error; for a file refused whole, details say why as a code and params')

export function refuseFile(status: 'validation_failed' | 'payload_too_large' | 'conflict', coded: Coded<ImportRefusalCode>): AppError {
  return new AppError(status, importMessage('en', coded), coded)
}

/** 422 with every problem (up to IMPORT_MAX_REPORTED), sorted by row. */
export function refuse(problems: RowProblem[]): AppError {
  const sorted = [...problems].sort((a, b) => a.row - b.row)
  const rows = new Set(sorted.map((p) => p.row)).size
  const shown = sorted.slice(0, IMPORT_MAX_REPORTED)
  const more = sorted.length > shown.length ? ` (the first ${shown.length} are listed)` : ''
  return new AppError('import_rejected', `${sorted.length} problem${sorted.length === 1 ? '' : 's'} in ${rows} row${rows === 1 ? '' : 's'}${more}; nothing was imported. Fix them and send the file again`, {
    problems: shown,
    total: sorted.length,
  })
}

/** In the calling plugin only: a body is CSV text, at most `maxBytes`, decoded strictly as UTF-8. */
export function takeCsvBodies(app: Pick<FastifyInstance, 'removeAllContentTypeParsers' | 'addContentTypeParser'>, maxBytes: number): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('text/csv', { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body: Buffer, done) => {
    try {
      done(null, new TextDecoder('utf-8', { fatal: true }).decode(body))
    } catch {
      done(refuseFile('validation_failed', { code: 'not_utf8', params: {} }))
    }
  })
}

const CSV_TYPE = 'Send the file itself as the body with Content-Type: text/csv (UTF-8)'

/** An onRequest hook refusing a wrong type or an announced oversize body before it is read, saying what to send. */
export function csvOnly(maxBytes: number, tooLarge: (length: number) => Coded<ImportRefusalCode>) {
  return async (req: FastifyRequest): Promise<void> => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
    if (type !== 'text/csv') throw new AppError('unsupported_media_type', CSV_TYPE)
    const length = Number(req.headers['content-length'] ?? 0)
    if (length > maxBytes) throw refuseFile('payload_too_large', tooLarge(length))
  }
}
