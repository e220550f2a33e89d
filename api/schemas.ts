// Schema pieces shared by the routes. Request and response shapes are zod; the OpenAPI document
// is generated from them.
import { z } from 'zod'
import { parseDuration } from '../core/duration.ts'

/** An RFC 3339 time on the wire, a Date in the handler (decoded in requests, encoded in responses). */
export const timestamp = z.codec(z.iso.datetime({ offset: true }), z.date(), {
  decode: (s) => new Date(s),
  encode: (d) => d.toISOString(),
})

export const errorBody = z
  .object({
    code: z.string().describe('Stable machine-readable error code (see the error catalogue)'),
    message: z.string().describe('What went wrong and what to change'),
    details: z.unknown().optional(),
  })
  .describe('Error')

export const errorResponses = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
} as const

export const limitParam = z.coerce.number().int().min(1).max(1000).default(100)

/** "500ms", "30s", "5m", "1h", "1d" → milliseconds. */
export const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as 30s, 5m, 1h or 1d')
  .transform((s, ctx) => {
    const ms = parseDuration(s) ?? 0
    if (ms <= 0) ctx.addIssue({ code: 'custom', message: 'duration must be positive' })
    return ms
  })
